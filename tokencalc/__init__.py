"""tokencalc: the Token Production Function of LLM inference (arXiv 2605.11733).

    Q̇ = U · min(K_eff / c_tok, P_IT / e_tok),   P_IT = P_facility / PUE

One call per command, with the flags' names as keyword arguments; each result's
`.to_dict()` equals the command's `--format json` output:

    >>> import tokencalc
    >>> tokencalc.estimate(hardware="h200-sxm", pue=1.2).to_dict()["binding"]
    'compute'

The method is documented in docs/model.md. The functions are loaded on first
use, so `import tokencalc` (and the `tokencalc` command) stay fast.
"""

from __future__ import annotations

from typing import Any

from .version import __version__

__all__ = ["__version__", "calibrate", "compare", "estimate", "monte_carlo", "project", "solve", "sweep"]

_API = {"calibrate", "compare", "estimate", "monte_carlo", "project", "solve", "sweep"}


def __getattr__(name: str) -> Any:
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'tokencalc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _API)
