"""Optional pieces fail alike: a missing library is one clean error (exit 2) naming what to install."""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import MissingPieceError

INSTALL = {
    "matplotlib": "pip install matplotlib (a plain `pip install tokencalc` brings it)",
    "weasyprint": "pip install weasyprint (a plain `pip install tokencalc` brings it)",
}


def require(name: str, purpose: str) -> Any:
    """Import `name` for `purpose`, or raise MissingPieceError saying what to install."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise MissingPieceError(f"{purpose} need {name}, which cannot be imported ({exc}): "
                                f"{INSTALL.get(name, 'pip install ' + name)}") from None
