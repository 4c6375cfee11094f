"""`solve --for power_cap`: the power cap per device that maximises the realized token rate (docs/model.md §4.7).

Devices and the facility envelope are fixed. A lower cap slows the modeled step (the compute ceiling
falls, once the compute time outgrows the memory time it hid under) and changes J/token (the power
ceiling): J/token falls while the power drop outpaces the slowdown, and rises again below the knee
where the step turns compute-bound. The realized rate U · min(Q̇_K, Q̇_P) is therefore highest either
at the crossover of the ceilings or at the power-bound cap with the lowest J/token; while the
deployment is compute-bound the rate is flat down to the knee, and the answer is the lowest cap that
keeps it (equal tokens for the least energy).

Found by a log-spaced scan of the vectorized engine over caps from the power model's floor to the
uncapped draw, golden-section refinement around the best scan point, and bisection for the lowest
cap that reaches the maximum; the engine is re-run at the answer.
"""

from __future__ import annotations

import math
from typing import Any

from ..core import binding_code, evaluate, gate, label, with_values
from ..core.opmodel import model_of
from ..core.powercap import floor_power, lowest_power
from ..errors import InputError

SCAN = 200
BISECTIONS = 60
TIE = 1e-9  # token rates within this relative gap are equal (the lowest cap among them is the answer)
# A cap this far above any board power binds nowhere: it gives the uncapped operating point.
NO_CAP = 1e9
FORMULA = ("cap* = the lowest cap maximising U · min(N · r(cap), P_IT / e_tok(cap)) over "
           "[max(P_idle, p_0 · TDP), P_uncapped]")


class _Rate:
    """The engine as a function of the cap (scalar or an array of caps)."""

    def __init__(self, inp: Any) -> None:
        self.inp, self.statuses = inp, gate(inp)

    def __call__(self, cap: Any) -> dict[str, Any]:
        return evaluate(with_values(self.inp, power_cap=cap), self.statuses)


def best_cap(inp: Any, sol: Any) -> Any:
    """Fill `sol` (analysis.solve.Solution for key power_cap) with the cap that maximises the token rate."""
    import numpy as np

    model = model_of(inp)
    if model is None or model[1].tdp is None:
        sol.reason = ("no power cap to solve for: a cap acts through the serving model, which needs the architecture "
                      "and the hardware's peak, bandwidth and board power (see `tokencalc estimate` notes)")
        return sol
    rate = _Rate(inp)
    top = rate(NO_CAP)
    op = top["operating_point"]
    if op is None or op.source != "modeled" or top["token_rate"] is None:
        sol.reason = ("no power cap to solve for: the operating point is not modeled, or the token rate is not known "
                      "(a cap needs the serving model and both ceilings; try --operating-point modeled)")
        return sol
    high = float(op.device_power)
    low = max(float(floor_power(model[1])), float(lowest_power(op.step, model[1]))) * (1.0 + 1e-3)
    sol.bounds = (low, high)
    if high <= low:
        sol.reason = f"no cap binds: the operating point draws {high:.4g} W, at the power model's floor"
        return sol
    caps = np.geomspace(low, high, SCAN)
    rates = np.broadcast_to(np.asarray(rate(caps)["token_rate"], dtype=float), caps.shape)
    x, method = _best(rate, caps, rates)
    return _fill(sol, rate, x, method, top, float(rates.max()))


def _best(rate: _Rate, caps: Any, rates: Any) -> tuple[float, str]:
    """The lowest cap at which the token rate is at its maximum (ties: the least energy), and how it was found."""
    import numpy as np

    i = int(np.argmax(rates))
    x, q = _golden(rate, float(caps[max(i - 1, 0)]), float(caps[min(i + 1, len(caps) - 1)]))
    target = max(q, float(rates[i]))
    hits = np.nonzero(rates >= target * (1.0 - TIE))[0]
    if hits.size and caps[hits[0]] < x:
        j = int(hits[0])
        x = float(caps[0]) if j == 0 else _first_at(rate, float(caps[j - 1]), float(caps[j]), target)
    r = rate(x)
    qk, qp = r["compute_ceiling"], r["power_ceiling"]
    if abs(qk - qp) <= 1e-6 * max(qk, qp):
        return x, "maximum of the token rate, at the crossover of the ceilings"
    if qp < qk:
        return x, "maximum of the token rate: power-bound, at the cap with the lowest J/token"
    return x, "the lowest cap that keeps the maximum token rate (compute-bound; the step slows only below it)"


def _golden(rate: _Rate, a: float, b: float) -> tuple[float, float]:
    """Golden-section search in log cap for the highest token rate on [a, b]: (cap, rate)."""
    g = (math.sqrt(5.0) - 1.0) / 2.0
    la, lb = math.log(a), math.log(b)
    seen: dict[float, float] = {}

    def q(lx: float) -> float:
        if lx not in seen:
            seen[lx] = rate(math.exp(lx))["token_rate"]
        return seen[lx]

    q(la), q(lb)
    for _ in range(BISECTIONS):
        l1, l2 = lb - g * (lb - la), la + g * (lb - la)
        if q(l1) >= q(l2):
            lb = l2
        else:
            la = l1
    lx = max(seen, key=lambda k: seen[k])
    return math.exp(lx), seen[lx]


def _first_at(rate: _Rate, a: float, b: float, target: float) -> float:
    """Bisection in log cap for the lowest cap in [a, b] whose token rate reaches `target` (b does, a does not)."""
    la, lb = math.log(a), math.log(b)
    for _ in range(BISECTIONS):
        lm = 0.5 * (la + lb)
        if rate(math.exp(lm))["token_rate"] >= target * (1.0 - TIE):
            lb = lm
        else:
            la = lm
    return math.exp(lb)


def _fill(sol: Any, rate: _Rate, x: float, method: str, top: dict[str, Any], scan_best: float) -> Any:
    r = rate(x)
    qk, qp, q = r["compute_ceiling"], r["power_ceiling"], r["token_rate"]
    if q < scan_best * (1.0 - 1e-6):
        raise InputError(f"--for power_cap: the refined cap {x:.4g} W gives fewer tokens ({q:.6g}/s) than the scan's "
                         f"best ({scan_best:.6g}/s); the token rate is not unimodal in the cap here")
    sol.value, sol.method, sol.formula = x, method, FORMULA
    sol.check = {"compute_ceiling_tokens_per_s": qk, "power_ceiling_tokens_per_s": qp,
                 "relative_gap": abs(qk - qp) / max(qk, qp), "token_rate_tokens_per_s": q,
                 "token_rate_uncapped_tokens_per_s": top["token_rate"],
                 "device_power_uncapped_w": float(top["operating_point"].device_power)}
    step = 1.001
    above, below = rate(x * step), rate(x / step)
    sol.above = label(binding_code(above["compute_ceiling"], above["power_ceiling"], 0.0))
    sol.below = label(binding_code(below["compute_ceiling"], below["power_ceiling"], 0.0))
    return sol
