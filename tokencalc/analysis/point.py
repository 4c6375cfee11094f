"""One operating point from a request: resolve, estimate, and (optionally) sample its ranges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core import Result
from ..core import estimate as core_estimate
from ..errors import InputError
from ..resolve.scenario import Request, Resolved, resolve


@dataclass
class Estimate:
    """An estimate with the profiles behind it and, with `mc`, its Monte Carlo band."""

    resolved: Resolved
    result: Result
    mc: Any = None          # uncertainty.MCResult
    disaggregated: Any = None  # disaggregated.Disaggregated, when the scenario names a prefill fleet

    def to_dict(self) -> dict[str, Any]:
        """The `estimate --format json` document (with `mc` when sampled)."""
        out = self.result.to_json()
        if self.mc is not None:
            out["mc"] = self.mc.to_json()
        if self.disaggregated is not None:
            out["disaggregated"] = self.disaggregated.to_json()
        return out


def estimate(request: Request, *, mc: int | None = None, seed: int | None = None) -> Estimate:
    """Resolve `request` and evaluate it; with `mc`, sample its ranged inputs `mc` times.

    Raises:
        TokencalcError: any invalid profile, reference, key, unit or conflict; `seed` without `mc`.
    """
    if seed is not None and mc is None:
        raise InputError("--seed needs --mc N (the number of Monte Carlo samples)")
    resolved = resolve(request)
    result = core_estimate(resolved.inputs)
    sampled = None
    if mc is not None:
        from .uncertainty import monte_carlo

        sampled = monte_carlo(resolved, mc, 0 if seed is None else seed)
    from .disaggregated import disaggregate

    return Estimate(resolved, result, sampled, disaggregate(resolved, result, request))
