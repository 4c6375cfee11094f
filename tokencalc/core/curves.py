"""Measured operating curves: throughput, power and latency per device against batch (docs/model.md §12).

A workload may carry rows measured at several batch sizes (`[[measured.curve]]`).
Between two measured batches a value is interpolated piecewise-linearly in log-log
space (log batch vs log value): exact at every measured point, monotone between
two points (a power law `v_i · (B / B_i)^k` on each segment), and never below
zero. Outside the measured batch range nothing is returned: the caller falls back
to the serving model and says so. Pure: no I/O, plain floats in SI units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable

MEASURED = "measured"
INTERPOLATED = "interpolated"
OBJECTIVES = ("tokens", "energy")
GRID = 64            # log-spaced points searched inside each segment by `best`
EXACT = 1e-9         # relative distance within which a batch counts as the measured one


@dataclass(frozen=True)
class CurvePoint:
    """One operating point of a curve.

    Attributes:
        batch_size: concurrent sequences per replica (a measured mean may be fractional).
        throughput_per_device: token/s per device (on the curve's token basis).
        device_power: W per device (at the curve's boundary).
        itl: inter-token latency, s.
    """

    batch_size: float
    throughput_per_device: float
    device_power: float
    itl: float

    @property
    def j_per_token(self) -> float:
        """Energy per token at the curve's boundary: device power / per-device token rate."""
        return self.device_power / self.throughput_per_device


@dataclass(frozen=True)
class Curve:
    """Measured points of one (hardware, devices per replica, precision), sorted by batch.

    Attributes:
        hardware: hardware profile id the points were measured on.
        devices_per_replica: devices one replica spans in the measurement.
        precision: operating precision (None: not stated; matches any precision).
        points: the measured points, batch ascending, batches distinct.
        source: where the points come from (one line, as `Origin.text`).
        boundary: accounting boundary of `device_power` (docs/model.md §5).
        token_basis: which tokens `throughput_per_device` counts ("output" or "total").
    """

    hardware: str
    devices_per_replica: int
    precision: str | None
    points: tuple[CurvePoint, ...]
    source: str
    boundary: str | None = None
    token_basis: str | None = None
    _logs: tuple = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pts = tuple(sorted(self.points, key=lambda p: p.batch_size))
        for a, b in zip(pts, pts[1:]):
            if not b.batch_size > a.batch_size:
                raise ValueError(f"curve on {self.hardware}: batch {a.batch_size:g} appears twice")
        for p in pts:
            if not all(math.isfinite(x) and x > 0 for x in _values(p)):
                raise ValueError(f"curve on {self.hardware}: batch {p.batch_size:g} has a value that is not > 0")
        object.__setattr__(self, "points", pts)
        object.__setattr__(self, "_logs", tuple(tuple(math.log(x) for x in _values(p)) for p in pts))

    @property
    def batch_range(self) -> tuple[float, float]:
        """The smallest and the largest measured batch."""
        return self.points[0].batch_size, self.points[-1].batch_size


def _values(p: CurvePoint) -> tuple[float, float, float, float]:
    return p.batch_size, p.throughput_per_device, p.device_power, p.itl


def select(curves: Iterable[Curve], hardware: str | None, devices_per_replica: int | None,
           precision: str | None) -> Curve | None:
    """The curve measured on `hardware` with `devices_per_replica` devices at `precision`.

    A curve with the exact precision wins; else the one curve whose precision (or the
    request's) is unstated. `devices_per_replica` None means 1. None when nothing matches.
    """
    d = 1 if devices_per_replica is None else int(devices_per_replica)
    same = [c for c in curves if c.hardware == hardware and c.devices_per_replica == d and c.points]
    exact = [c for c in same if c.precision == precision]
    if exact:
        return exact[0]
    loose = [c for c in same if c.precision is None or precision is None]
    return loose[0] if len(loose) == 1 else None


def at(curve: Curve, batch: float) -> tuple[CurvePoint, str] | None:
    """The point at `batch`: ("measured") at a measured batch, ("interpolated") between two, None outside."""
    pts = curve.points
    if not pts or not math.isfinite(batch) or batch <= 0:
        return None
    lo, hi = curve.batch_range
    if batch < lo * (1 - EXACT) or batch > hi * (1 + EXACT):
        return None
    for p in pts:
        if abs(batch - p.batch_size) <= EXACT * p.batch_size:
            return p, MEASURED
    i = max(k for k, p in enumerate(pts) if p.batch_size < batch)
    p = _between(curve, i, math.log(batch))
    return CurvePoint(float(batch), p.throughput_per_device, p.device_power, p.itl), INTERPOLATED


def _between(curve: Curve, i: int, log_batch: float) -> CurvePoint:
    """Log-log interpolation inside segment i (between points i and i + 1) at log(batch)."""
    a, b = curve._logs[i], curve._logs[i + 1]
    t = (log_batch - a[0]) / (b[0] - a[0])
    tp, pw, itl = (math.exp(a[k] + t * (b[k] - a[k])) for k in (1, 2, 3))
    return CurvePoint(math.exp(log_batch), tp, pw, itl)


def _crossing(curve: Curve, i: int, itl_max: float) -> float | None:
    """log(batch) inside segment i where the interpolated ITL equals `itl_max` (None if it does not)."""
    a, b = curve._logs[i], curve._logs[i + 1]
    target = math.log(itl_max)
    if not (min(a[3], b[3]) < target < max(a[3], b[3])):
        return None
    return a[0] + (target - a[3]) / (b[3] - a[3]) * (b[0] - a[0])


def candidates(curve: Curve, itl_max: float | None = None, grid: int = GRID) -> list[tuple[CurvePoint, str]]:
    """Points `best` searches: the measured ones, `grid` log-spaced points inside each segment and,
    with `itl_max`, the exact batch of each segment where ITL reaches it (the optimum may sit there)."""
    out = [(p, MEASURED) for p in curve.points]
    for i in range(len(curve.points) - 1):
        a, b = curve._logs[i][0], curve._logs[i + 1][0]
        logs = [a + (b - a) * k / (grid + 1) for k in range(1, grid + 1)]
        cross = _crossing(curve, i, itl_max) if itl_max is not None else None
        if cross is not None:
            logs.append(cross)
        out += [(_between(curve, i, x), INTERPOLATED) for x in logs]
    return out


def best(curve: Curve, itl_max: float | None = None, objective: str = "tokens",
         grid: int = GRID) -> tuple[CurvePoint, str] | None:
    """The batch that maximises throughput per device ("tokens") or minimises J/token ("energy").

    Searched over `candidates` with ITL <= `itl_max` (s; None: no limit). Ties go to the
    smaller batch (lower latency). None when no point meets `itl_max`.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    # A crossing is exact up to rounding: allow the last ulp-level excess.
    limit = None if itl_max is None else itl_max * (1 + 1e-12)
    feasible = [c for c in candidates(curve, itl_max, grid) if limit is None or c[0].itl <= limit]
    if not feasible:
        return None
    if objective == "tokens":
        return min(feasible, key=lambda c: (-c[0].throughput_per_device, c[0].batch_size))
    return min(feasible, key=lambda c: (c[0].j_per_token, c[0].batch_size))
