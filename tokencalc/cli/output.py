"""Where command output goes: stdout or a file written atomically, and consoles for rich output."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Optional

import typer
from typing_extensions import Annotated

OutputOpt = Annotated[Optional[Path], typer.Option("--output", "-o", help="write to FILE (atomically: a temporary file, then a rename) instead of stdout")]
ForceOpt = Annotated[bool, typer.Option("--force", help="replace an existing --output file")]


@contextlib.contextmanager
def open_output(path: Optional[Path], force: bool) -> Iterator[BinaryIO]:
    """A binary stream to `path` (atomic, no clobber without `force`; see fileio) or to stdout.

    Raises:
        OutputExistsError: the file exists and `force` is False.
    """
    if path is None:
        sys.stdout.flush()
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    from ..fileio import atomic_output

    with atomic_output(path, force=force) as fh:
        yield fh


def write_text(text: str, output: Optional[Path], force: bool) -> None:
    """Write `text` to stdout or, atomically, to `output`."""
    with open_output(output, force) as fh:
        fh.write(text.encode())


def pipe_safe(func: Callable[..., Any]) -> Callable[..., Any]:
    """Stop quietly when the reader of stdout goes away (`tokencalc sweep ... | head`)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kw: Any) -> Any:
        try:
            return func(*args, **kw)
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(0) from None

    return wrapper


def stderr_console() -> Any:
    """A rich console on stderr."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def stdout_console() -> Any:
    """A rich console on stdout; piped output keeps whole rows instead of wrapping cells at 80 columns."""
    from rich.console import Console

    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


def print_lines(lines: list[tuple[str, Optional[str]]]) -> None:
    """Print (text, style) lines on stdout."""
    from rich.text import Text

    con = stdout_console()
    for text, style in lines:
        con.print(Text(text, style=style or ""))
