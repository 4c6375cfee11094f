"""The `tokencalc` command: a thin Typer adapter over the library.

Commands live in `tokencalc.commands.<name>`, each with a `register(app)`.
Library code raises `TokencalcError`; :func:`main` turns it into one line on
stderr and exit code 2. Anything else is a bug: exit 1 with a one-line message
(the traceback only with `--debug`).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Optional

import typer
from typing_extensions import Annotated

from . import __version__
from .errors import TokencalcError

# Each module registers its commands; order is the order in `--help`.
COMMAND_MODULES = ["estimate", "profiles", "calibrate"]

app = typer.Typer(
    name="tokencalc",
    help=(
        "Energy-to-token calculator for LLM inference: how many tokens a deployment can produce from "
        "its compute, delivered power, PUE and utilization, and which of them binds.\n\n"
        "Q̇ = U · min(K_eff / c_tok, P_IT / e_tok),  P_IT = P_facility / PUE"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
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


for _name in COMMAND_MODULES:
    importlib.import_module(f"tokencalc.commands.{_name}").register(app)


def fail(message: str, code: int = 2) -> None:
    """Print `tokencalc: error: message` on stderr and exit with `code`."""
    sys.stderr.write(f"tokencalc: error: {message}\n")
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        app(args=argv, prog_name="tokencalc", standalone_mode=True)
    except TokencalcError as exc:
        fail(str(exc), 2)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except SystemExit:
        raise
    except Exception as exc:  # a bug, not bad input: say so in one line
        if os.environ.get("TOKENCALC_DEBUG") or "--debug" in (argv if argv is not None else sys.argv):
            raise
        fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback; please report it)", 1)
