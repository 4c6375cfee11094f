"""`tokencalc sensitivity`: one-at-a-time swings of the ranged inputs (a tornado), and
the Monte Carlo rendering `estimate --mc` uses.

The numbers come from `tokencalc.uncertainty`; this module only formats and
writes them. numpy, rich and matplotlib are imported when a command runs.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer
from typing_extensions import Annotated

from .options import scenario_argument, scenario_options

SCHEMA = "tokencalc.sensitivity/1"
BAR_WIDTH = 12
# Metrics `sensitivity --metric` accepts (a subset of uncertainty.METRICS; the names match estimate's JSON keys).
Metric = Enum("Metric", {k: k for k in (
    "token_rate_tokens_per_s", "tokens_total", "compute_ceiling_tokens_per_s", "power_ceiling_tokens_per_s",
    "e_tok_j_per_token", "energy_it_j", "energy_facility_j", "cost_usd", "emissions_kg_co2e")}, type=str)


class SensitivityFormat(str, Enum):
    """Output formats of `sensitivity`."""

    table = "table"
    json = "json"
    csv = "csv"


def register(app: typer.Typer) -> None:
    """Add `sensitivity` to the app."""

    @app.command()
    @scenario_options
    def sensitivity(
        scenario: Annotated[Optional[str], scenario_argument()] = None,
        metric: Annotated[Metric, typer.Option("--metric", "-m", help="output whose swings are ranked")] = Metric.token_rate_tokens_per_s,  # type: ignore[attr-defined]
        format: Annotated[SensitivityFormat, typer.Option("--format", "-f", help="output format")] = SensitivityFormat.table,
        chart: Annotated[Optional[Path], typer.Option("--chart", help="also write a tornado chart to FILE.svg")] = None,
        force: Annotated[bool, typer.Option("--force", help="overwrite the --chart file if it exists")] = False,
        request=None,
    ) -> None:
        """Rank the ranged inputs by how far each one alone moves the token rate (or --metric):
        each input at its low and at its high end, every other input at its mode.

        Inputs given as ranges ({ low, mode, high } or { value, rel }) in a profile or scenario
        have a bar; inputs without a range have none. Examples:

          tokencalc sensitivity default-uncertain

          tokencalc sensitivity default-uncertain --metric cost_usd --chart tornado.svg
        """
        from ..analysis import uncertainty as U
        from ..errors import InputError
        from ..resolve.scenario import resolve

        if chart is not None and chart.suffix.lower() != ".svg":
            raise InputError(f"--chart {str(chart)!r}: expected a file name ending in .svg")
        resolved = resolve(request)
        ranges = U.collect(resolved)
        swings = U.tornado(resolved, metric.value)
        scen = resolved.inputs.scenario
        if chart is not None:
            svg = U.tornado_svg(swings, _chart_title(scen, metric.value))
            if not svg:
                raise InputError(U.NO_CHART)
            write_atomic(chart, svg, force=force)
        if format is SensitivityFormat.json:
            sys.stdout.write(to_json(scen, metric.value, swings, ranges))
        elif format is SensitivityFormat.csv:
            sys.stdout.write(to_csv(swings))
        else:
            tokens = U.tornado(resolved, "tokens_total") if metric.value == "token_rate_tokens_per_s" else []
            from rich.console import Console

            Console().print(tornado_renderable(scen, metric.value, swings, ranges, tokens))
        if chart is not None:
            sys.stderr.write(f"tokencalc: wrote {chart}\n")


def _chart_title(scenario: str | None, metric: str) -> str:
    return f"{scenario or 'estimate'}: sensitivity of {metric} (one input at a time, others at their modes)"


# ---------------------------------------------------------------------------
# Output

def to_json(scenario: str | None, metric: str, swings: list, ranges: Any) -> str:
    """The sensitivity JSON document (SI units, swings largest first)."""
    from ..analysis import uncertainty as U

    doc = {
        "schema": SCHEMA,
        "scenario": scenario,
        "metric": metric,
        "unit": U.METRICS[metric][1],
        "base": swings[0].base if swings else None,
        "method": "one at a time: each ranged input at its low and high end, the others at their modes",
        "swings": [{"rank": i + 1, **s.to_json()} for i, s in enumerate(swings)],
        "not_sampled": [n.to_json() for n in ranges.not_sampled],
    }
    if not swings:
        doc["note"] = U.NO_RANGES.replace("every sample equals the point estimate", "nothing to rank")
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def to_csv(swings: list) -> str:
    """One row per ranged input, SI floats, largest swing first."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["rank", "key", "unit", "low", "mode", "high", "metric", "metric_unit", "base", "at_low", "at_high",
                "swing", "swing_rel"])
    for i, s in enumerate(swings):
        w.writerow([i + 1, s.key, s.unit, *(_num(x) for x in (s.low, s.mode, s.high)), s.metric, s.metric_unit,
                    *(_num(x) for x in (s.base, s.at_low, s.at_high, s.swing, s.swing_rel))])
    return buf.getvalue()


def _num(x: Any) -> str:
    return "" if x is None else repr(float(x))


def _bar(s: Any, widest: float) -> str:
    if s.swing is None or widest <= 0:
        return ""
    n = round(BAR_WIDTH * s.swing / widest)
    return "█" * n if n else ("▏" if s.swing > 0 else "")


def tornado_renderable(scenario: str | None, metric: str, swings: list, ranges: Any, tokens: list | None = None) -> Any:
    """Rich renderables of the ranked swings (the terminal tornado).

    Args:
        scenario: scenario name for the title.
        metric: the metric ranked.
        swings: from `uncertainty.tornado`, largest first.
        ranges: `uncertainty.collect` output (for the not-sampled list).
        tokens: optional swings of tokens_total, summarised under a token-rate tornado.
    """
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from ..analysis import uncertainty as U

    unit = U.METRICS[metric][1]
    parts: list[Any] = [Text(f"{scenario or 'estimate'}: sensitivity of {metric}", style="bold")]
    if not swings:
        parts.append(Text("No input has a range: nothing to rank. Give a range as { low, mode, high } or "
                          "{ value, rel } in a profile or scenario (e.g. `tokencalc sensitivity default-uncertain`).",
                          style="yellow"))
    else:
        parts.append(Text(f"Base (every input at its mode): {U.human(swings[0].base, unit)}. Each input alone at its "
                          "low and high end; inputs without a range have no bar."))
        known = [abs(x) for s in swings for x in (s.at_low, s.at_high) if x is not None]
        scale, prefix = _scale(max(known, default=0.0), unit)
        widest = max((s.swing or 0.0) for s in swings)
        t = Table(title=f"{metric} in {prefix}, largest swing first", title_justify="left", box=box.SIMPLE_HEAVY,
                  header_style="bold")
        t.add_column("#", justify="right")
        t.add_column("input: low … mode … high", overflow="fold", min_width=24, ratio=1)
        for col in ("at low", "at high", "swing", "% base"):
            t.add_column(col, justify="right", no_wrap=True)
        t.add_column("", no_wrap=True, overflow="crop")
        for i, s in enumerate(swings):
            label = Text(s.key)
            label.append("\n" + U.human_range(s.low, s.mode, s.high, s.unit), style="dim")
            t.add_row(str(i + 1), label, _scaled(s.at_low, scale), _scaled(s.at_high, scale),
                      _scaled(s.swing, scale), "—" if s.swing_rel is None else f"{100 * s.swing_rel:.3g} %",
                      _bar(s, widest))
        parts.append(t)
        top = next((k for k in tokens or [] if k.swing), None)
        if top is not None:
            parts.append(Text(f"Over the horizon the largest swing in tokens is {U.human(top.swing, 'token')} tokens "
                              f"({top.key}); `--metric tokens_total` ranks tokens directly.", style="dim"))
    if ranges.not_sampled:
        parts.append(Text("Ranges given but not used", style="bold"))
        for n in ranges.not_sampled:
            parts.append(Text(f"• {n.key}: {n.reason}", style="dim"))
    return Group(*parts)


def _scale(x: float, unit: str) -> tuple[float, str]:
    for factor, p in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= factor:
            return factor, f"{p}{unit}" if unit not in ("USD", "token") else f"{p} {unit}"
    return 1.0, unit


def _scaled(x: float | None, scale: float) -> str:
    from ..render import humanize as H

    return "—" if x is None else H.sig(x / scale)


def mc_renderable(mc: Any, point: dict[str, Any]) -> Any:
    """Rich renderables of a Monte Carlo result: the percentile band and P(power-bound).

    Args:
        mc: an `uncertainty.MCResult`.
        point: the point estimate's values (`Result.values`), shown beside the band.
    """
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from ..analysis import uncertainty as U

    parts: list[Any] = []
    title = f"Monte Carlo: {mc.samples:,} samples, seed {mc.seed}"
    if not mc.has_ranges:
        parts.append(Text(title, style="bold"))
        parts.append(Text("No input has a range, so every sample equals the point estimate. Give a range as "
                          "{ low, mode, high } or { value, rel } in a profile or scenario "
                          "(e.g. `tokencalc estimate default-uncertain --mc 100000`).", style="yellow"))
    else:
        t = Table(title=title, box=box.SIMPLE_HEAVY, title_justify="left", header_style="bold")
        for col in ("", "P5", "P50", "P95", "point estimate"):
            t.add_column(col, justify="left" if not col else "right")
        labels = {"token_rate_tokens_per_s": "Token rate", "tokens_total": "Tokens over T",
                  "e_tok_j_per_token": "e_tok (IT)", "energy_facility_j": "Facility energy",
                  "cost_usd": "Electricity cost", "emissions_kg_co2e": "Emissions"}
        for key, label in labels.items():
            q, unit = mc.percentiles[key], U.METRICS[key][1]
            t.add_row(label, *(U.human(q[p], unit) for p in ("p5", "p50", "p95")), U.human(point.get(key), unit))
        parts.append(t)
        pb = mc.p_power_bound
        parts.append(Text("P(power-bound) = " + ("unknown (a ceiling cannot be computed)" if pb is None else
                                                 f"{100 * pb:.3g} %  (compute-bound {100 * mc.p_compute_bound:.3g} %, "
                                                 f"balanced {100 * mc.p_balanced:.3g} %)"), style="bold"))
        r = Table(title="Ranged inputs (sampled independently, triangular; sources in -f json)", box=box.SIMPLE,
                  title_justify="left", show_header=False)
        r.add_column("", overflow="fold")
        r.add_column("", no_wrap=True)
        for x in mc.ranges.inputs:
            r.add_row(Text(x.key), Text(U.human_range(x.low, x.mode, x.high, x.unit)))
        parts.append(r)
    for n in mc.ranges.not_sampled:
        parts.append(Text(f"• range not sampled: {n.key}: {n.reason}", style="dim"))
    return Group(*parts)


def print_estimate_mc(result: Any, resolved: Any, n: int | None, seed: int | None, format: Any) -> None:
    """Write `estimate --mc N --seed S` in `format`: the point estimate plus the Monte Carlo band.

    JSON gains an `mc` object (INTERFACE.md); CSV gains `mc_*` columns; the table,
    Markdown and LaTeX gain a percentile table and P(power-bound).

    Raises:
        InputError: `--seed` without `--mc`, or N / S out of range.
    """
    from ..analysis import uncertainty as U
    from ..errors import InputError
    from ..render.formats import OutputFormat

    if n is None:
        raise InputError("--seed needs --mc N (the number of Monte Carlo samples)")
    mc = U.monte_carlo(resolved, n, 0 if seed is None else seed)
    fmt = OutputFormat(format)
    if fmt is OutputFormat.table:
        from rich.console import Console

        from ..render.terminal import print_estimate

        console = Console()
        print_estimate(result, console)
        console.print(mc_renderable(mc, result.values))
    elif fmt is OutputFormat.json:
        doc = {**result.to_json(), "mc": mc.to_json()}
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    elif fmt is OutputFormat.csv:
        rows = list(csv.reader(io.StringIO(fmt.formatter()(result))))
        extra = mc_csv_columns(mc)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(rows[0] + [k for k, _ in extra])
        w.writerow(rows[1] + [_num(v) if isinstance(v, float) else ("" if v is None else v) for _, v in extra])
        sys.stdout.write(buf.getvalue())
    elif fmt is OutputFormat.markdown:
        sys.stdout.write(fmt.formatter()(result) + mc_markdown(mc))
    else:
        sys.stdout.write(fmt.formatter()(result) + mc_latex(mc))


def mc_latex(mc: Any) -> str:
    """The percentile band as a booktabs table (appended to `estimate -f latex --mc`)."""
    from ..render import humanize as H
    from ..analysis import uncertainty as U
    from ..render.formats import LATEX_UNITS, latex_escape

    pb = "unknown" if mc.p_power_bound is None else f"{100 * mc.p_power_bound:.3g}\\,\\%"
    lines = [r"\begin{table}[ht]", r"\centering",
             rf"\caption{{Monte Carlo over the ranged inputs: {mc.samples:,} samples, seed {mc.seed}; "
             rf"P(power-bound) = {pb}.{' ' + latex_escape(U.NO_RANGES) + '.' if not mc.has_ranges else ''}}}",
             r"\begin{tabular}{@{}lrrrl@{}}", r"\toprule", r"Quantity & P5 & P50 & P95 & Unit \\", r"\midrule"]
    for key, q in mc.percentiles.items():
        unit = U.METRICS[key][1]
        cells = " & ".join(f"${H.latex_number(q[p])}$" if q[p] is not None else "---" for p in ("p5", "p50", "p95"))
        lines.append(f"{latex_escape(key)} & {cells} & {LATEX_UNITS.get(unit, latex_escape(unit))} \\\\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def mc_markdown(mc: Any) -> str:
    """The percentile band as a Markdown table (appended to `estimate -f markdown --mc`)."""
    from ..analysis import uncertainty as U

    out = ["", f"**Monte Carlo** ({mc.samples:,} samples, seed {mc.seed}): "
           + (U.NO_RANGES if not mc.has_ranges else
              "P(power-bound) = " + ("unknown" if mc.p_power_bound is None else f"{100 * mc.p_power_bound:.3g} %")),
           "", "| Quantity | P5 | P50 | P95 |", "|---|---|---|---|"]
    for key, q in mc.percentiles.items():
        unit = U.METRICS[key][1]
        out.append(f"| {key} | " + " | ".join(U.human(q[p], unit) for p in ("p5", "p50", "p95")) + " |")
    return "\n".join(out) + "\n"


def mc_csv_columns(mc: Any) -> list[tuple[str, Any]]:
    """Flat (column, SI value) pairs appended to `estimate -f csv --mc`."""
    cols: list[tuple[str, Any]] = [("mc_samples", mc.samples), ("mc_seed", mc.seed),
                                   ("mc_p_power_bound", mc.p_power_bound)]
    for key, q in mc.percentiles.items():
        cols += [(f"mc_{key}_{p}", q[p]) for p in ("p5", "p50", "p95")]
    return cols


# ---------------------------------------------------------------------------
# Files

def write_atomic(path: Path, text: str, *, force: bool = False) -> None:
    """Write the chart atomically, never over an existing file without `force` (see fileio)."""
    from ..fileio import write_atomic as write

    write(path, text, force=force, flag="--chart")
