"""Solve for the crossover: the value of one input at which γ = γ* (Q̇_K = Q̇_P).

Where the ratio R = Q̇_K / Q̇_P is a power law in the key (R ∝ x^s, e.g. P_IT, PUE,
devices, e_tok) the answer is closed form, x* = x0 · R(x0)^(-1/s); otherwise (a
roofline-capped K_eff, a cooling cap, a key both ceilings depend on) it is found by
scanning log R over the admissible range with the vectorized engine and refining
each sign change by bracketed root finding. Every answer is checked by running the
engine at the solution: the two ceilings must agree within 1e-9.

Pure: takes a request or resolved `Inputs`, returns a `Solution` (the planner's
sentence is `render.solve.message`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from ..core import Inputs, binding_code, estimate, evaluate, gate, label, with_values
from ..errors import InputError
from ..resolve import schema as S
from ..resolve.fields import core_unit
from ..resolve.profiles import suggest
from ..resolve.scenario import Request, resolve, resolve_with

SCHEMA = "tokencalc.solve/1"
CHECK_TOLERANCE = 1e-9

# key -> (exponent s of R = Q̇_K/Q̇_P in the key when the dependence is a power law, formula)
CLOSED_FORM: dict[str, tuple[int, str]] = {
    "p_it": (-1, "P_IT* = K_eff · e_tok / c_tok"),
    "p_facility": (-1, "P_facility* = PUE · K_eff · e_tok / c_tok"),
    "pue": (1, "PUE* = P_facility · c_tok / (K_eff · e_tok)"),
    "devices": (1, "N* = P_IT / (K_eff per device · γ),  γ = e_tok / c_tok"),
    "e_tok": (1, "e_tok* = P_IT · c_tok / K_eff  (= γ* · c_tok)"),
    "k_eff": (1, "K_eff* = P_IT · c_tok / e_tok"),
    "throughput_per_device": (1, "r* = P_IT / (N · e_tok)"),
    "device_power": (1, "p* = P_IT / N  (the fleet's draw equals the delivered power)"),
    "c_tok": (-1, "c_tok* = K_eff · e_tok / P_IT"),
}

SOLVABLE = ("p_it", "p_facility", "pue", "devices", "e_tok", "c_tok", "k_eff", "throughput_per_device",
            "kernel_efficiency", "availability", "peak_flops", "device_power", "cooling_capacity", "it_overhead",
            "context_length", "batch_size",  # these two move the operating point (core/operating.py)
            "power_cap")  # not a crossover: the cap that maximises tokens (analysis/capsolve.py)

NOT_MEANINGFUL = {
    "utilization": "U multiplies the realized rate after the min(): it scales output but never moves the crossover",
    "electricity_price": "the price enters cost only, not either ceiling",
    "carbon_intensity": "grid carbon intensity enters emissions only, not either ceiling",
    "horizon": "the horizon scales totals only, not either ceiling",
    "binding_tolerance": "the tolerance only widens the band called balanced",
    "input_output_ratio": "it converts token bases while the scenario is resolved; give the converted figures instead",
}


@dataclass
class Solution:
    """The crossover value of one key, or why there is none."""

    key: str
    unit: str
    value: float | None
    method: str | None = None
    formula: str | None = None
    current: float | None = None
    binding_now: str | None = None
    above: str | None = None          # regime when the key is above the crossover
    below: str | None = None
    reason: str | None = None         # why there is no crossover
    other_roots: list[float] = field(default_factory=list)
    check: dict[str, float] | None = None
    bounds: tuple[float, float] | None = None

    @property
    def exists(self) -> bool:
        """True when a crossover was found in the admissible range."""
        return self.value is not None

    def to_json(self, scenario: str | None = None) -> dict[str, Any]:
        """Plain data, SI units."""
        out: dict[str, Any] = {
            "schema": SCHEMA, "scenario": scenario, "key": self.key, "unit": self.unit,
            "value": self.value, "crossover": self.exists, "method": self.method, "formula": self.formula,
            "current_value": self.current, "binding_now": self.binding_now,
            "binding_above": self.above, "binding_below": self.below,
            "reason": self.reason, "other_roots": list(self.other_roots), "check": self.check,
        }
        if self.key == "devices":
            out["max_devices"] = (math.floor(self.value * (1 + 1e-12)) if self.exists and self.above == "power" else None)
        return out


def check_key(key: str) -> str:
    """Normalize and validate the key given to `--for`.

    Raises:
        InputError: unknown key (with a suggestion) or a key that cannot move the crossover.
    """

    k = key.strip().lower().replace("-", "_")
    if k in SOLVABLE:
        return k
    if k in NOT_MEANINGFUL:
        raise InputError(f"--for {key}: no crossover to solve for: {NOT_MEANINGFUL[k]}")
    if k in S.CORE:
        raise InputError(f"--for {key}: not a number that moves the crossover; choose one of {', '.join(SOLVABLE)}")
    raise InputError(f"--for {key!r}: not a core input" + suggest(k, SOLVABLE) + f" (choose one of {', '.join(SOLVABLE)})")


def _bounds(key: str, x0: float) -> tuple[float, float]:
    """Admissible scan range of the key (SI)."""
    f = S.CORE[key]
    if f.max is not None and f.max <= 1.0:                 # fractions (0, 1]
        return 1e-9, 1.0
    lo = f.min if (f.min is not None and not f.min_open and f.min > 0) else x0 * 1e-12
    if key == "devices":
        lo = 1.0
    return lo, max(x0, lo) * 1e12


def _admissible(key: str, x: float) -> bool:
    f = S.CORE[key]
    if key == "devices" and x < 1:
        return False
    if f.min is not None and (x <= f.min if f.min_open else x < f.min):
        return False
    if f.max is not None and (x >= f.max if f.max_open else x > f.max):
        return False
    return True


class _Engine:
    """log(Q̇_K/Q̇_P) as a function of one key, scalar or vectorized."""

    def __init__(self, inp: Inputs, key: str) -> None:
        self.inp, self.key = inp, key
        self.statuses = gate(inp)

    def ceilings(self, x: Any) -> tuple[Any, Any]:
        r = evaluate(with_values(self.inp, **{self.key: x}), self.statuses)
        return r["compute_ceiling"], r["power_ceiling"]

    def log_ratio(self, x: Any) -> Any:
        qk, qp = self.ceilings(x)
        if qk is None or qp is None:
            which = "compute" if qk is None else "power"
            raise InputError(f"--for {self.key}: the {which} ceiling cannot be computed in this scenario "
                             "(see `tokencalc estimate` notes for what is missing), so there is no crossover to find")
        if hasattr(qk, "shape") or hasattr(qp, "shape"):
            import numpy as np

            return np.log(np.asarray(qk, dtype=float) / np.asarray(qp, dtype=float))
        return math.log(qk / qp)


def _refine(f: Callable[[float], float], a: float, b: float, fa: float, fb: float) -> float:
    """A root of f in [a, b] (f(a), f(b) of opposite signs), searched in log x.

    Illinois regula falsi: bracketed like bisection, superlinear on the smooth
    pieces the engine produces; falls back to bisection steps when it stalls.
    """
    la, lb = math.log(a), math.log(b)
    side = 0
    for _ in range(200):
        if fa == fb:
            lc = 0.5 * (la + lb)
        else:
            lc = (la * fb - lb * fa) / (fb - fa)
            if not (min(la, lb) < lc < max(la, lb)):
                lc = 0.5 * (la + lb)
        fc = f(math.exp(lc))
        if fc == 0 or abs(lb - la) < 1e-15 * max(1.0, abs(lc)):
            return math.exp(lc)
        if (fc > 0) == (fb > 0):
            lb, fb = lc, fc
            if side == -1:
                fa /= 2
            side = -1
        else:
            la, fa = lc, fc
            if side == 1:
                fb /= 2
            side = 1
    return math.exp(0.5 * (la + lb))


def solve(inp: Inputs, key: str, *, current: float | None = None, binding_now: str | None = None,
          scan_points: int = 4001) -> Solution:
    """The value of `key` at which the two ceilings are equal (γ = γ*).

    Args:
        inp: inputs resolved with `key` set as a flag (at `current`, or at a nominal
            value when the scenario does not set it), so exclusive inputs follow the flag rules.
        key: a key of :data:`SOLVABLE`.
        current: the scenario's own value of the key (SI), for reporting.
        binding_now: the scenario's binding constraint now, for reporting.
        scan_points: points of the log-spaced scan for root finding.

    Returns:
        The solution; `value` None with a `reason` when no crossover exists in the
        admissible range.
    """
    sol = Solution(key, core_unit(key), None, current=current, binding_now=binding_now)
    if key == "power_cap":
        from .capsolve import best_cap

        return best_cap(inp, sol)
    eng = _Engine(inp, key)
    x0 = float(getattr(inp, key))
    sol.bounds = _bounds(key, x0)
    if key in CLOSED_FORM and _closed_form(eng, sol, x0):
        return sol
    roots, fs = _scan(eng, *sol.bounds, scan_points)
    if not roots:
        sol.reason = _no_root(eng, sol, fs)
        return sol
    roots.sort(key=lambda r: abs(math.log(r / x0)))
    lo, hi = sol.bounds
    best = roots[0]
    if not _accept(eng, sol, best, "root finding",
                   f"log(Q̇_K/Q̇_P) = 0, bracketed over {_fmt(lo, sol.unit)} to {_fmt(hi, sol.unit)}"):
        sol.reason = f"root finding did not converge for {key} near {_fmt(best, sol.unit)}"
        return sol
    sol.other_roots = sorted(roots[1:])
    sol.above, sol.below = _sides(eng, best)
    return sol


def _accept(eng: _Engine, sol: Solution, x: float, method: str, formula: str | None) -> bool:
    """Re-run the engine at x: take it as the answer when the ceilings agree to CHECK_TOLERANCE."""
    qk, qp = eng.ceilings(x)
    gap = abs(qk - qp) / max(qk, qp)
    if gap > CHECK_TOLERANCE:
        return False
    sol.value, sol.method, sol.formula = x, method, formula
    sol.check = {"compute_ceiling_tokens_per_s": qk, "power_ceiling_tokens_per_s": qp, "relative_gap": gap}
    return True


def _closed_form(eng: _Engine, sol: Solution, x0: float) -> bool:
    """The power-law answer x* = x0 · R(x0)^(-1/s), when the engine confirms it (True: `sol` is final)."""
    s, formula = CLOSED_FORM[sol.key]
    x = x0 * math.exp(-eng.log_ratio(x0) / s)
    if not (math.isfinite(x) and x > 0):
        return False
    qk, qp = eng.ceilings(x)
    if abs(qk - qp) / max(qk, qp) > CHECK_TOLERANCE:
        return False  # not a power law in this scenario: scan instead
    if _admissible(sol.key, x):
        _accept(eng, sol, x, "closed form", formula)
    else:
        sol.reason = _outside(sol.key, x, sol.unit)
    sol.above, sol.below = _sides(eng, x)
    return True


def _scan(eng: _Engine, lo: float, hi: float, points: int) -> tuple[list[float], Any]:
    """Roots of log(Q̇_K/Q̇_P) over a log-spaced scan of [lo, hi], each refined by bracketing."""
    import numpy as np

    xs = np.geomspace(lo, hi, points)
    fs = np.broadcast_to(eng.log_ratio(xs), xs.shape)
    sign = np.sign(fs)
    roots: list[float] = []
    for i in np.nonzero(sign[:-1] * sign[1:] <= 0)[0].tolist():
        if sign[i] == 0:
            r = float(xs[i])
        elif sign[i + 1] == 0:
            continue  # picked up as the left end of the next pair
        else:
            r = _refine(eng.log_ratio, float(xs[i]), float(xs[i + 1]), float(fs[i]), float(fs[i + 1]))
        if not roots or abs(math.log(r / roots[-1])) > 1e-9:
            roots.append(r)
    return roots, fs


def _no_root(eng: _Engine, sol: Solution, fs: Any) -> str:
    import numpy as np

    lo, hi = sol.bounds
    spread = float(np.max(np.abs(fs - fs[0])))
    regime = "power" if fs[0] > 0 else "compute"
    if spread <= 1e-12 * max(1.0, abs(float(fs[0]))):
        return (f"no crossover: {sol.key} moves neither ceiling relative to the other in this scenario "
                f"({_why_cancels(sol.key, eng.inp)}); it stays {regime}-bound at any {sol.key}")
    return (f"no crossover for {sol.key} in the admissible range {_fmt(lo, sol.unit)} to {_fmt(hi, sol.unit)}: "
            f"{regime}-bound throughout")


def _sides(eng: _Engine, x: float) -> tuple[str, str]:
    """Regime just above and just below x: the classifier on the strict side of the crossover (no band)."""
    step = 1.001
    return (label(binding_code(*eng.ceilings(x * step), 0.0)), label(binding_code(*eng.ceilings(x / step), 0.0)))


def _outside(key: str, x: float, unit: str) -> str:
    f = S.CORE[key]
    if key == "devices":
        bound = ">= 1 device"
    elif f.max is not None and x > f.max:
        bound = f"<= {f.max:g}"
    elif f.min is not None:
        bound = f"{'>' if f.min_open else '>='} {f.min:g}"
    else:
        bound = "> 0"
    return f"no crossover in the admissible range: {key} would have to be {_fmt(x, unit)}, but it must be {bound}"


def _why_cancels(key: str, inp: Inputs) -> str:
    if key == "c_tok" and inp.throughput_per_device is not None and inp.k_eff is None:
        return "K_eff is realized as N·r·c_tok, so Q̇_K = N·r does not depend on c_tok, nor does Q̇_P"
    if key in ("k_eff", "throughput_per_device", "kernel_efficiency", "availability", "c_tok") and \
            inp.e_tok is None and inp.device_power is not None:
        return "e_tok is modeled from device power and the realized rate, so both ceilings scale together"
    if key == "pue" and inp.p_it is not None:
        return "P_IT is given directly, so PUE does not change the delivered power"
    if key == "peak_flops":
        return "K_eff does not use the peak (it is realized or given), only the peak convention does"
    return "its effect cancels or it does not enter either ceiling"


def _fmt(x: float, unit: str) -> str:
    # Reasons are plain text in JSON: SI with four significant digits.
    return f"{x:.4g}" if unit == "1" else f"{x:.4g} {unit}"


def nominal(key: str) -> float:
    """A reference value for a key the scenario does not set (its schema example)."""
    from ..units import parse

    f = S.CORE[key]
    if f.type == "int":
        return 1000.0
    return parse(f.example, f.dim, key=key)


def current(key: str, inputs: Inputs, r: dict[str, Any], flags: dict[str, str]) -> float | None:
    """The scenario's value of `key` as the flag of that name would state it (None if not set).

    Args:
        key: the solved key.
        inputs: the resolved inputs.
        r: the engine's result for them.
        flags: the request's flags (a flag's boundary decides which e_tok is meant).
    """
    engine_key = {"p_it": "p_it", "p_facility": "p_facility", "c_tok": "c_tok_base", "k_eff": "k_eff"}
    if key in engine_key:
        return r[engine_key[key]]
    if key == "e_tok":
        if "e_tok_boundary" in flags:
            same = inputs.e_tok_boundary == flags["e_tok_boundary"]
            return r["e_tok_at_boundary"] if same else None
        return r["e_tok_it"]   # IT boundary, before levers
    if key == "device_power" and inputs.e_tok_boundary != flags.get("e_tok_boundary", "it"):
        return None
    v = getattr(inputs, key)
    return None if v is None else float(v)


@dataclass
class Solved:
    """A solution with the scenario it was solved for and its estimate now."""

    solution: Solution
    scenario: str | None
    now: Any            # core.Result of the scenario as it stands


def solve_request(request: Request, key: str) -> Solved:
    """Solve a request for `key` (see :func:`solve`): resolve, state the current value, solve.

    A flag for the same input (or one answering the same question, like --p-facility for
    `p_it`) states the current value; a key the scenario does not set is solved from a
    nominal value.
    """
    key = check_key(key)
    base = resolve(request)
    now = estimate(base.inputs)
    cur = current(key, base.inputs, now.engine, request.flags)
    x0 = cur if cur else nominal(key)
    inputs = resolve_with(request, {key: x0}, replace_partners=True).inputs
    sol = solve(inputs, key, current=cur, binding_now=now.values["binding"])
    return Solved(sol, base.inputs.scenario, now)
