"""Domain exceptions. Library code raises these; the CLI turns them into exit code 2."""

from __future__ import annotations


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
