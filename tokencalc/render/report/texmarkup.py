"""Text to LaTeX for the report: escaped, with the model's symbols in math and quantities in siunitx.

Every string is escaped with `render.latex.latex_escape` (so `\\input{...}`, `$`,
`%`, braces from a profile stay text); characters pdflatex cannot typeset from
UTF-8 (Greek, arrows, math symbols) become their LaTeX commands, anything else
outside Latin-1 its closest ASCII (or `[U+XXXX]`). tokencalc's own strings also
get their symbols typeset (`K_eff` -> $K_\\mathrm{eff}$) and their quantities
written with siunitx v3 (`83.0 ktoken/s` -> `\\qty{83.0}{\\kilo\\token\\per\\second}`,
`22.3 quadrillion` -> `\\num{22.3e15}`, `$156 B` -> `\\$\\num{156}~billion`); a
profile's prose is only escaped, its `backtick` spans set in `\\texttt`.
"""

from __future__ import annotations

import re
import unicodedata

from ..latex import latex_escape

# Units the report writes that siunitx does not know (declared at the top of the .tex).
UNIT_DECLARATIONS = (r"\DeclareSIUnit\token{token}", r"\DeclareSIUnit\flop{FLOP}", r"\DeclareSIUnit\usd{USD}",
                     r"\DeclareSIUnit\cotwoe{CO\textsubscript{2}e}")

PREFIX = {"Y": r"\yotta", "Z": r"\zetta", "E": r"\exa", "P": r"\peta", "T": r"\tera", "G": r"\giga",
          "M": r"\mega", "k": r"\kilo", "m": r"\milli", "µ": r"\micro", "μ": r"\micro", "n": r"\nano",
          "p": r"\pico", "f": r"\femto"}
BASE = {"token": (r"\token",), "FLOP": (r"\flop",), "J": (r"\joule",), "W": (r"\watt",), "Wh": (r"\watt", r"\hour"),
        "B": (r"\byte",), "s": (r"\second",), "tCO2e": (r"\tonne", r"\cotwoe"), "gCO2e": (r"\gram", r"\cotwoe"),
        "USD": (r"\usd",), "h": (r"\hour",)}
WORDS = {"thousand": 3, "million": 6, "billion": 9, "trillion": 12, "quadrillion": 15, "quintillion": 18}
MONEY = {"B": "billion", "M": "million"}

_NUM = r"-?\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?"
_UNIT_PIECE = r"(?:[YZEPTGMkmµμnpf]?(?:token|FLOP|Wh|W|J|B|s|[tg]CO2e|USD|h))"
_QUANTITY = re.compile(
    rf"(?P<money>\$(?P<mnum>{_NUM})(?: (?P<mscale>[BM])\b)?)"
    rf"|(?<![\w.,])(?P<cnum>{_NUM}) (?P<word>{'|'.join(WORDS)})\b"
    rf"|(?<![\w.,])(?P<qnum>{_NUM}) (?P<unit>%|days?|years?|tokens|{_UNIT_PIECE}(?:/{_UNIT_PIECE})*)(?![\w/])"
    r"|(?<![A-Za-z])(?P<sym>γ\*|γ|η|Φ|K|c|e|P|f)_(?P<sub>eff|tok|IT|peak|facility|ref|K|E|P|c|e)\b"
    r"|(?P<bare>γ\*|Q̇|Q\(T\)|(?<![\w.])U(?![\w.]))")
_SYMBOL = {"γ*": r"\gamma^*", "γ": r"\gamma", "η": r"\eta", "Φ": r"\Phi", "Q̇": r"\dot{Q}", "Q(T)": "Q(T)", "U": "U"}
_CODE = re.compile(r"`([^`\n]+)`")

_CHARS = {
    "±": r"\ensuremath{\pm}", "×": r"\ensuremath{\times}", "·": r"\ensuremath{\cdot}", "−": r"\ensuremath{-}",
    "≤": r"\ensuremath{\leq}", "≥": r"\ensuremath{\geq}", "≈": r"\ensuremath{\approx}", "≠": r"\ensuremath{\neq}",
    "→": r"\ensuremath{\rightarrow}", "←": r"\ensuremath{\leftarrow}", "↔": r"\ensuremath{\leftrightarrow}",
    "⇒": r"\ensuremath{\Rightarrow}", "∞": r"\ensuremath{\infty}", "√": r"\ensuremath{\surd}",
    "∑": r"\ensuremath{\sum}", "∝": r"\ensuremath{\propto}", "∼": r"\ensuremath{\sim}", "≪": r"\ensuremath{\ll}",
    "≫": r"\ensuremath{\gg}", "µ": r"\ensuremath{\mu}", "°": r"\ensuremath{^\circ}", "—": "---", "–": "--",
    "…": r"\ldots{}", "‘": "`", "’": "'", "“": "``", "”": "''", "•": r"\ensuremath{\bullet}",
    "²": r"\ensuremath{^2}", "³": r"\ensuremath{^3}", "¹": r"\ensuremath{^1}", "\u00a0": "~", "\u2009": r"\,",
    "\u202f": r"\,", "\u200b": "", "\u00ad": "", "★": r"\ensuremath{\star}", "✓": "yes", "✗": "no",
}


_LATIN_CAPITALS = {"Alpha": "A", "Beta": "B", "Epsilon": "E", "Zeta": "Z", "Eta": "H", "Iota": "I", "Kappa": "K",
                   "Mu": "M", "Nu": "N", "Omicron": "O", "Rho": "P", "Tau": "T", "Chi": "X"}


def _greek(ch: str) -> str | None:
    """A Greek letter as its math command (capitals that look Latin as the Latin letter)."""
    m = re.fullmatch(r"GREEK (SMALL|CAPITAL) LETTER ([A-Z]+)", unicodedata.name(ch, ""))
    if not m:
        return None
    word = {"LAMDA": "lambda"}.get(m.group(2), m.group(2).lower())
    if m.group(1) == "CAPITAL":
        word = word.capitalize()
        if word in _LATIN_CAPITALS:
            return _LATIN_CAPITALS[word]
    elif word == "omicron":
        return "o"
    return rf"\ensuremath{{\{word}}}"


def _char(ch: str) -> str:
    """One non-ASCII character as something pdflatex typesets from any input encoding setup."""
    if ch in _CHARS:
        return _CHARS[ch]
    greek = _greek(ch)
    if greek is not None:
        return greek
    if unicodedata.category(ch).startswith("L") and ord(ch) <= 0x17F:
        return ch  # Latin-1 / Latin Extended-A letters: utf8 inputenc (T1 fonts) handles them
    if unicodedata.category(ch) == "Mn":
        return ""  # a combining mark alone (its base letter stays)
    ascii_ = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode("ascii")
    return latex_escape(ascii_) if ascii_.strip() else f"[U+{ord(ch):04X}]"


_ASCII = {"<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}  # the same in any font encoding


def _escape(text: str) -> str:
    out = latex_escape(str(text))
    return "".join(_ASCII.get(c, c) if ord(c) < 128 else _char(c) for c in out)


def escape(text: str) -> str:
    """Plain text for LaTeX: whitespace collapsed, specials escaped, non-ASCII made safe (see the module docstring)."""
    return _escape(" ".join(str(text).split()))


def prose(text: str) -> str:
    """A profile's text: escaped, its `backtick` spans in \\texttt (escaped too), its URLs breakable."""
    parts = _CODE.split(" ".join(str(text).split()))
    return "".join(_with_urls(p) if i % 2 == 0 else r"\texttt{" + _escape(p) + "}" for i, p in enumerate(parts))


_URL = re.compile(r"(https?://[^\s()<>]*[^\s()<>.,;:'\"])")


def _with_urls(text: str) -> str:
    """Escaped text whose URLs may break after / . - _ ? & = # (a narrow table column holds them; no
    package needed)."""
    parts = _URL.split(text)
    return "".join(_escape(p) if i % 2 == 0 else breakable(p) for i, p in enumerate(parts))


def breakable(text: str) -> str:
    """Escaped text that may break after / . - _ ? & = # as well as at spaces (URLs, paths, command lines)."""
    return "".join(_escape(c) + (r"\allowbreak{}" if c in "/.-_?&=#" else "") for c in " ".join(str(text).split()))


def number(text: str) -> str:
    """A humanised number ("1,740,000", "1.23e+21") for \\num."""
    return text.replace(",", "").replace("e+", "e")


def unit_macros(unit: str) -> str | None:
    """"ktoken/s" -> \\kilo\\token\\per\\second (each unit after a slash gets its own \\per); None if unknown."""
    out = []
    for i, piece in enumerate(unit.split("/")):
        m = re.fullmatch(r"([YZEPTGMkmµμnpf]?)(token|FLOP|Wh|W|J|B|s|[tg]CO2e|USD|h)", piece)
        if m is None:
            return None
        parts = list(BASE[m.group(2)])
        if m.group(1):
            parts[0] = PREFIX[m.group(1)] + parts[0]
        out += [(r"\per" if i else "") + part for part in parts]
    return "".join(out)


def _quantity(m: re.Match) -> str:
    if m.group("money"):
        scale = MONEY.get(m.group("mscale") or "")
        return r"\$\num{" + number(m.group("mnum")) + "}" + (f"~{scale}" if scale else "")
    if m.group("word"):
        return r"\num{" + number(m.group("cnum")) + f"e{WORDS[m.group('word')]}" + "}"
    if m.group("qnum"):
        num, unit = number(m.group("qnum")), m.group("unit")
        if unit == "%":
            return r"\qty{" + num + r"}{\percent}"
        if unit.startswith(("day", "year")) or unit == "tokens":
            return r"\num{" + num + "}~" + unit
        macros = unit_macros(unit)
        if macros is None:
            return r"\num{" + num + "}~" + escape(unit)
        option = "[per-mode=symbol]" if macros.count(r"\per") > 1 else ""  # kg CO2e/(kW h), not kW^-1 h^-1
        return r"\qty" + option + "{" + num + "}{" + macros + "}"
    if m.group("sym"):
        sub = m.group("sub")
        return r"\ensuremath{" + _SYMBOL.get(m.group("sym"), m.group("sym")) + r"_\mathrm{" + sub + "}}"
    return r"\ensuremath{" + _SYMBOL[m.group("bare")] + "}"


def own(text: str) -> str:
    """tokencalc's own text: quantities in siunitx, symbols in math, everything else escaped."""
    text = " ".join(str(text).split())
    out, last = [], 0
    for m in _QUANTITY.finditer(text):
        out.append(_escape(text[last:m.start()]))
        out.append(_quantity(m))
        last = m.end()
    out.append(_escape(text[last:]))
    return "".join(out)


def cell(text: str) -> str:
    """A value cell: a bare number as \\num, anything else as :func:`own`."""
    t = " ".join(str(text).split())
    if re.fullmatch(_NUM, t):
        return r"\num{" + number(t) + "}"
    if t in ("—", ""):
        return "---"
    return own(t)


def value(text: str) -> str:
    """A cell that is either one quantity we formatted (typeset) or a profile's text (escaped only)."""
    t = " ".join(str(text).split())
    m = _QUANTITY.fullmatch(t)
    return cell(t) if (m is not None and not (m.group("sym") or m.group("bare"))) or re.fullmatch(_NUM, t) \
        or t in ("—", "") else prose(t)


def key(text: str) -> str:
    """A dotted input key in \\texttt, breakable after its dots and underscores."""
    return r"\texttt{" + escape(text).replace(".", r".\allowbreak{}").replace(r"\_", r"\_\allowbreak{}") + "}"
