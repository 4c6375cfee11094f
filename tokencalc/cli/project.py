"""`tokencalc project`: token output over a horizon with time-varying inputs."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from enum import Enum
from typing import Any, List, Optional

import typer
from typing_extensions import Annotated

from ..render import humanize as H
from ..errors import InputError
from .options import scenario_argument, scenario_options


class ProjectFormat(str, Enum):
    """How `project` prints its result."""

    table = "table"
    json = "json"
    csv = "csv"


class Period(str, Enum):
    """Resampling unit of the period table."""

    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


class CsvTable(str, Enum):
    """Which table `--format csv` writes."""

    series = "series"
    periods = "periods"


def parse_trajectory_flag(text: str) -> tuple[str, Any]:
    """`KEY=SPEC` from `--trajectory`, SPEC an inline TOML table: `p_it={ growth = "30 percent/year" }`."""
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    if "=" not in text:
        raise InputError(f"--trajectory {text!r}: expected KEY=SPEC, e.g. --trajectory 'p_it={{ growth = \"30 percent/year\" }}'")
    key, spec = text.split("=", 1)
    try:
        value = tomllib.loads(f"x = {spec.strip()}")["x"]
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"--trajectory {key.strip()}: SPEC must be an inline TOML table such as "
                         f"{{ ramp = 0.9, over = \"180 day\" }} ({exc})") from None
    return key.strip(), value


def _time(text: Optional[str], flag: str) -> Optional[float]:
    if text is None:
        return None
    from ..units import parse

    return parse(text, "time", key=flag)


def _tokens(text: Optional[str]) -> Optional[float]:
    if text is None:
        return None
    from ..units import parse

    try:
        return float(text)
    except ValueError:
        return parse(text, "tokens", key="--target-tokens")


# ---------------------------------------------------------------------------
# Text outputs

def to_csv(proj: Any, table: CsvTable) -> str:
    """The series (or the period table) as CSV: SI floats, unit in the header."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if table is CsvTable.periods:
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


def _when(proj: Any, t_s: float) -> str:
    d = proj.date_of(t_s)
    return f"{d} ({H.duration(t_s)})" if d else H.duration(t_s)


def finding(proj: Any) -> str:
    """One sentence: how long the horizon is power-bound and when the constraint switches."""
    share = proj.totals["power_bound_share"]
    head = f"Power-bound {H.percent(share)} of the horizon"
    if not proj.switches:
        regime = "power" if share > 0.5 else "compute"
        return f"{regime.capitalize()}-bound over the whole horizon ({H.duration(proj.horizon_s)}); no switch."
    parts = [f"{s.from_} → {s.to} on {_when(proj, s.t_s)}" for s in proj.switches[:4]]
    more = f" (+{len(proj.switches) - 4} more)" if len(proj.switches) > 4 else ""
    return f"{head}; the binding constraint switches {', '.join(parts)}{more}."


def chart_rows(proj: Any, width: int = 72, height: int = 14) -> list[list[tuple[str, str]]]:
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


def chart_text(proj: Any, width: int = 72, height: int = 14) -> str:
    """The chart as plain unicode text."""
    return "\n".join("".join(ch for ch, _ in row).rstrip() for row in chart_rows(proj, width, height)) + "\n"


def summary_rows(proj: Any) -> list[tuple[str, str]]:
    """(label, human value) rows of the summary table."""
    tot = proj.totals
    rows = [
        ("Horizon", H.duration(proj.horizon_s) + (f" from {proj.start_date}" if proj.start_date else "")),
        ("Tokens Q(T)", H.count(tot["tokens_total"])),
        ("Mean token rate", H.rate(tot["tokens_total"] / proj.horizon_s)),
        ("IT energy", H.energy(tot["energy_it_j"])),
        ("Facility energy", H.energy(tot["energy_facility_j"])),
        ("Electricity cost", _money(tot["cost_usd"])),
        ("Emissions", _mass(tot["emissions_kg_co2e"])),
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


def print_table(proj: Any, chart: bool = True) -> None:
    """Render the projection with rich: finding, summary, trajectories, periods, chart, notes."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    con = Console()
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
    for col, just in (("period", "left"), ("tokens", "right"), ("token/s", "right"), ("facility energy", "right"),
                      ("cost", "right"), ("CO2e", "right"), ("power-bound", "right")):
        p.add_column(col, justify=just, no_wrap=True)
    for row in proj.periods:
        p.add_row(row["period"], H.si(row["tokens_total"], ""), H.si(row["mean_token_rate_tokens_per_s"], ""),
                  H.energy(row["energy_facility_j"]), _money(row["cost_usd"]), _mass(row["emissions_kg_co2e"]),
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


def _money(usd: Optional[float]) -> str:
    return "—" if usd is None else "$" + H.si(usd, "")


def _mass(kg: Optional[float]) -> str:
    return "—" if kg is None else H.si(kg / 1e3, "t CO2e")


def _spec_text(spec: dict) -> str:
    import datetime as dt

    def show(v: Any) -> str:
        if isinstance(v, (dt.date, dt.datetime)):
            return v.isoformat()
        if isinstance(v, list):
            return "[" + ", ".join(show(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k}={show(x)}" for k, x in v.items()) + "}"
        return str(v)
    return show(spec)


def register(app: typer.Typer) -> None:
    """Add `project` to the app."""

    @app.command()
    @scenario_options
    def project(
        scenario: Annotated[Optional[str], scenario_argument()] = None,
        format: Annotated[ProjectFormat, typer.Option("--format", "-f", help="output format")] = ProjectFormat.table,
        resolution: Annotated[Optional[str], typer.Option("--resolution", help='spacing of the series, e.g. "1 day", "1 hour" (default: hourly up to 60 days, daily beyond)')] = None,
        period: Annotated[Optional[Period], typer.Option("--period", help="unit of the period table (default by horizon length: day, month, quarter, year)")] = None,
        target_tokens: Annotated[Optional[str], typer.Option("--target-tokens", help='report the time at which Q(t) reaches this many tokens, e.g. 1e15 or "1e15 token"')] = None,
        trajectory: Annotated[Optional[List[str]], typer.Option("--trajectory", help="add or replace a trajectory: KEY=SPEC with SPEC an inline TOML table, e.g. 'p_it={ growth = \"30 percent/year\" }' (repeatable)")] = None,
        csv_table: Annotated[CsvTable, typer.Option("--csv-table", help="with --format csv: the series or the period table")] = CsvTable.series,
        series: Annotated[bool, typer.Option("--series/--no-series", help="with --format json: include the full series")] = True,
        chart: Annotated[bool, typer.Option("--chart/--no-chart", help="with the table format: draw the terminal chart")] = True,
        request=None,
    ) -> None:
        """The horizon with time-varying inputs: token output, energy, cost and emissions integrated over
        time, and the dates at which the binding constraint switches between compute and delivered power.

        Trajectories come from the scenario's [trajectory] table (growth, ramp, steps, csv) and --trajectory.
        Examples:

          tokencalc project iea-energy-and-ai

          tokencalc project --horizon "3 year" --trajectory 'p_facility={ growth = "15 percent/year" }' --trajectory 'devices={ growth = "130 percent/year" }'

          tokencalc project iea-energy-and-ai -f json --no-series
        """
        from ..analysis import horizon as HZ
        from ..resolve.scenario import resolve

        resolved = resolve(request)
        extra = dict(parse_trajectory_flag(t) for t in (trajectory or []))
        trajs = HZ.from_resolved(resolved, extra)
        proj = HZ.project(resolved, resolution_s=_time(resolution, "--resolution"), trajectories=trajs,
                          period=period.value if period else None, target_tokens=_tokens(target_tokens))
        if format is ProjectFormat.json:
            sys.stdout.write(json.dumps(proj.to_json(series=series), indent=2, ensure_ascii=False, allow_nan=False) + "\n")
        elif format is ProjectFormat.csv:
            sys.stdout.write(to_csv(proj, csv_table))
        else:
            print_table(proj, chart=chart)
