"""Sweep output for people: the closing summary lines and the terminal table."""

from __future__ import annotations

from typing import Any

from ..analysis.sweep import Axis, Plan, Summary
from ..core import LABELS
from ..core import fields as F
from . import humanize as H

TABLE_COLUMNS = ("compute_ceiling_tokens_per_s", "power_ceiling_tokens_per_s", "token_rate_tokens_per_s",
                 "binding", "binding_peak", "gamma_j_per_flop", "gamma_star_j_per_flop", "tokens_total",
                 "energy_facility_j")
HEADS = {"compute_ceiling_tokens_per_s": "Compute ceiling", "power_ceiling_tokens_per_s": "Power ceiling",
         "token_rate_tokens_per_s": "Rate", "binding": "Binding", "binding_peak": "Binding (peak)",
         "gamma_j_per_flop": "γ", "gamma_star_j_per_flop": "γ*", "tokens_total": "Tokens",
         "energy_facility_j": "Facility energy"}


def show(axis: Axis, x: float) -> str:
    """`key = value unit` for a point on an axis."""
    return f"{axis.key} = {H.quantity(x, axis.unit, 4)}"


def summary_lines(summary: Summary, limit: int = 12) -> list[str]:
    """Human-readable closing lines (for stderr): the share of each regime and where the boundary runs."""
    plan, counts = summary.plan, summary.counts
    total = plan.size
    if summary.unknown == total:
        return [f"{total:,} points; binding unknown (one of the ceilings cannot be computed from the inputs; "
                "see `tokencalc estimate` for what is missing)"]
    known = total - summary.unknown
    head = (f"{total:,} points: {H.percent(counts[1] / known)} power-bound, "
            f"{H.percent(counts[0] / known)} compute-bound")
    if counts[2]:
        head += f", {H.percent(counts[2] / known)} balanced"
    out = [head + " (realized K_eff convention)"]
    if len(plan.axes) == 1:
        out += _one_axis(summary, known, limit)
    elif len(plan.axes) == 2:
        out += _two_axes(summary, limit)
    else:
        first = plan.axes[0]
        per = total // len(first)
        for i, (v, p) in enumerate(zip(first.values.tolist(), summary.first_power.tolist())):
            if i >= limit:
                out.append(f"... ({len(first) - i} more values of {first.key})")
                break
            out.append(f"  {show(first, v)}: {H.percent(p / per)} power-bound")
    return out


def _one_axis(summary: Summary, known: int, limit: int) -> list[str]:
    last, counts, out = summary.plan.axes[-1], summary.counts, []
    if not summary.crossings:
        only = "power" if counts[1] == known else "compute" if counts[0] == known else "mixed"
        out.append(f"no crossover in the range: {only}-bound throughout" if only != "mixed"
                   else "no clean crossover (balanced points only)")
    for c in summary.crossings[:limit]:
        out.append(f"crossover at {show(last, c[last.column])}: {c['from']}-bound below, {c['to']}-bound above"
                   if last.kind != "list" else
                   f"crossover near {show(last, c[last.column])}: {c['from']}-bound before, {c['to']}-bound after")
    return out


def _two_axes(summary: Summary, limit: int) -> list[str]:
    plan = summary.plan
    first, last = plan.axes[0], plan.axes[-1]
    by_line: dict[float, list[dict]] = {}
    for c in summary.crossings:
        by_line.setdefault(c[first.column], []).append(c)
    out, shown = [], 0
    for v, p in zip(first.values.tolist(), summary.first_power.tolist()):
        if shown >= limit:
            out.append(f"... ({len(first) - shown} more values of {first.key}; --format json has them all)")
            break
        share = p / (plan.size // len(first))
        cs = by_line.get(v, [])
        where = "; ".join(f"{c['to']}-bound beyond {show(last, c[last.column])}" for c in cs[:2]) or \
                ("power-bound throughout" if share == 1 else "compute-bound throughout" if share == 0
                 else "no clean crossover")
        out.append(f"  {show(first, v)}: {H.percent(share)} power-bound; {where}")
        shown += 1
    return out


def table(plan: Plan, cols: dict[str, Any]) -> Any:
    """The grid as a rich Table (small sweeps only)."""
    from rich import box
    from rich.table import Table

    t = Table(box=box.SIMPLE_HEAVY, header_style="bold")
    for a in plan.axes:
        t.add_column(a.key, justify="right")
    for key in TABLE_COLUMNS:
        t.add_column(HEADS[key], justify="left" if F.is_binding_label(key) else "right")
    for i in range(plan.size):
        cells = [H.quantity(float(cols[a.column][i]), a.unit, 4) for a in plan.axes]
        for key in TABLE_COLUMNS:
            v = cols[key]
            if v is None:
                cells.append("—")
            elif F.is_binding_label(key):
                cells.append(LABELS[int(v[i])])
            else:
                cells.append(H.quantity(float(v[i]), F.field(key).unit))
        t.add_row(*cells)
    return t
