"""Domain exceptions. Library code raises these; the CLI turns them into exit code 2."""

from __future__ import annotations

import re

# Characters that end a line for `str.splitlines` or a terminal, or drive it (ESC, BEL, C1 controls).
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class TokencalcError(Exception):
    """Base class for every error caused by the user's input (exit code 2)."""


class UnitError(TokencalcError):
    """A quantity has the wrong dimension, no unit, or cannot be parsed."""


class ProfileError(TokencalcError):
    """A profile file is malformed: bad TOML, unknown key, out-of-range value, missing reference."""


class InputError(TokencalcError):
    """Inputs that are individually valid but conflict, or a bad command-line value."""


class OutputExistsError(TokencalcError):
    """An output file already exists and `--force` was not given."""


class MissingPieceError(TokencalcError):
    """An optional piece is missing (a library, a system library, a device): the message says what to install."""


class ReportError(TokencalcError):
    """The report cannot be produced (a missing library, a bad template folder, a template error)."""


def where(file: str | None, key: str | None) -> str:
    """Format the location prefix of an error message: `key in file: `."""
    parts = []
    if key:
        parts.append(key)
    if file:
        parts.append(f"in {file}")
    return (" ".join(parts) + ": ") if parts else ""


def one_line(text: str) -> str:
    """`text` with every control or line-breaking character written as an escape (\\x0c, \\n, \\u2028).

    Messages echo what the user typed; a form feed or an escape sequence in it must not
    break the one-line error or reach the terminal.
    """
    return _BREAKS.sub(lambda m: repr(m.group())[1:-1], text)

