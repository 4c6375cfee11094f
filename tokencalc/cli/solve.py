"""`tokencalc solve`: the value of one input at which the regime flips (γ = γ*)."""

from __future__ import annotations

import json
import sys
from enum import Enum
from typing import Optional

import typer
from typing_extensions import Annotated

from .estimate import FailIf, check_fail_if
from .options import scenario_argument, scenario_options


class SolveFormat(str, Enum):
    """Output formats of `solve`."""

    table = "table"
    json = "json"


def register(app: typer.Typer) -> None:
    """Add `solve` to the app."""

    @app.command()
    @scenario_options
    def solve(
        scenario: Annotated[Optional[str], scenario_argument()] = None,
        for_: Annotated[Optional[str], typer.Option("--for", help="the input to solve for: p_it, p_facility, pue, devices, e_tok, c_tok, k_eff, throughput_per_device, kernel_efficiency, availability, peak_flops, device_power, cooling_capacity, it_overhead", show_default=False)] = None,
        format: Annotated[SolveFormat, typer.Option("--format", "-f", help="output format")] = SolveFormat.table,
        fail_if: Annotated[Optional[FailIf], typer.Option("--fail-if", help="exit with code 3 when this regime holds now")] = None,
        request=None,
    ) -> None:
        """The value of one input at which the regime flips (γ = γ*, both ceilings equal).

        Closed form where the ratio of the ceilings is a power law in the input (P_IT,
        P_facility, PUE, devices, e_tok, ...), bracketed root finding otherwise; the
        answer is checked by re-running the engine. Says so when no crossover exists.
        A flag for the same input (or one answering the same question, like --p-facility
        for --for p_it) states the current value.

          tokencalc solve --for devices

          tokencalc solve --for p_facility -f json

          tokencalc solve --for kernel_efficiency --hardware h200-sxm
        """
        from ..analysis import solve as V
        from ..errors import InputError
        from ..render import solve as RS
        from .output import print_lines

        if not for_:
            raise InputError(f"solve needs --for KEY (one of {', '.join(V.SOLVABLE)})")
        solved = V.solve_request(request, for_)
        if format is SolveFormat.json:
            sys.stdout.write(json.dumps(RS.to_dict(solved), indent=2, ensure_ascii=False, allow_nan=False) + "\n")
        else:
            print_lines(RS.lines(solved))
        check_fail_if(fail_if, solved.now.values["binding"])
