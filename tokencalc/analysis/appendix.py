"""Everything a report documents, computed once: the estimate, the horizon and the uncertainty.

The report renderer receives this object and formats it; it runs no analysis itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core import Result, estimate
from ..resolve.scenario import Request, Resolved, resolve

MC_SAMPLES = 20_000
MC_SEED = 0


@dataclass
class Appendix:
    """The analyses behind one report.

    Attributes:
        resolved: the profiles and inputs.
        result: the estimate at constant inputs.
        projection: the horizon with the scenario's trajectories (None without a [trajectory]).
        mc: the Monte Carlo band (None without ranged inputs).
        swings: the tornado of the token rate (empty without ranged inputs).
    """

    resolved: Resolved
    result: Result
    projection: Any = None
    mc: Any = None
    swings: list[Any] = field(default_factory=list)


def appendix(request: Request, *, samples: int = MC_SAMPLES, seed: int = MC_SEED) -> Appendix:
    """Resolve `request` and run every analysis its report shows."""
    resolved = resolve(request)
    out = Appendix(resolved, estimate(resolved.inputs))
    scen = resolved.scenario
    if scen is not None and scen.raw.get("trajectory"):
        from .horizon import project

        out.projection = project(resolved)
    if any(p.ranges for p in resolved.profiles()):
        from .uncertainty import collect, monte_carlo, tornado

        if collect(resolved).inputs:
            out.mc = monte_carlo(resolved, samples, seed)
            out.swings = tornado(resolved)
    return out
