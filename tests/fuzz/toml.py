"""A small TOML writer for generated documents, and ways of breaking TOML.

`dumps` writes any nesting of str, int, float (nan and inf too), bool, date, list and
dict as valid TOML (top-level tables as `[section]`s, deeper ones inline). `hostile`
turns a valid document into bytes a parser must refuse or survive: syntax errors,
duplicate keys, deep nesting, invalid UTF-8, NUL bytes, a BOM, CRLF line ends.
"""

from __future__ import annotations

import datetime as _dt
import math
import re

from hypothesis import strategies as st

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def key(k: str) -> str:
    """A TOML key: bare when it can be, else a basic string."""
    return k if _BARE.match(k) else string(k)


def string(s: str) -> str:
    """A TOML basic string with every control character escaped."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\u{o:04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def value(v: object) -> str:
    """One TOML value, inline."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        text = repr(v)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(v, str):
        return string(v)
    if isinstance(v, (_dt.date, _dt.datetime)):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{key(str(k))} = {value(x)}" for k, x in v.items()) + " }"
    return string(str(v))


def dumps(doc: dict) -> str:
    """A document: scalars and inline values first, then one `[section]` per top-level table."""
    lines, sections = [], []
    for k, v in doc.items():
        if isinstance(v, dict) and v and all(not isinstance(x, dict) or _is_inline(x) for x in v.values()):
            sections.append((k, v))
        else:
            lines.append(f"{key(str(k))} = {value(v)}")
    for name, table in sections:
        lines.append("")
        lines.append(f"[{key(str(name))}]")
        lines += [f"{key(str(k))} = {value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def _is_inline(d: dict) -> bool:
    return len(d) <= 6


# Fragments that break a document when appended or prepended.
BREAKERS = ['x = ', '= 1', 'a = 1\na = 2', '[x\n', '"unterminated', "x = 'a\nb'", 'x = 1979-05-27T07:32:00Z-',
            'x = [1, "a"', 'x = { a = 1, a = 2 }', 'kind = "hardware"', '[[sources]]', 'x = 0777', 'x = 1__0',
            'x = +nan', 'x = 1e', 'x = """', "x = '''", '\\', 'x = { a = 1\n}', 'x = true\nx.y = 1',
            'x = 99999999999999999999999', 'x = 0x', '[sources]\n[sources]', 'x = "\\q"', 'x = "\\uD800"']


def deep(depth: int) -> str:
    """`x = [[[...]]]` and `x = { a = { a = ... } }` nested `depth` levels deep."""
    return "x = " + "[" * depth + "]" * depth + "\n" + "y = " + "{ a = " * min(depth, 3000) + "1" + " }" * min(depth, 3000)


def hostile(text: str) -> st.SearchStrategy[bytes]:
    """Bytes derived from a valid document that a TOML reader must refuse or survive."""
    blob = text.encode("utf-8")
    return st.one_of(
        st.sampled_from(BREAKERS).map(lambda b: (text + "\n" + b + "\n").encode()),
        st.sampled_from(BREAKERS).map(lambda b: (b + "\n" + text).encode()),
        st.sampled_from([40, 500, 5000, 100_000]).map(lambda d: (text + deep(d)).encode()),
        st.just(b"\xef\xbb\xbf" + blob),
        st.just(blob.replace(b"\n", b"\r\n")),
        st.just(blob.replace(b"\n", b"\r")),
        st.just(blob + b"\xff\xfe\x00"),
        st.just(blob[: len(blob) // 2]),
        st.just(b"\x00" * 16 + blob),
        st.just(b""),
        st.binary(max_size=200),
        st.integers(0, max(len(blob) - 1, 0)).flatmap(
            lambda i: st.binary(min_size=1, max_size=4).map(lambda b: blob[:i] + b + blob[i + 1:])),
    )
