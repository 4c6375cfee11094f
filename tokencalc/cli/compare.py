"""`tokencalc compare`: several operating points side by side, one row each."""

from __future__ import annotations

import functools
import inspect
import sys
from enum import Enum
from typing import Any, Callable, List, Optional

import typer
from typing_extensions import Annotated

from .estimate import FAIL_CODE, FailIf
from .options import PANEL_PROFILES, SHARED, request_from
from .output import ForceOpt, OutputOpt, pipe_safe


class CompareFormat(str, Enum):
    """Output formats of `compare`."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    latex = "latex"


class Relative(str, Enum):
    """Reference row of the relative column."""

    first = "first"
    best = "best"


LIST_HELP = {
    "hardware": "hardware profiles to compare, comma-separated (or 'all'), e.g. h100-sxm,h200-sxm,b200",
    "facility": "facility profiles to compare, comma-separated (or 'all')",
    "workload": "workload profiles to compare, comma-separated (or 'all')",
    "lever": "lever sets to compare, comma-separated; join levers with '+', 'none' for no lever",
}
_LIST_PARAMS = [
    inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=None,
                      annotation=Annotated[Optional[str], typer.Option(f"--{k}", help=h, rich_help_panel=PANEL_PROFILES,
                                                                       show_default=False)])
    for k, h in LIST_HELP.items()
]


def compare_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Like `scenario_options`, with comma lists for --hardware/--facility/--workload/--lever."""
    sig = inspect.signature(func, eval_str=True)
    own = [p for p in sig.parameters.values() if p.name not in ("request", "lists")]
    shared = [p for p in SHARED if p.name not in LIST_HELP]

    @functools.wraps(func)
    def wrapper(**kw: Any) -> Any:
        lists = {k: kw.pop(k, None) for k in LIST_HELP}
        req = request_from(None, kw)
        return func(request=req, lists=lists, **kw)

    wrapper.__signature__ = sig.replace(parameters=own + _LIST_PARAMS + shared)  # type: ignore[attr-defined]
    return wrapper


def register(app: typer.Typer) -> None:
    """Add `compare` to the app."""

    @app.command()
    @pipe_safe
    @compare_options
    def compare(
        scenarios: Annotated[Optional[List[str]], typer.Argument(help="scenario ids or paths (default: the bundled default scenario)", show_default=False)] = None,
        format: Annotated[CompareFormat, typer.Option("--format", "-f", help="output format")] = CompareFormat.table,
        relative: Annotated[Relative, typer.Option("--relative", help="relative rate against the first row or the best")] = Relative.first,
        sort: Annotated[Optional[str], typer.Option("--sort", help="order rows best first by: rate, compute, power, j_per_token, tokens, energy, cost, relative, label, binding (or any estimate JSON key)", show_default=False)] = None,
        reverse: Annotated[bool, typer.Option("--reverse", help="reverse the --sort order")] = False,
        skip_errors: Annotated[bool, typer.Option("--skip-errors", help="leave out rows that cannot be resolved (e.g. hardware without the workload's precision) and list them on stderr")] = False,
        output: OutputOpt = None,
        force: ForceOpt = False,
        fail_if: Annotated[Optional[FailIf], typer.Option("--fail-if", help="exit with code 3 when this regime holds in any row")] = None,
        mc: Annotated[Optional[int], typer.Option("--mc", metavar="N", help="Monte Carlo over each row's ranged inputs: N samples (P(power-bound), rate P5-P95)")] = None,
        seed: Annotated[int, typer.Option("--seed", metavar="S", help="seed of --mc; the same seed gives identical output")] = 0,
        request=None,
        lists=None,
    ) -> None:
        """Several operating points side by side: both ceilings, rate, binding (realized and peak),
        J/token, tokens and energy over the horizon, and the rate relative to the first or best row.

        Rows are the SCENARIOs given, or one scenario with comma lists (the full product):

          tokencalc compare --hardware h100-sxm,h200-sxm,b200

          tokencalc compare --hardware all --skip-errors --sort rate -f csv

          tokencalc compare a.toml b.toml --facility industry-average,hyperscale-leader
        """
        from ..analysis.compare import compare as run
        from ..errors import InputError, one_line
        from ..render import compare as RC
        from .output import stdout_console, write_text

        if format is CompareFormat.table and output is not None:
            raise InputError("-o needs a file format: --format json, csv, markdown or latex")
        comp = run(request, list(scenarios or []), lists, relative_to=relative.value, sort=sort, reverse=reverse,
                   skip_errors=skip_errors, mc=mc, seed=seed)
        for msg in comp.skipped:
            sys.stderr.write(f"tokencalc: skipped {one_line(msg)}\n")
        if format is CompareFormat.table:
            con = stdout_console()
            con.print(RC.table(comp))
            for note in (RC.disagreement(comp), RC.price_caveat(comp)):
                if note:
                    con.print(f"[dim]{note}[/]")
        else:
            write_text(RC.FORMATTERS[format.value](comp), output, force)
        if fail_if is not None:
            hit = [r.label for r in comp.rows if r.values()["binding"] == fail_if.value.split("-")[0]]
            if hit:
                sys.stderr.write(f"tokencalc: {fail_if.value} (--fail-if): {', '.join(hit)}\n")
                raise typer.Exit(FAIL_CODE)
