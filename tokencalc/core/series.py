"""Hourly series of an input (electricity price, carbon intensity): a step function of time (docs/model.md §8.2).

Each value holds from its timestamp to the next; the last for the series' median interval, so
the series spans `period` seconds. Beyond its end (or before its start) it repeats cyclically:
a one-year series serves a multi-year horizon. The mean over a window is exact, from the
cumulative integral at the knots, and vectorised over numpy arrays of window ends (a sweep of
the horizon). Reading the file is `tokencalc.resolve.series`'s; this module never reads files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..units import factor

DAY = factor("day", "time")
MAX_STEPS = 2_000_000   # step times a projection may place in its horizon (~228 years of hourly values)
if TYPE_CHECKING:
    import numpy as np   # imported where used: an estimate without a series never loads numpy


@dataclass(frozen=True, eq=False)
class Series:
    """One input as a step function of time.

    Attributes:
        key: the input it gives (`electricity_price`, `carbon_intensity`).
        times: s from the first timestamp (times[0] == 0), strictly increasing.
        values: SI values, one per time (each holds until the next time).
        period: the span (s): the last time plus the median interval.
        path: the file, as shown to the user.
        origin: the first timestamp (ISO 8601, UTC).
        unit: the unit of the file's header (for messages).
        source: where the series comes from (the profile's citation, or the flag).
        offset: the series time (s) at the scenario's t = 0 (from `start_date`, else 0).
        note: how t = 0 was placed when the scenario's start date lies outside the series.
    """

    key: str
    times: np.ndarray
    values: np.ndarray
    period: float
    path: str
    origin: str
    unit: str
    source: str = ""
    offset: float = 0.0
    note: str = ""

    def __post_init__(self) -> None:
        import numpy as np

        widths = np.diff(np.append(self.times, self.period))
        object.__setattr__(self, "_cum", np.concatenate([[0.0], np.cumsum(self.values * widths)]))

    @property
    def points(self) -> int:
        """Number of values."""
        return int(self.times.size)

    @property
    def interval(self) -> float:
        """The median interval between timestamps (s)."""
        import numpy as np

        return float(np.median(np.diff(self.times))) if self.times.size > 1 else self.period

    def integral(self, x: Any) -> Any:
        """∫ from series time 0 to `x` (s, float or array) of the cyclically repeated step function."""
        import numpy as np

        x = np.asarray(x, dtype=float)
        k = np.floor(x / self.period)
        r = x - k * self.period
        i = np.clip(np.searchsorted(self.times, r, side="right") - 1, 0, self.times.size - 1)
        out = k * self._cum[-1] + self._cum[i] + self.values[i] * (r - self.times[i])  # type: ignore[attr-defined]
        return out if out.ndim else float(out)

    def value_at(self, t: Any) -> Any:
        """The value at scenario time `t` (s, float or array)."""
        import numpy as np

        x = np.asarray(t, dtype=float) + self.offset
        r = x - np.floor(x / self.period) * self.period
        i = np.clip(np.searchsorted(self.times, r, side="right") - 1, 0, self.times.size - 1)
        out = self.values[i]
        return out if np.ndim(out) else float(out)

    def mean(self, t0: Any, t1: Any) -> Any:
        """Mean over scenario times [t0, t1] (s; floats or arrays): the value at t0 where t1 == t0."""
        import numpy as np

        t0, t1 = np.asarray(t0, dtype=float), np.asarray(t1, dtype=float)
        width = t1 - t0
        with np.errstate(invalid="ignore", divide="ignore"):
            m = (self.integral(t1 + self.offset) - self.integral(t0 + self.offset)) / width
        out = np.where(width > 0, m, self.value_at(t0))
        return out if out.ndim else float(out)

    def cyclic_over(self, horizon: Any) -> bool:
        """Whether [0, horizon] runs past the series' end (it then repeats)."""
        import numpy as np

        return bool(np.any(np.asarray(horizon, dtype=float) + self.offset > self.period * (1 + 1e-12)))

    def steps(self, horizon: float) -> tuple[np.ndarray, np.ndarray]:
        """The step function on [0, horizon] in scenario time: (step times, starting with 0; values).

        Raises:
            InputError: more than MAX_STEPS steps (a very long horizon for an hourly series).
        """
        import numpy as np

        lo, hi = self.offset, self.offset + float(horizon)
        k0, k1 = int(math.floor(lo / self.period)), int(math.floor(hi / self.period))
        if (k1 - k0 + 1) * self.times.size > MAX_STEPS:
            raise InputError(f"{self.key} series {self.path}: {self.points:,} values repeated over the horizon give "
                             f"more than {MAX_STEPS:,} steps; shorten the horizon or resample the series")
        ks = np.arange(k0, k1 + 1, dtype=float)
        t = (ks[:, None] * self.period + self.times[None, :]).ravel()
        v = np.tile(self.values, ks.size)
        inside = (t > lo) & (t < hi)
        return np.concatenate([[0.0], t[inside] - lo]), np.concatenate([[self.value_at(0.0)], v[inside]])

    def describe(self) -> str:
        """One line for provenance: the file, its points and span, and its source."""
        text = f"{self.path}, {self.points:,} values from {self.origin} over {self.period / DAY:.4g} day"
        return text + (f"; {self.source}" if self.source else "")

    def to_json(self, horizon: Any) -> dict[str, Any]:
        """The series' summary in `input_series` of the JSON documents (SI units)."""
        import numpy as np

        scalar = np.ndim(horizon) == 0
        return {"file": self.path, "points": self.points, "start": self.origin, "span_s": self.period,
                "interval_s": self.interval, "offset_s": self.offset, "unit": self.unit,
                "mean_over_horizon": float(self.mean(0.0, horizon)) if scalar else None,
                "min": float(self.values.min()), "max": float(self.values.max()),
                "repeats": self.cyclic_over(horizon), "source": self.source}


SERIES_FIELDS = {"electricity_price": "electricity_price_series", "carbon_intensity": "carbon_intensity_series"}


def series_of(inp: Any) -> dict[str, Series]:
    """The inputs' series by the input they give."""
    return {k: getattr(inp, f) for k, f in SERIES_FIELDS.items() if getattr(inp, f, None) is not None}


def series_json(inp: Any) -> dict[str, Any]:
    """`input_series` of `estimate --format json`: one summary per series (empty without one)."""
    return {k: s.to_json(inp.horizon) for k, s in series_of(inp).items()}


def series_notes(inp: Any) -> list[str]:
    """Notes on the series: the mean over the horizon, and a cyclic repeat past the series' end."""
    out = []
    for key, s in series_of(inp).items():
        if s.note:
            out.append(s.note)
        if s.cyclic_over(inp.horizon):
            out.append(f"The hourly {key.replace('_', ' ')} series {s.path} spans {s.period / DAY:.4g} day; "
                       "the horizon runs past its end, so it repeats cyclically.")
    return out
