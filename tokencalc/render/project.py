"""Projection output: the finding, the summary, the period table, the terminal chart and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from typing import Any

from ..analysis.horizon import Projection
from ..units import factor
from . import humanize as H

def to_csv(proj: Projection, table: str = "series") -> str:
    """The series (or the period table) as CSV: SI floats, unit in the header."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if table == "periods":
        rows = [{k: v for k, v in p.items()} for p in proj.to_json(series=False)["periods"]]
    else:
        rows = proj.series_rows()
        if proj.start_date is not None:
            dates = [proj.date_of(r["t_s"]) for r in rows]
            rows = [{"t_s": r["t_s"], "date": d, **{k: v for k, v in r.items() if k != "t_s"}} for r, d in zip(rows, dates)]
    header = list(rows[0]) if rows else []
    w.writerow(header)
    for r in rows:
        w.writerow(["" if r[k] is None else (repr(r[k]) if isinstance(r[k], float) else r[k]) for k in header])
    return buf.getvalue()


def _when(proj: Projection, t_s: float) -> str:
    d = proj.date_of(t_s)
    return f"{d} ({H.duration(t_s)})" if d else H.duration(t_s)


def finding(proj: Projection) -> str:
    """One sentence: how long the horizon is power-bound and when the constraint switches."""
    share = proj.totals["power_bound_share"]
    head = f"Power-bound {H.percent(share)} of the horizon"
    if proj.totals.get("balanced_share"):
        head += f", balanced {H.percent(proj.totals['balanced_share'])}"
    if not proj.switches:
        regime = max(("power", "compute", "balanced"), key=lambda k: proj.totals[_share_key(k)])
        whole = "Balanced" if regime == "balanced" else f"{regime.capitalize()}-bound"
        return f"{whole} over the whole horizon ({H.duration(proj.horizon_s)}); no switch."
    parts = [f"{s.from_} → {s.to} on {_when(proj, s.t_s)}" for s in proj.switches[:4]]
    more = f" (+{len(proj.switches) - 4} more)" if len(proj.switches) > 4 else ""
    return f"{head}; the binding constraint switches {', '.join(parts)}{more}."


def chart_rows(proj: Projection, width: int = 72, height: int = 14) -> list[list[tuple[str, str]]]:
    """The chart as rows of (char, style) cells: log-scale token rate and both ceilings over time."""
    import numpy as np

    t = proj.t_s
    cols = max(8, width)
    qk, qp, q = proj.series["compute_ceiling"], proj.series["power_ceiling"], proj.series["token_rate"]
    edges = np.linspace(0.0, proj.horizon_s, cols + 1)
    idx = np.clip(np.searchsorted(t, 0.5 * (edges[:-1] + edges[1:])), 0, t.size - 1)
    vals = [(qk[idx], "c", "cyan"), (qp[idx], "p", "yellow"), (q[idx], "•", "bold green")]
    allv = np.concatenate([v for v, _, _ in vals])
    allv = allv[allv > 0]
    lo, hi = math.log10(allv.min()), math.log10(allv.max())
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    pad = 0.04 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    grid = [[(" ", "") for _ in range(cols)] for _ in range(height)]
    for s in proj.switches:
        c = min(int(s.t_s / proj.horizon_s * cols), cols - 1)
        for r in range(height):
            grid[r][c] = ("│", "dim")
    for v, ch, style in vals:
        for c in range(cols):
            if v[c] > 0:
                r = int(round((hi - math.log10(v[c])) / (hi - lo) * (height - 1)))
                grid[min(max(r, 0), height - 1)][c] = (ch, style)
    label_w = 10
    out = []
    for r in range(height):
        y = 10 ** (hi - r / (height - 1) * (hi - lo))
        label = H.si(y, "", 2) if r in (0, height // 2, height - 1) else ""
        out.append([(f"{label:>{label_w}} ┤", "dim")] + grid[r])
    axis = " " * label_w + " └" + "─" * cols
    out.append([(axis, "dim")])
    left, right = proj.date_of(0) or "0", proj.date_of(proj.horizon_s) or H.duration(proj.horizon_s)
    mid = proj.date_of(proj.horizon_s / 2) or H.duration(proj.horizon_s / 2)
    span = cols - len(left) - len(right)
    gap = max(span - len(mid), 2)
    xl = " " * (label_w + 2) + left + " " * (gap // 2) + mid + " " * (gap - gap // 2) + right
    out.append([(xl, "dim")])
    out.append([(" " * (label_w + 2), ""), ("c", "cyan"), (" compute ceiling  ", ""), ("p", "yellow"),
                (" power ceiling  ", ""), ("•", "bold green"), (" token rate  ", ""),
                ("│", "dim"), (" switch   (token/s, log)", "dim")])
    return out


def chart_text(proj: Projection, width: int = 72, height: int = 14) -> str:
    """The chart as plain unicode text."""
    return "\n".join("".join(ch for ch, _ in row).rstrip() for row in chart_rows(proj, width, height)) + "\n"


def summary_rows(proj: Projection) -> list[tuple[str, str]]:
    """(label, human value) rows of the summary table."""
    tot = proj.totals
    rows = [
        ("Horizon", H.duration(proj.horizon_s) + (f" from {proj.start_date}" if proj.start_date else "")),
        ("Tokens Q(T)", H.count(tot["tokens_total"])),
        ("Mean token rate", H.rate(tot["tokens_total"] / proj.horizon_s)),
        ("IT energy", H.energy(tot["energy_it_j"])),
        ("Facility energy", H.energy(tot["energy_facility_j"])),
        ("Electricity cost", H.money(tot["cost_usd"])),
        ("Emissions", H.mass_co2e(tot["emissions_kg_co2e"])),
        ("Share of the horizon power-bound", H.percent(tot["power_bound_share"])),
    ]
    for s in proj.switches:
        rows.append((f"Switch {s.from_} → {s.to}", _when(proj, s.t_s)))
    if proj.target_tokens is not None:
        rows.append((f"Time to {H.count(proj.target_tokens)} tokens",
                     _when(proj, proj.time_to_target_s) if proj.time_to_target_s is not None else "not within the horizon"))
    for label, snap in (("start", proj.start), ("end", proj.end)):
        rows.append((f"Ceilings at the {label} (compute / power)",
                     f"{H.si(snap['compute_ceiling_tokens_per_s'], 'token/s')} / {H.si(snap['power_ceiling_tokens_per_s'], 'token/s')}"))
    return rows


def print_table(proj: Projection, console: Any = None, chart: bool = True) -> None:
    """Render the projection with rich: finding, summary, trajectories, periods, chart, notes."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    con = console or Console()
    con.print(Text(f"{proj.scenario or 'project'} — projection", style="bold"))
    con.print(Text(finding(proj), style="bold yellow" if proj.totals["power_bound_share"] > 0.5 else "bold cyan"))
    s = Table(title="Summary", box=box.SIMPLE, title_justify="left", show_header=False)
    s.add_column("")
    s.add_column("", justify="right")
    for label, value in summary_rows(proj):
        s.add_row(label, value)
    con.print(s)
    if proj.trajectories:
        tt = Table(title="Trajectories", box=box.SIMPLE, title_justify="left", header_style="bold")
        tt.add_column("input")
        tt.add_column("feeds")
        tt.add_column("spec", overflow="fold")
        for tr in proj.trajectories:
            tt.add_row(tr.key, tr.field, _spec_text(tr.spec))
        con.print(tt)
    p = Table(title=f"By {proj.period_unit}", box=box.SIMPLE_HEAVY, title_justify="left", header_style="bold")
    for col, just in (("period", "left"), ("tokens", "right"), ("token/s", "right"), ("facility\nenergy", "right"),
                      ("cost", "right"), ("CO2e", "right"), ("power-\nbound", "right")):  # two-line heads fit 80 columns
        p.add_column(col, justify=just, no_wrap=True)
    for row in proj.periods:
        # Compact cells (the unit is in the header): the same prefixes as everywhere, no long words.
        mass = row["emissions_kg_co2e"]
        p.add_row(row["period"], H.si(row["tokens_total"], ""), H.si(row["mean_token_rate_tokens_per_s"], ""),
                  H.energy(row["energy_facility_j"]), H.money(row["cost_usd"]),
                  H.si(None if mass is None else mass / factor("tCO2e", "carbon"), "t"),
                  H.percent(row["power_bound_share"]))
    con.print(p)
    if chart:
        width = max(30, min(100, con.width - 14))
        con.print(Text("Token rate and ceilings over time", style="bold"))
        for row in chart_rows(proj, width=width):
            line = Text()
            for ch, style in row:
                line.append(ch, style=style or None)
            con.print(line, no_wrap=True, overflow="crop")
    if proj.notes:
        con.print(Text("Notes", style="bold"))
        for n in proj.notes:
            con.print(Text(f"• {n}", style="dim"))


def _spec_text(spec: dict) -> str:
    def show(v: Any) -> str:
        if isinstance(v, (dt.date, dt.datetime)):
            return v.isoformat()
        if isinstance(v, list):
            return "[" + ", ".join(show(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k}={show(x)}" for k, x in v.items()) + "}"
        return str(v)
    return show(spec)




def _share_key(regime: str) -> str:
    return {"power": "power_bound_share", "compute": "compute_bound_share", "balanced": "balanced_share"}[regime]
