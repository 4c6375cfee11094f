"""Energy of each device over the window: the energy counter delta when logged, else the trapezoid rule."""

from __future__ import annotations

import bisect
import statistics
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from .samples import ENERGY, GPU_UTIL, POWER, SM_ACTIVE, Channel, Device

GAP_FACTOR = 5.0  # an interval longer than this many median intervals is a gap


def median_interval(t: list[float]) -> float:
    """Median spacing of sample times (0 for fewer than two samples)."""
    if len(t) < 2:
        return 0.0
    return statistics.median(b - a for a, b in zip(t, t[1:]))


def _interp(t: list[float], v: list[float], x: float) -> float:
    """Linear interpolation of (t, v) at x, holding the edge values outside."""
    if x <= t[0]:
        return v[0]
    if x >= t[-1]:
        return v[-1]
    i = bisect.bisect_right(t, x)
    t0, t1, v0, v1 = t[i - 1], t[i], v[i - 1], v[i]
    return v0 + (v1 - v0) * (x - t0) / (t1 - t0)


def trapezoid(t: list[float], v: list[float], a: float, b: float) -> float:
    """Integral over [a, b] of the piecewise-linear curve through (t, v).

    Exact for power that is linear between samples (the trapezoid rule); outside
    the samples the edge value is held (callers bound that by the coverage check).
    """
    if b <= a:
        return 0.0
    if len(t) == 1:
        return v[0] * (b - a)
    inner_lo = bisect.bisect_right(t, a)
    inner_hi = bisect.bisect_left(t, b)
    xs = [a] + t[inner_lo:inner_hi] + [b]
    ys = [_interp(t, v, a)] + v[inner_lo:inner_hi] + [_interp(t, v, b)]
    return sum((xs[i + 1] - xs[i]) * (ys[i] + ys[i + 1]) / 2.0 for i in range(len(xs) - 1))


@dataclass(frozen=True)
class DeviceResult:
    """One device's figures over the window."""

    id: str
    source: str
    uuid: str | None
    method: str        # "counter" or "trapezoid"
    energy_j: float
    samples: int
    covered_s: float
    sm_active: float | None
    gpu_util: float | None

    def as_dict(self, duration: float) -> dict[str, Any]:
        """JSON form."""
        return {"id": self.id, "source": self.source, "uuid": self.uuid, "method": self.method,
                "energy_j": self.energy_j, "mean_power_w": self.energy_j / duration if duration > 0 else None,
                "samples": self.samples, "covered_s": self.covered_s, "sm_active_mean": self.sm_active,
                "gpu_utilization_mean": self.gpu_util}


def _coverage(ch: Channel, a: float, b: float) -> tuple[float, float]:
    """The part of [a, b] the channel covers, widened by one median interval at each edge."""
    tol = median_interval(ch.t)
    lo = ch.t[0] - tol if ch.t[0] > a else a
    hi = ch.t[-1] + tol if ch.t[-1] < b else b
    return max(a, lo), min(b, hi)


def _mean_over(ch: Channel | None, a: float, b: float) -> float | None:
    if ch is None or not ch.t:
        return None
    lo, hi = _coverage(ch, a, b)
    if hi <= lo:
        return None
    return trapezoid(ch.t, ch.v, lo, hi) / (hi - lo)


def _counter_energy(ch: Channel, a: float, b: float, label: str,
                    warnings: list[str]) -> tuple[float, float, float] | None:
    """(energy, covered from, covered to) from the counter delta; None when it resets in the window."""
    lo, hi = _coverage(ch, a, b)
    i0, i1 = bisect.bisect_left(ch.t, lo), bisect.bisect_right(ch.t, hi)
    seg = ch.v[max(i0 - 1, 0): i1 + 1]
    if any(y < x for x, y in zip(seg, seg[1:])):
        warnings.append(f"{label}: the energy counter goes backwards in the window (reset or wrap); "
                        "integrated power instead")
        return None
    if hi > lo:
        return _interp(ch.t, ch.v, hi) - _interp(ch.t, ch.v, lo), lo, hi
    return None


def _gap_warning(ch: Channel, a: float, b: float, label: str, warnings: list[str]) -> None:
    med = median_interval(ch.t)
    if med <= 0:
        return
    idx0 = bisect.bisect_left(ch.t, a)
    idx1 = bisect.bisect_right(ch.t, b)
    seg_t = ch.t[max(idx0 - 1, 0): idx1 + 1]
    gaps = [y - x for x, y in zip(seg_t, seg_t[1:]) if y - x > GAP_FACTOR * med and y > a and x < b]
    if gaps:
        warnings.append(f"{label}: {len(gaps)} gap(s) longer than {GAP_FACTOR:g}x the median interval "
                        f"({med:.3g} s), longest {max(gaps):.3g} s; bridged linearly")


def integrate_device(dev: Device, a: float, b: float, warnings: list[str], *,
                     prefer_counter: bool = True) -> DeviceResult:
    """Energy of one device over [a, b].

    The energy counter delta (interpolated at the window edges) when the device has
    a counter and it does not reset in the window; otherwise the trapezoid rule on
    power. A window that reaches more than one sample interval beyond the data is
    integrated only over the covered part, with a warning. Gaps longer than
    ``GAP_FACTOR`` median intervals are bridged linearly, with a warning.

    Raises:
        InputError: the device has no usable power or energy samples in the window.
    """
    label = f"GPU {dev.id} ({dev.source})"
    counted = None
    if prefer_counter and dev.has(ENERGY):
        ch = dev.channels[ENERGY]
        counted = _counter_energy(ch, a, b, label, warnings)
    if counted is not None:
        (energy, lo, hi), method = counted, "counter"
    else:
        if not dev.has(POWER):
            raise InputError(f"{dev.source}: GPU {dev.id} has fewer than two power samples; cannot integrate")
        ch = dev.channels[POWER]
        lo, hi = _coverage(ch, a, b)
        energy, method = (trapezoid(ch.t, ch.v, lo, hi) if hi > lo else 0.0), "trapezoid"
    covered = max(hi - lo, 0.0)
    if covered < (b - a) - 1e-9:
        warnings.append(f"{label}: the data covers {covered:.3f} s of the {b - a:.3f} s window; "
                        "the rest is not counted")
    inside = [x for x in ch.t if a <= x <= b]
    _gap_warning(ch, a, b, label, warnings)
    return DeviceResult(dev.id, dev.source, dev.uuid, method, energy, len(inside), covered,
                        _mean_over(dev.channels.get(SM_ACTIVE), a, b), _mean_over(dev.channels.get(GPU_UTIL), a, b))
