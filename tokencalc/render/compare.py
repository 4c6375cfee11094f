"""Compare output: the terminal table, JSON, CSV, Markdown and LaTeX of compared rows."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ..analysis.compare import Comparison, Row
from ..core import fields as F
from . import humanize as H
from .latex import latex_escape

LISTED = "listed_api_usd_per_million_output_tokens"  # directional context (analysis/prices.py)
# (header, estimate JSON key); cells are humanised from the key's SI unit in the output-field registry.
COLUMNS = (
    ("Compute ceiling", "compute_ceiling_tokens_per_s"),
    ("Power ceiling", "power_ceiling_tokens_per_s"),
    ("Rate", "token_rate_tokens_per_s"),
    ("Binding", "binding"),
    ("Binding (peak)", "binding_peak"),
    ("J/token (IT)", "e_tok_j_per_token"),
    ("Tokens", "tokens_total"),
    ("Facility energy", "energy_facility_j"),
    ("Cost / M tokens", "cost_usd_per_million_tokens"),
    ("Operating point", "operating_point"),
)
# The operating point's figures as flat CSV columns (JSON has the whole object).
OP_CSV = ("batch_size", "itl_s", "throughput_per_device_tokens_per_s", "device_power_w", "source")


def relative_header(mode: str) -> str:
    """Header of the relative column."""
    return f"Rate vs {mode}"


def human_cells(row: Row) -> list[str]:
    """The humanized cells of one row (without the label and the relative column)."""
    v = row.values()
    out = [cell(key, v[key]) for _, key in COLUMNS]
    if v[LISTED] is not None:  # the listed price beside the modeled cost, marked directional (†)
        i = [key for _, key in COLUMNS].index("cost_usd_per_million_tokens")
        out[i] += f" (listed {H.money(v[LISTED])} †)"
    return out


def cell(key: str, value: Any) -> str:
    """One humanised cell."""
    if F.is_binding_label(key):
        return value or "unknown"
    if key == "operating_point":
        return operating_cell(value)
    return H.quantity(value, F.field(key).unit)


def operating_cell(op: dict[str, Any] | None) -> str:
    """"batch 512, ITL 47.5 ms, interpolated": the operating point of a row, with where it comes from."""
    if not op:
        return "—"
    parts = [f"batch {op['batch_size']:,.0f}" if op.get("batch_size") is not None else None,
             f"ITL {H.ms(op['itl_s'])}" if op.get("itl_s") is not None else None, op.get("source")]
    return ", ".join(p for p in parts if p)


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


def to_json(comparison: Comparison) -> str:
    """A JSON list of row objects (the estimate keys plus label, profile ids, relative rate)."""
    return json.dumps(comparison.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def to_csv(comparison: Comparison) -> str:
    """One header and one line per row: label, profile ids, relative rate, then every scalar estimate key (SI)."""
    rows, mode = comparison.rows, comparison.relative_to
    if not rows:
        return ""
    keys = [k for k, v in rows[0].values().items() if not isinstance(v, (dict, list))]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    mc_keys = ["mc_p_power_bound", "mc_token_rate_tokens_per_s_p5", "mc_token_rate_tokens_per_s_p50",
               "mc_token_rate_tokens_per_s_p95"] if _has_mc(rows) else []
    w.writerow(keys + ["relative_to", "levers_counted"] + [f"operating_point_{k}" for k in OP_CSV] + mc_keys)
    for r in rows:
        v = r.values()
        extra = []
        if mc_keys:
            q = r.mc.percentiles.get("token_rate_tokens_per_s", {}) if r.mc is not None else {}
            extra = [r.mc.p_power_bound if r.mc is not None else None] + [q.get(p) for p in ("p5", "p50", "p95")]
        w.writerow(["" if v.get(k) is None else (repr(v[k]) if isinstance(v[k], float) else v[k]) for k in keys]
                   + [mode, ";".join(s.id for s in r.result.levers if s.counted)]
                   + _op_csv(v.get("operating_point"))
                   + ["" if x is None else repr(float(x)) for x in extra])
    return buf.getvalue()


def _op_csv(op: dict[str, Any] | None) -> list[Any]:
    vals = [None if not op else op.get(k) for k in OP_CSV]
    return ["" if x is None else (repr(float(x)) if isinstance(x, (int, float)) else x) for x in vals]


def to_markdown(comparison: Comparison) -> str:
    """A pipe table with humanized cells."""
    rows, mode = comparison.rows, comparison.relative_to
    mc = _has_mc(rows)
    head = ["Row"] + [h for h, _ in COLUMNS] + [relative_header(mode)] + (list(MC_HEADERS) if mc else [])
    out = ["| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * (len(head) - 1)]
    for r in rows:
        cells = [r.label] + human_cells(r) + [relative_text(r.relative)] + (mc_cells(r) if mc else [])
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    caveat = price_caveat(comparison)
    return "\n".join(out) + "\n" + (f"\n{caveat}\n" if caveat else "")


def to_latex(comparison: Comparison) -> str:
    """A booktabs table (needs \\usepackage{booktabs}); SI numbers typeset as m×10^e."""
    rows, mode = comparison.rows, comparison.relative_to
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



def table(comparison: Comparison) -> Any:
    """The rows as a rich Table, binding coloured."""
    from rich import box
    from rich.table import Table

    rows, mode = comparison.rows, comparison.relative_to
    t = Table(box=box.SIMPLE_HEAVY, header_style="bold", title="tokencalc compare", title_justify="left")
    t.add_column("Row")
    for head, key in COLUMNS:
        t.add_column(head, justify="left" if F.is_binding_label(key) else "right")
    t.add_column(relative_header(mode), justify="right")
    mc = _has_mc(rows)
    for head in MC_HEADERS if mc else ():
        t.add_column(head, justify="right")
    styles = {"power": "yellow", "compute": "cyan", "balanced": "green"}
    for r in rows:
        cells = human_cells(r)
        b = r.values()["binding"]
        cells[3] = f"[{styles.get(b or '', 'red')}]{cells[3]}[/]"
        t.add_row(r.label, *cells, relative_text(r.relative), *(mc_cells(r) if mc else []))
    return t


def price_caveat(comparison: Comparison) -> str | None:
    """The footnote of the listed-price column, when a row has a listed price."""
    from ..analysis.prices import CAVEAT

    if not any(r.values()[LISTED] is not None for r in comparison.rows):
        return None
    return "† Lowest listed API price per million output tokens for the row's model (dated, sourced: " \
           "tokencalc/data/api_prices.toml). " + CAVEAT


def disagreement(comparison: Comparison) -> str | None:
    """A line naming the rows whose binding differs between the realized and the peak convention."""
    disagree = [r.label for r in comparison.rows if r.values().get("conventions_disagree")]
    if not disagree:
        return None
    return (f"Binding differs between the realized and the peak K_eff convention for: {', '.join(disagree)} "
            "(the realized one is the one to report).")


FORMATTERS = {"json": to_json, "csv": to_csv, "markdown": to_markdown, "latex": to_latex}
