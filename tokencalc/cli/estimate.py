"""`tokencalc estimate`: one operating point."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Optional

import typer
from typing_extensions import Annotated

from ..render.text import OutputFormat
from .options import scenario_argument, scenario_options


class FailIf(str, Enum):
    """Conditions for `--fail-if` (exit code 3 when they hold)."""

    power_bound = "power-bound"
    compute_bound = "compute-bound"


FAIL_CODE = 3


def check_fail_if(fail_if: Optional[FailIf], binding: Optional[str]) -> None:
    """Exit 3 when `--fail-if` names the binding regime."""
    if fail_if is not None and binding == fail_if.value.split("-")[0]:
        sys.stderr.write(f"tokencalc: {fail_if.value} (--fail-if)\n")
        raise typer.Exit(FAIL_CODE)


def register(app: typer.Typer) -> None:
    """Add `estimate` to the app."""

    @app.command()
    @scenario_options
    def estimate(
        scenario: Annotated[Optional[str], scenario_argument()] = None,
        format: Annotated[OutputFormat, typer.Option("--format", "-f", help="output format")] = OutputFormat.table,
        fail_if: Annotated[Optional[FailIf], typer.Option("--fail-if", help="exit with code 3 when this regime holds (for scripts)")] = None,
        mc: Annotated[Optional[int], typer.Option("--mc", metavar="N", help="Monte Carlo over the ranged inputs: N samples (P5/P50/P95, P(power-bound))")] = None,
        seed: Annotated[Optional[int], typer.Option("--seed", metavar="S", help="seed of --mc (default 0); the same seed gives identical output")] = None,
        request=None,
    ) -> None:
        """One operating point: both ceilings, γ vs γ*, the binding constraint (realized and peak
        conventions), the token rate, and tokens / energy / cost / carbon over --horizon.

        With no SCENARIO it uses the bundled default (65B-class FP16 on H100 SXM).
        Examples:

          tokencalc estimate

          tokencalc estimate --hardware h200-sxm --devices 512 --pue 1.2

          tokencalc estimate --bare --k-eff "1.3e16 FLOP/s" --c-tok "1.3e11 FLOP/token" --e-tok "3 J/token" --p-it "800 kW"
        """
        from ..analysis.point import estimate as run

        est = run(request, mc=mc, seed=seed)
        if format is OutputFormat.table:
            from ..render.terminal import print_point

            print_point(est)
        else:
            from ..render.text import estimate_document

            sys.stdout.write(estimate_document(est, format))
            from ..errors import one_line

            for w in est.result.warnings:  # the table shows them; scripts read stderr
                sys.stderr.write(f"tokencalc: warning: {one_line(w)}\n")
        check_fail_if(fail_if, est.result.values["binding"])
