"""Compare: several operating points side by side, one row each.

Rows come from several scenarios, or one scenario with comma lists of hardware,
facilities, workloads or lever sets (the full product, in the order given). Each
row is an ordinary `estimate` (same resolution, same engine), plus a label, the
profile ids it used and a rate relative to the first or the best row.

Pure apart from loading profiles through `scenario.resolve`; the formatters
return strings.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from dataclasses import dataclass, field, replace
from typing import Any

from ..render import humanize as H
from ..errors import InputError
from ..core.model import Result, estimate
from ..resolve.scenario import Request, Resolved, resolve

SCHEMA = "tokencalc.compare/1"
AXES = ("hardware", "facility", "workload", "lever")

# --sort KEY -> (estimate JSON key, larger is better)
SORT_KEYS: dict[str, tuple[str, bool]] = {
    "rate": ("token_rate_tokens_per_s", True),
    "compute": ("compute_ceiling_tokens_per_s", True),
    "power": ("power_ceiling_tokens_per_s", True),
    "j_per_token": ("e_tok_j_per_token", False),
    "tokens": ("tokens_total", True),
    "energy": ("energy_facility_j", False),
    "cost": ("cost_usd_per_million_tokens", False),
    "relative": ("token_rate_relative", True),
    "label": ("label", False),
    "binding": ("binding", False),
}


@dataclass(frozen=True)
class Variant:
    """One row to build: a scenario reference plus the profile refs that replace its own."""

    scenario: str | None
    refs: dict[str, str] = field(default_factory=dict)
    levers: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()       # what distinguishes this row, for its label


@dataclass
class Row:
    """One compared operating point."""

    label: str
    variant: Variant
    resolved: Resolved
    result: Result
    relative: float | None = None
    mc: Any = None                    # uncertainty.MCResult with --mc
    _json: dict[str, Any] | None = field(default=None, repr=False)

    def values(self) -> dict[str, Any]:
        """Estimate JSON keys plus the row's label, profile ids and relative rate."""
        if self._json is None:
            self._json = self.result.to_json()
        r = self.resolved
        out = {"label": self.label,
               "hardware": r.hardware.id if r.hardware else None,
               "facility": r.facility.id if r.facility else None,
               "workload": r.workload.id if r.workload else None,
               "token_rate_relative": self.relative}
        out.update(self._json)
        if self.mc is not None:
            out["mc"] = self.mc.to_json()
        return out


def add_monte_carlo(rows: list[Row], n: int, seed: int) -> None:
    """Sample each row's ranged inputs (`estimate --mc` per row, the same seed for every row)."""
    from .uncertainty import monte_carlo

    for r in rows:
        r.mc = monte_carlo(r.resolved, n, seed)


def split_list(text: str | None, what: str) -> list[str]:
    """Split a comma list (`h100-sxm,h200-sxm`), refusing empty items."""
    if text is None:
        return []
    items = [t.strip() for t in text.split(",")]
    if not all(items):
        raise InputError(f"--{what} {text!r}: empty item in the comma list")
    return items


def expand_all(items: list[str], kind: str, dirs: list[str]) -> list[str]:
    """Replace the item `all` by every profile id of `kind` visible in the profile folders."""
    if "all" not in items:
        return items
    from ..resolve.profiles import list_profiles, search_dirs

    every = [e.id for e in list_profiles(kind, search_dirs(dirs))]
    out: list[str] = []
    for it in items:
        out += every if it == "all" else [it]
    return out


def variants(scenarios: list[str], lists: dict[str, list[str]]) -> list[Variant]:
    """The rows to build: every scenario × every combination of the listed profiles.

    Args:
        scenarios: scenario refs (empty = the default scenario, or --bare).
        lists: "hardware"/"facility"/"workload" -> refs; "lever" -> lever sets, each
            `a+b` (several levers) or `none` (no extra lever).
    """
    scen = scenarios or [None]
    axes = [k for k in AXES if lists.get(k)]
    combos = itertools.product(*[lists[k] for k in axes]) if axes else [()]
    out = []
    for s, combo in itertools.product(scen, list(combos)):
        refs, levers, parts = {}, (), []
        if len(scen) > 1 or not axes:
            parts.append(s or "default")
        for k, v in zip(axes, combo):
            if k == "lever":
                levers = tuple(x for x in v.split("+") if x and x != "none")
                parts.append(v)
            else:
                refs[k] = v
                parts.append(v)
        out.append(Variant(s, refs, levers, tuple(parts)))
    return out


def build_rows(base: Request, specs: list[Variant], skipped: list[str] | None = None) -> list[Row]:
    """Resolve and estimate each variant.

    Args:
        base: the shared request (flags, --set, --profiles, --bare); its scenario and
            refs are replaced per row, its levers extended.
        specs: from :func:`variants`.
        skipped: when given, rows that cannot be resolved are left out and their
            errors appended here instead of raised.

    Raises:
        TokencalcError: a row that cannot be resolved, named by its label.
    """
    from ..errors import TokencalcError

    rows = []
    for v in specs:
        req = replace(base, scenario=v.scenario, refs={**base.refs, **v.refs},
                      levers=list(base.levers) + list(v.levers))
        label = " · ".join(v.parts)
        try:
            res = resolve(req)
        except TokencalcError as exc:
            if skipped is None:
                raise type(exc)(f"row '{label}': {exc}") from None
            skipped.append(f"row '{label}': {exc}")
            continue
        rows.append(Row(label, v, res, estimate(res.inputs)))
    return rows


def relative(rows: list[Row], mode: str = "first") -> None:
    """Set each row's rate relative to the first row ("first") or the fastest ("best")."""
    rates = [r.result.values["token_rate_tokens_per_s"] for r in rows]
    if mode == "best":
        known = [x for x in rates if x is not None]
        ref = max(known) if known else None
    elif mode == "first":
        ref = rates[0] if rates else None
    else:
        raise InputError(f"--relative {mode!r}: expected first or best")
    for r, x in zip(rows, rates):
        r.relative = x / ref if (x is not None and ref) else None


def sort_rows(rows: list[Row], key: str, reverse: bool = False) -> list[Row]:
    """Rows ordered best first by `key` (a short name of :data:`SORT_KEYS` or an estimate JSON key); unknowns last."""
    from ..resolve.profiles import _suggest

    if key in SORT_KEYS:
        json_key, desc = SORT_KEYS[key]
    else:
        scalar = [k for k, v in rows[0].values().items() if not isinstance(v, (dict, list))] if rows else []
        if key not in scalar:
            raise InputError(f"--sort {key!r}: not a column" + _suggest(key, list(SORT_KEYS) + scalar)
                             + f" (short names: {', '.join(SORT_KEYS)}; or any estimate JSON key)")
        json_key, desc = key, False
    desc ^= reverse
    known = [r for r in rows if r.values()[json_key] is not None]
    unknown = [r for r in rows if r.values()[json_key] is None]
    known.sort(key=lambda r: r.values()[json_key], reverse=desc)
    return known + unknown


# ---------------------------------------------------------------------------
# Formats

# (header, estimate JSON key or "relative", humanizer)
COLUMNS = (
    ("Compute ceiling", "compute_ceiling_tokens_per_s", lambda x: H.si(x, "token/s")),
    ("Power ceiling", "power_ceiling_tokens_per_s", lambda x: H.si(x, "token/s")),
    ("Rate", "token_rate_tokens_per_s", lambda x: H.si(x, "token/s")),
    ("Binding", "binding", lambda x: x or "unknown"),
    ("Binding (peak)", "binding_peak", lambda x: x or "unknown"),
    ("J/token (IT)", "e_tok_j_per_token", lambda x: H.si(x, "J/token")),
    ("Tokens", "tokens_total", H.count),
    ("Facility energy", "energy_facility_j", H.energy),
)


def relative_header(mode: str) -> str:
    """Header of the relative column."""
    return f"Rate vs {mode}"


def human_cells(row: Row) -> list[str]:
    """The humanized cells of one row (without the label and the relative column)."""
    v = row.values()
    return [fmt(v[key]) for _, key, fmt in COLUMNS]


MC_HEADERS = ("P(power-bound)", "Rate P5–P95")


def mc_cells(row: Row) -> list[str]:
    """With --mc: P(power-bound) and the P5–P95 band of the rate."""
    if row.mc is None:
        return ["—", "—"]
    q = row.mc.percentiles.get("token_rate_tokens_per_s", {})
    band = "—" if q.get("p5") is None else f"{H.si(q['p5'], 'token/s')} – {H.si(q['p95'], 'token/s')}"
    p = row.mc.p_power_bound
    return ["—" if p is None else H.percent(p), band]


def _has_mc(rows: list[Row]) -> bool:
    return any(r.mc is not None for r in rows)


def relative_text(x: float | None) -> str:
    """`×1.23` or an em dash."""
    return "—" if x is None else f"×{H.sig(x)}"


def to_json(rows: list[Row], mode: str) -> str:
    """A JSON list of row objects (the estimate keys plus label, profile ids, relative rate)."""
    out = []
    for r in rows:
        v = r.values()
        v["relative_to"] = mode
        out.append(v)
    return json.dumps(out, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def to_csv(rows: list[Row], mode: str) -> str:
    """One header and one line per row: label, profile ids, relative rate, then every scalar estimate key (SI)."""
    if not rows:
        return ""
    keys = [k for k, v in rows[0].values().items() if not isinstance(v, (dict, list))]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    mc_keys = ["mc_p_power_bound", "mc_token_rate_tokens_per_s_p5", "mc_token_rate_tokens_per_s_p50",
               "mc_token_rate_tokens_per_s_p95"] if _has_mc(rows) else []
    w.writerow(keys + ["relative_to", "levers_counted"] + mc_keys)
    for r in rows:
        v = r.values()
        extra = []
        if mc_keys:
            q = r.mc.percentiles.get("token_rate_tokens_per_s", {}) if r.mc is not None else {}
            extra = [r.mc.p_power_bound if r.mc is not None else None] + [q.get(p) for p in ("p5", "p50", "p95")]
        w.writerow(["" if v.get(k) is None else (repr(v[k]) if isinstance(v[k], float) else v[k]) for k in keys]
                   + [mode, ";".join(s.id for s in r.result.levers if s.counted)]
                   + ["" if x is None else repr(float(x)) for x in extra])
    return buf.getvalue()


def to_markdown(rows: list[Row], mode: str) -> str:
    """A pipe table with humanized cells."""
    mc = _has_mc(rows)
    head = ["Row"] + [h for h, _, _ in COLUMNS] + [relative_header(mode)] + (list(MC_HEADERS) if mc else [])
    out = ["| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * (len(head) - 1)]
    for r in rows:
        cells = [r.label] + human_cells(r) + [relative_text(r.relative)] + (mc_cells(r) if mc else [])
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(out) + "\n"


def to_latex(rows: list[Row], mode: str) -> str:
    """A booktabs table (needs \\usepackage{booktabs}); SI numbers typeset as m×10^e."""
    from ..render.formats import latex_escape

    num = lambda x: "---" if x is None else f"${H.latex_number(x)}$"  # noqa: E731
    lines = [r"% tokencalc compare — requires \usepackage{booktabs}", r"\begin{table}[ht]", r"\centering",
             r"\caption{Token Production Function: compared operating points (rates in token\,s$^{-1}$, "
             r"$e_\mathrm{tok}$ in J\,token$^{-1}$ at the IT boundary, energy in J).}",
             r"\label{tab:tokencalc-compare}",
             r"\begin{tabular}{@{}lrrrllrrrr@{}}", r"\toprule",
             r"Row & $K_\mathrm{eff}/c_\mathrm{tok}$ & $P_\mathrm{IT}/e_\mathrm{tok}$ & Rate & Binding & "
             r"Binding (peak) & $e_\mathrm{tok}$ & Tokens $Q(T)$ & Facility energy & "
             + latex_escape(relative_header(mode)) + r" \\", r"\midrule"]
    for r in rows:
        v = r.values()
        cells = [latex_escape(r.label), num(v["compute_ceiling_tokens_per_s"]), num(v["power_ceiling_tokens_per_s"]),
                 num(v["token_rate_tokens_per_s"]), latex_escape(v["binding"] or "unknown"),
                 latex_escape(v["binding_peak"] or "unknown"), num(v["e_tok_j_per_token"]), num(v["tokens_total"]),
                 num(v["energy_facility_j"]), "---" if r.relative is None else f"${H.sig(r.relative)}\\times$"]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


FORMATTERS = {"json": to_json, "csv": to_csv, "markdown": to_markdown, "latex": to_latex}
