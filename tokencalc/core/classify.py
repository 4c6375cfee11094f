"""Which ceiling binds: the one classifier every command uses (docs/model.md §3).

With tolerance τ: compute-bound when Q̇_K < (1 − τ)·Q̇_P, power-bound when
Q̇_P < (1 − τ)·Q̇_K, otherwise balanced. τ = 0 gives the strict side of the
crossover (balanced only at exact equality). Works on floats and numpy arrays.
"""

from __future__ import annotations

from typing import Any

from .arith import is_array
from .inputs import DEFAULT_TOLERANCE

LABELS = ("compute", "power", "balanced")
COMPUTE, POWER, BALANCED = 0, 1, 2


def binding_code(compute_ceiling: Any, power_ceiling: Any, tolerance: Any = DEFAULT_TOLERANCE) -> Any:
    """0 compute, 1 power, 2 balanced (an int, or an int8 array); None when a ceiling is unknown."""
    if compute_ceiling is None or power_ceiling is None:
        return None
    keep = 1.0 - tolerance
    compute = compute_ceiling < keep * power_ceiling
    power = power_ceiling < keep * compute_ceiling
    if is_array(compute) or is_array(power):
        import numpy as np

        compute, power = np.broadcast_arrays(compute, power)
        return (BALANCED - 2 * compute.astype(np.int8) - power.astype(np.int8)).astype(np.int8, copy=False)
    return COMPUTE if compute else POWER if power else BALANCED


def classify(compute_ceiling: Any, power_ceiling: Any, tolerance: Any = DEFAULT_TOLERANCE) -> Any:
    """"compute", "power" or "balanced" (an array of labels for arrays), or None if a ceiling is unknown."""
    code = binding_code(compute_ceiling, power_ceiling, tolerance)
    return label(code)


def label(code: Any) -> Any:
    """The label(s) of binding code(s) (None stays None)."""
    if code is None:
        return None
    if is_array(code):
        import numpy as np

        return np.asarray(LABELS, dtype=object)[code]
    return LABELS[int(code)]
