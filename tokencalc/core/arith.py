"""Arithmetic that works on floats and on numpy arrays alike.

The engine uses only these and the four operators, so one code path serves a
single estimate (floats, no numpy import) and a million-point sweep (arrays).
"""

from __future__ import annotations

from typing import Any


def is_array(x: Any) -> bool:
    """True for a numpy array with at least one dimension."""
    return hasattr(x, "shape") and getattr(x, "ndim", 0) > 0


def minimum(a: Any, b: Any) -> Any:
    """Elementwise min."""
    if is_array(a) or is_array(b):
        import numpy as np

        return np.minimum(a, b)
    return a if a <= b else b


def maximum(a: Any, b: Any) -> Any:
    """Elementwise max."""
    if is_array(a) or is_array(b):
        import numpy as np

        return np.maximum(a, b)
    return a if a >= b else b


def where(cond: Any, a: Any, b: Any) -> Any:
    """Elementwise `a if cond else b`."""
    if is_array(cond) or is_array(a) or is_array(b):
        import numpy as np

        return np.where(cond, a, b)
    return a if cond else b


def both(*conds: Any) -> Any:
    """Elementwise logical and of booleans or boolean arrays."""
    out: Any = True
    for c in conds:
        out = (out & c) if is_array(out) or is_array(c) else (out and c)
    return out


def known(*xs: Any) -> bool:
    """True when none of the values is None."""
    return all(x is not None for x in xs)


def product(factors: Any) -> Any:
    """The product of an iterable of floats or arrays (1.0 when empty)."""
    out: Any = 1.0
    for f in factors:
        out = out * f
    return out
