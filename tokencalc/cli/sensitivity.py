"""`tokencalc sensitivity`: one-at-a-time swings of the ranged inputs (a tornado).

The numbers come from `analysis.uncertainty`, the text and chart from
`render.uncertainty`. numpy, rich and matplotlib are imported when the command runs.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from typing_extensions import Annotated

from .options import scenario_argument, scenario_options

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
        from ..fileio import write_atomic
        from ..render import uncertainty as RU
        from ..resolve.scenario import resolve

        if chart is not None and chart.suffix.lower() != ".svg":
            raise InputError(f"--chart {str(chart)!r}: expected a file name ending in .svg")
        resolved = resolve(request)
        ranges = U.collect(resolved)
        swings = U.tornado(resolved, metric.value)
        scen = resolved.inputs.scenario
        if chart is not None:
            svg = RU.tornado_svg(swings, _chart_title(scen, metric.value))
            if not svg:
                raise InputError(U.NO_CHART)
            write_atomic(chart, svg, force=force, flag="--chart")
        if format is SensitivityFormat.json:
            sys.stdout.write(RU.to_json(scen, metric.value, swings, ranges))
        elif format is SensitivityFormat.csv:
            sys.stdout.write(RU.to_csv(swings))
        else:
            tokens = U.tornado(resolved, "tokens_total") if metric.value == "token_rate_tokens_per_s" else []
            from rich.console import Console

            Console().print(RU.tornado_renderable(scen, metric.value, swings, ranges, tokens))
        if chart is not None:
            sys.stderr.write(f"tokencalc: wrote {chart}\n")


def _chart_title(scenario: str | None, metric: str) -> str:
    return f"{scenario or 'estimate'}: sensitivity of {metric} (one input at a time, others at their modes)"
