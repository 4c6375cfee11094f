"""One-at-a-time sensitivity (the tornado): each ranged input at its low and high end, the others at their modes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...core import fields as F
from ...errors import InputError
from .ranges import collect
from .sampling import METRICS, evaluate

NO_CHART = ("no ranged input moves this metric: no tornado chart to draw "
            "(give ranges as { low, mode, high } or { value, rel } in a profile or scenario)")


@dataclass(frozen=True)
class Swing:
    """One bar of the tornado: a metric with one input at its low and high ends, the others at their modes.

    Attributes:
        key, low, mode, high, unit, source: the ranged input (SI).
        metric, metric_unit: the output looked at (a key of `METRICS`).
        base: the metric at the modes (the point estimate).
        at_low, at_high: the metric with this input at its low / high end (None if unknown).
    """

    key: str
    low: float
    mode: float
    high: float
    unit: str
    source: str
    metric: str
    metric_unit: str
    base: float | None
    at_low: float | None
    at_high: float | None

    @property
    def swing(self) -> float | None:
        """|metric(high) - metric(low)|, the bar's length."""
        if self.at_low is None or self.at_high is None:
            return None
        return abs(self.at_high - self.at_low)

    @property
    def swing_rel(self) -> float | None:
        """The swing as a share of the base value."""
        s = self.swing
        return None if s is None or not self.base else s / abs(self.base)

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON description (SI)."""
        return {"key": self.key, "low": self.low, "mode": self.mode, "high": self.high, "unit": self.unit,
                "source": self.source, "at_low": self.at_low, "at_high": self.at_high, "swing": self.swing,
                "swing_rel": self.swing_rel}


def tornado(resolved: Any, metric: str = "token_rate_tokens_per_s") -> list[Swing]:
    """One-at-a-time swings of `metric`: each ranged input at its low and high end, the others at their modes.

    Args:
        resolved: a `scenario.Resolved`.
        metric: a key of `METRICS` (default the token rate).

    Returns:
        One Swing per ranged input, largest swing first (ties and unknown swings by
        key, unknown last). Inputs without a range have no swing.

    Raises:
        InputError: unknown metric.
    """
    import numpy as np

    if metric not in METRICS:
        raise InputError(f"--metric {metric!r}: expected one of {', '.join(METRICS)}")
    core_key, unit = F.field(metric).engine, F.field(metric).unit
    ranged = collect(resolved).inputs
    inp = resolved.inputs
    base = evaluate(inp, ranged, [r.mode for r in ranged])[core_key]
    if not ranged:
        return []
    k = len(ranged)
    columns = []
    for i, r in enumerate(ranged):
        col = np.full(2 * k, r.mode)
        col[2 * i], col[2 * i + 1] = r.low, r.high
        columns.append(col)
    v = evaluate(inp, ranged, columns)[core_key]
    swings = []
    for i, r in enumerate(ranged):
        if v is None:
            lo = hi = None
        elif np.ndim(v) == 0:
            lo = hi = float(v)
        else:
            lo, hi = float(v[2 * i]), float(v[2 * i + 1])
        swings.append(Swing(r.key, r.low, r.mode, r.high, r.unit, r.source, metric, unit,
                            None if base is None else float(base), lo, hi))
    return sorted(swings, key=lambda s: (s.swing is None, -(s.swing or 0.0), s.key))
