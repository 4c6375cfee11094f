"""The `tokencalc` command: a thin Typer adapter over the library.

Commands live in `tokencalc.cli.<module>`, each with a `register(app)`.
They are loaded lazily: `tokencalc estimate` imports and builds only the
estimate command (Typer builds every option of every registered command on
each run), and `tokencalc --help` lists commands from the index below without
importing any of them. tests/test_cli.py checks the index against the modules.

Library code raises `TokencalcError`; :func:`main` turns it into one line on
stderr and exit code 2. Anything else is a bug: exit 1 with a one-line message
(the traceback only with `--debug`).
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from typing import Any, Optional

import typer
# typer >= 0.28 vendors click; its usage errors are caught to print them as one line.
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup
from typing_extensions import Annotated

from ..version import __version__
from ..errors import TokencalcError, one_line

# Each module registers its commands; order is the order in `--help`.
COMMAND_MODULES = ["estimate", "project", "compare", "sweep", "solve", "report", "sensitivity", "calibrate",
                   "measure", "profiles"]

# The lazy index: command -> (module, one-line help). A module listed above but
# not indexed here is loaded eagerly, so a new command works before it is indexed.
COMMANDS: dict[str, tuple[str, str]] = {
    "estimate": ("estimate", "One operating point: both ceilings, γ vs γ*, the binding constraint (realized and peak conventions), the token rate, and tokens / energy / cost / carbon over --horizon."),
    "project": ("project", "The horizon with time-varying inputs: token output, energy, cost and emissions integrated over time, and the dates at which the binding constraint switches between compute and delivered power."),
    "compare": ("compare", "Several operating points side by side: both ceilings, rate, binding (realized and peak), J/token, tokens and energy over the horizon, and the rate relative to the first or best row."),
    "sweep": ("sweep", "A grid over one or more core inputs, evaluated vectorized and streamed."),
    "solve": ("solve", "The value of one input at which the regime flips (γ = γ*, both ceilings equal)."),
    "report": ("report", "An appendix documenting the operating point and the active constraint, as HTML, PDF, LaTeX or Markdown (by the suffix of -o): finding, q* and s*, charts, levers, disclosure checklist, provenance with the cited sources, reproducibility footer."),
    "sensitivity": ("sensitivity", "Rank the ranged inputs by how far each one alone moves the token rate (or --metric): each input at its low and at its high end, every other input at its mode."),
    "calibrate": ("calibrate", "Measured power logs + token counts -> measured e_tok, realized K_eff, eta_K, eta_E and U."),
    "measure": ("measure", "Run CMD while sampling NVML board power, then report like `calibrate`."),
    "profiles": ("profiles", "Browse, check and import hardware, facility, workload, lever and scenario profiles."),
    "schema": ("profiles", "Print the JSON Schema of a profile kind (for editor validation of TOML profiles, e.g. taplo)."),
}

CONTEXT = {"help_option_names": ["-h", "--help"]}


def _load(module: str) -> typer.Typer:
    sub = typer.Typer(rich_markup_mode=None, add_completion=False, context_settings=CONTEXT)
    importlib.import_module(f"tokencalc.cli.{module}").register(sub)
    return sub


class LazyGroup(TyperGroup):
    """The root group: builds a command only when it is invoked or asked for its help."""

    def list_commands(self, ctx: Any) -> list[str]:
        eager = [n for n in super().list_commands(ctx) if n not in COMMANDS]
        return list(COMMANDS) + eager

    def get_command(self, ctx: Any, name: str) -> Any:
        if name in COMMANDS and name not in self.commands:
            group = typer.main.get_group(_load(COMMANDS[name][0]))
            for cmd_name, cmd in group.commands.items():
                if COMMANDS.get(cmd_name, ("",))[0] == COMMANDS[name][0]:
                    self.commands[cmd_name] = cmd
        return super().get_command(ctx, name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        width = max(formatter.width - 6 - max(len(n) for n in self.list_commands(ctx)), 10)
        for name in self.list_commands(ctx):
            if name in COMMANDS:
                text = COMMANDS[name][1]
            else:
                text = super().get_command(ctx, name).get_short_help_str(width)
            rows.append((name, _shorten(text, width)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3].rsplit(" ", 1)[0] + "..."


app = typer.Typer(
    name="tokencalc",
    cls=LazyGroup,
    help=(
        "Energy-to-token calculator for LLM inference: how many tokens a deployment can produce from "
        "its compute, delivered power, PUE and utilization, and which of them binds.\n\n"
        "Q̇ = U · min(K_eff / c_tok, P_IT / e_tok),  P_IT = P_facility / PUE"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings=CONTEXT,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tokencalc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Print the version and exit.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback of unexpected errors.")] = False,
) -> None:
    """Energy-to-token calculator for LLM inference."""
    if debug:
        os.environ["TOKENCALC_DEBUG"] = "1"


_indexed = {module for module, _ in COMMANDS.values()}
for _name in COMMAND_MODULES:
    if _name not in _indexed:
        importlib.import_module(f"tokencalc.cli.{_name}").register(app)


def fail(message: str, code: int = 2) -> None:
    """Print `tokencalc: error: message` on stderr and exit with `code`."""
    sys.stderr.write(f"tokencalc: error: {one_line(message)}\n")
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    if argv is None and hasattr(signal, "SIGPIPE"):
        # `tokencalc ... | head`: end like any Unix filter when the reader goes away
        # (killed by SIGPIPE, status 141), not with a Python error.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        code = app(args=argv, prog_name="tokencalc", standalone_mode=False)
        if isinstance(code, int) and code:
            raise SystemExit(code)
    except NoArgsIsHelpError as exc:  # `tokencalc`, `tokencalc profiles`: the help, as before
        sys.stderr.write(exc.format_message() + "\n")
        raise SystemExit(2) from None
    except UsageError as exc:  # one line, like every other error
        where = exc.ctx.command_path if exc.ctx is not None else "tokencalc"
        fail(f"{where}: {exc.format_message()} (see '{where} --help')", 2)
    except typer.Abort:
        fail("interrupted", 130)
    except TokencalcError as exc:
        fail(str(exc), 2)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except BrokenPipeError:
        # The reader went away (`tokencalc ... | head`): stop quietly, as a Unix tool killed by SIGPIPE would.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(141) from None
    except SystemExit:
        raise
    except Exception as exc:  # a bug, not bad input: say so in one line
        if os.environ.get("TOKENCALC_DEBUG") or "--debug" in (argv if argv is not None else sys.argv):
            raise
        fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback; please report it)", 1)
