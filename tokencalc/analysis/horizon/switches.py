"""Switch dates and band edges: where the deployment crosses γ = γ*, and where it enters or leaves "balanced".

A state combines the side of the crossover (the core classifier with a band of
rounding size: ceilings equal to rounding, as when a ramp ends on the other
ceiling, are not a switch) and the class with the scenario's own balanced band
(the series labels and the shares of the horizon). Each smooth segment between
trajectory breakpoints is sampled (64 points plus the series grid), every change
of state between neighbours is bracketed and refined by bisection. Jumps at
breakpoints (a dated step) change state at their date.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ...core import binding_code
from ...core.classify import POWER
from .numerics import bisect

SAMPLES = 64               # per smooth segment
MAX_PASSES = 4             # changes of state one bracket may hide (into the band, across, out of it)
ROUNDING = 1e-12           # the band of the crossover itself
SIDES = ("compute", "power")
KEYS = ("compute_ceiling", "power_ceiling", "binding")   # what a state needs from the engine


def state(e: dict) -> np.ndarray:
    """2 × the binding class (with the scenario's band) + the side of the crossover (1: power side)."""
    side = binding_code(e["compute_ceiling"], e["power_ceiling"], ROUNDING) == POWER
    return (2 * np.asarray(e["binding"], dtype=np.int8) + side).astype(np.int8)


def crossovers(found: list[tuple[float, int, int]]) -> list[tuple[float, int, int]]:
    """The changes of state that cross γ = γ*: (time, side before, side after)."""
    return [(t, a % 2, b % 2) for t, a, b in found if a % 2 != b % 2]


def find(code: Callable[..., np.ndarray], edges: np.ndarray, grid: np.ndarray, grid_codes: np.ndarray,
         T: float) -> list[tuple[float, int, int]]:
    """(time, state before, state after) of every change of state in [0, T], in time order.

    Args:
        code: the state (see :func:`state`) at times (`code(t, left=True)` gives left limits).
        edges: 0, the breakpoints inside (0, T), and T.
        grid: the series times (they bracket too, finer where the user asked for a fine series).
        grid_codes: the state at `grid`.
        T: the horizon (the bisection tolerance is 1e-12 T).
    """
    a, b = edges[:-1], edges[1:]
    inner = a[:, None] + (b - a)[:, None] * (np.arange(1, SAMPLES) / SAMPLES)[None, :]
    c_in = code(inner.ravel()).reshape(inner.shape)
    c_a, c_b = code(a), code(b, left=True)
    lo_l, hi_l = [], []
    for s in range(len(a)):
        i0, i1 = np.searchsorted(grid, a[s], side="right"), np.searchsorted(grid, b[s], side="left")
        pts = np.concatenate([inner[s], grid[i0:i1]])
        order = np.argsort(pts, kind="stable")
        xs = np.concatenate([[a[s]], pts[order], [b[s]]])
        cs = np.concatenate([[c_a[s]], np.concatenate([c_in[s], grid_codes[i0:i1]])[order], [c_b[s]]])
        change = np.nonzero(cs[1:] != cs[:-1])[0]
        lo_l.append(xs[change])
        hi_l.append(xs[change + 1])
    found = _refine(code, np.concatenate(lo_l), np.concatenate(hi_l), T)
    found += [(float(edges[k + 1]), int(c_b[k]), int(c_a[k + 1])) for k in range(len(a) - 1) if c_b[k] != c_a[k + 1]]
    return sorted(found)


def _refine(code: Callable[..., np.ndarray], lo: np.ndarray, hi: np.ndarray, T: float) -> list[tuple[float, int, int]]:
    keep = hi > lo
    lo, hi = lo[keep], hi[keep]
    out: list[tuple[float, int, int]] = []
    for _ in range(MAX_PASSES):
        if not lo.size:
            break
        end_code = code(hi)
        a, z = bisect(code, lo, hi, xtol=1e-12 * T)
        before, after = code(a), code(z)
        out += [(float(0.5 * (x + y)), int(p), int(q)) for x, y, p, q in zip(a, z, before, after)]
        more = after != end_code          # another change between the one found and the bracket's end
        lo, hi = z[more], hi[more]
    return out
