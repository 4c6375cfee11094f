"""`tokencalc project`: token output over a horizon with time-varying inputs."""

from __future__ import annotations

import json
import sys
from enum import Enum
from typing import List, Optional

import typer
from typing_extensions import Annotated

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
        from ..analysis.horizon import project_request
        from ..analysis.horizon.project import MAX_JSON_SERIES
        from ..render import project as RP

        proj = project_request(request, trajectory=trajectory or [], resolution=resolution,
                               period=period.value if period else None, target_tokens=target_tokens)
        if format is ProjectFormat.json and series and proj.t_s.size > MAX_JSON_SERIES:
            from ..errors import InputError

            raise InputError(f"--format json: the series has {proj.t_s.size:,} points, too many for one JSON document "
                             f"(at most {MAX_JSON_SERIES:,}); use --no-series, --format csv (streamed), or a coarser "
                             "--resolution")
        if format is ProjectFormat.json:
            sys.stdout.write(json.dumps(proj.to_json(series=series), indent=2, ensure_ascii=False, allow_nan=False) + "\n")
        elif format is ProjectFormat.csv:
            sys.stdout.write(RP.to_csv(proj, csv_table.value))
        else:
            RP.print_table(proj, chart=chart)
