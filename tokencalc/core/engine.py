"""The Token Production Function: the one evaluation every command calls.

    Q̇_K = K_eff / c_tok          compute ceiling   [token/s]
    Q̇_P = P_IT / e_tok           power ceiling     [token/s]
    Q̇   = U · min(Q̇_K, Q̇_P)     realized rate     [token/s]
    γ   = e_tok / c_tok          γ* = P_IT / K_eff [J/FLOP]

:func:`evaluate` applies the derivation table, the lever product and the
binding classifier, then the production function and the energy accounting,
on floats or (elementwise) on numpy arrays. Estimate, compare, sweep, project,
Monte Carlo, tornado, solve and calibrate all call it; none re-derives physics.
"""

from __future__ import annotations

from typing import Any, Mapping

from .arith import known, minimum
from .classify import binding_code
from . import ladder
from .derive import derive, kaplan_c_tok
from .inputs import Inputs
from .levers import LeverStatus, factors, gate
from .operating import settle
from .opmodel import SERVING_RULE, model_of, step_at
from .costs import costs
from .requests import requests

# The Inputs fields that enter the ceilings, the rate, energy, cost or emissions
# (others only feed reported ratios, such as η_E, or the lever gate).
RATE_FIELDS = frozenset({
    "devices", "peak_flops", "k_eff", "throughput_per_device", "kernel_efficiency", "availability", "c_tok",
    "context_length", "batch_size", "devices_per_replica", "weight_bytes", "kv_bytes_per_token", "hbm_bandwidth",
    "e_tok", "device_power", "it_overhead", "p_facility", "pue", "p_it", "cooling_capacity", "utilization",
    "electricity_price", "carbon_intensity", "horizon", "prefill_share", "binding_tolerance",
    # the serving model's (a modeled K_eff and e_tok, docs/model.md §4.3)
    "active_params", "total_params", "bytes_per_param", "n_layers", "d_attn", "d_model", "n_experts",
    "experts_per_token", "expert_params", "hbm_capacity", "idle_power", "interconnect_bandwidth", "tdp",
    "input_tokens", "input_output_ratio", "server_power_per_device", "serving_compute_efficiency",
    "serving_memory_efficiency", "serving_step_overhead", "serving_sequence_overhead", "serving_collective_latency",
    "serving_power_base", "serving_power_compute", "serving_power_memory",
    "node_overhead", "rack_overhead", "fabric_overhead", "output_tokens",
    "device_price", "device_hourly_price", "lifetime", "embodied_carbon", "capex_per_it_power", "facility_lifetime",
    "opex_per_it_power", "wue", "grid_water_intensity",
    "power_cap", "serving_dvfs_exponent",  # a power cap slows the modeled step (docs/model.md §4.7)
})
GATE_FIELDS = frozenset({"tpot_slo", "tpot_measured", "quality"})


def _step(d: Inputs, c_tok: Any) -> Any:
    """The serving model's decode step at the inputs' batch (None when it cannot run, or when measurements
    only were asked for: `operating_point = "measured"`); the bound K_eff and the power model read it."""
    if d.operating_point == "measured" or d.batch_size is None:
        return None
    model = model_of(d, c_tok)
    return None if model is None else step_at(d, model, d.batch_size, c_tok)


def evaluate(inp: Inputs, statuses: list[LeverStatus] | None = None,
             lever_values: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Both ceilings, the realized rate, γ, γ*, the binding codes, energy and totals.

    Args:
        inp: resolved inputs (floats, or numpy arrays for many points at once).
        statuses: the lever gate, decided once at the nominal point (default: :func:`levers.gate`).
        lever_values: counted levers' phase factors replaced by values or arrays.

    Returns:
        Engine keys -> values (None where the inputs do not determine them).
    """
    inp = settle(inp)  # the operating point first: every command evaluates at the same one
    if statuses is None:
        statuses = gate(inp)
    d, derived = derive(inp)
    f_c, f_e = factors(statuses, d.prefill_share, lever_values)
    r: dict[str, Any] = {"derived": derived, "inputs": d, "phi_c": 1.0 / f_c, "phi_e": 1.0 / f_e,
                         "operating_point": inp.op,
                         "f_e_prefill": None if d.prefill_share is None else factors(statuses, 1.0, lever_values)[1]}
    r.update(_compute(d, f_c, "c_tok" in derived))
    r.update(_energy(d, r, f_e))
    r.update(_power(d))
    r.update(_rates(d, r))
    return r


def _compute(d: Inputs, f_c: Any, from_architecture: bool) -> dict[str, Any]:
    """c_tok and K_eff: given, realized, modeled (the serving model's decode step), or peak."""
    n, c_base = d.devices, d.c_tok
    k_peak = n * d.peak_flops if known(n, d.peak_flops) else None
    avail = d.availability if d.availability is not None else 1.0
    op = d.op
    # The serving model takes a decode token's FLOPs (it adds prefill itself); c_tok may be per output token.
    c_step = kaplan_c_tok(d.active_params, d.n_layers, d.context_length, d.d_attn) if from_architecture else c_base
    step = op.step if op is not None and op.step is not None else _step(d, c_step)  # settle's, when it ran one
    k_step = n * step.throughput_per_device * c_base if step is not None and n is not None else None
    k_eff, convention = None, None
    if d.k_eff is not None:
        k_eff, convention = d.k_eff, "given"
    elif known(d.throughput_per_device, n, c_base):
        # Availability is the share of installed devices serving: it scales K_eff in every regime.
        k_eff, convention = n * d.throughput_per_device * c_base * avail, _throughput_convention(d)
    elif k_step is not None:
        k_eff, convention = k_step * avail, "modeled"
    elif k_peak is not None and (d.kernel_efficiency is not None or d.availability is not None):
        eff = d.kernel_efficiency if d.kernel_efficiency is not None else 1.0
        k_eff, convention = k_peak * eff * avail, "modeled"
    elif k_peak is not None:
        k_eff, convention = k_peak, "peak"
    return {
        "c_tok_base": c_base, "c_tok_origin": (None if c_base is None else "architecture" if from_architecture
                                               else "given"),
        "c_tok": None if c_base is None else c_base * f_c,
        "k_peak": k_peak, "serving": step, "roofline": _roofline_view(step), "k_eff": k_eff,
        "k_eff_convention": convention, "k_eff_roofline": k_step,
    }


def _roofline_view(step: Any) -> dict[str, Any] | None:
    """The step's terms under the keys notes and reports read (per device rate, compute and memory time)."""
    if step is None:
        return None
    return {"per_device": step.throughput_per_device, "t_compute": step.t_compute, "t_memory": step.t_memory,
            "limiter": step.limiter}


def _throughput_convention(d: Inputs) -> str:
    """"modeled" when the token rate per device is the serving model's (core/operating.py), else "realized"."""
    p = d.provenance.get("throughput_per_device")
    return "modeled" if p is not None and p.origin.layer == "derived" and p.origin.rule == SERVING_RULE else "realized"


def _energy(d: Inputs, r: dict[str, Any], f_e: Any) -> dict[str, Any]:
    """e_tok at its boundary (given or modeled), at IT before levers, and at IT after levers (the power ceiling's)."""
    n, c_base, k_eff = d.devices, r["c_tok_base"], r["k_eff"]
    e_at, origin = d.e_tok, ("given" if d.e_tok is not None else None)
    b, kappa = d.e_tok_boundary, d.it_overhead
    step = r["serving"]
    if e_at is None and known(d.device_power, k_eff, n, c_base):
        e_at, origin = d.device_power / (k_eff / (n * c_base)), "modeled"
    elif e_at is None and d.device_power is None and step is not None and known(step.device_power, k_eff, n, c_base):
        # The device power model, at the accelerator boundary, over the rate per device K_eff implies.
        e_at, origin, b = step.device_power / (k_eff / (n * c_base)), "modeled", "accelerator"
        if kappa is None:
            kappa = ladder.to_it(d, "accelerator")
    e_it = e_acc = None
    if e_at is not None:
        if b == "it":
            e_it = e_at
        elif b == "facility":
            e_it = e_at / d.pue if d.pue is not None else None
        elif kappa is not None:
            e_it = e_at * kappa
        if b == "accelerator":
            e_acc = e_at
        elif b == "it" and kappa is not None:
            e_acc = e_it / kappa
    e_tok = None if e_it is None else e_it * f_e
    return {"e_tok_at_boundary": e_at, "e_tok_origin": origin, "e_tok_accelerator": e_acc, "e_tok_it": e_it,
            "e_tok": e_tok, "e_tok_boundary": b, "it_overhead_used": kappa,
            "e_tok_by_boundary": ladder.by_boundary(d, e_tok, b, kappa,
                                                  d.it_overhead is not None and "it_overhead" not in r["derived"])}


def _power(d: Inputs) -> dict[str, Any]:
    """Delivered power: P_IT = P_facility / PUE (or given), capped by cooling capacity."""
    p_it, p_fac = d.p_it, d.p_facility
    if p_it is None and known(p_fac, d.pue):
        p_it = p_fac / d.pue
    elif p_it is not None and p_fac is None and d.pue is not None:
        p_fac = p_it * d.pue
    uncapped = p_it
    if known(p_it, d.cooling_capacity):
        p_it = minimum(p_it, d.cooling_capacity)
    return {"p_it": p_it, "p_facility": p_fac, "p_it_uncapped": uncapped}


def _rates(d: Inputs, r: dict[str, Any]) -> dict[str, Any]:
    """The production function, the crossover, the binding codes and the energy accounting."""
    k_eff, k_peak, c_tok, e_tok, p_it = r["k_eff"], r["k_peak"], r["c_tok"], r["e_tok"], r["p_it"]
    u = d.utilization if d.utilization is not None else 1.0
    qk = k_eff / c_tok if known(k_eff, c_tok) else None
    qp = p_it / e_tok if known(p_it, e_tok) else None
    qk_peak = k_peak / c_tok if known(k_peak, c_tok) else None
    rate = u * minimum(qk, qp) if known(qk, qp) else None  # one ceiling alone does not bound the rate
    pue, carbon = d.pue, d.carbon_intensity
    idle_it = _idle_power_it(d, r, u)
    it_power = rate * e_tok if known(rate, e_tok) else None           # IT power drawn by the output [W]
    if known(it_power, idle_it):
        it_power = it_power + idle_it                                 # ... and by the idle capacity
    fac_power = it_power * pue if known(it_power, pue) else None
    e_fac = e_tok * pue if known(e_tok, pue) else None
    out = {
        "utilization": u, "compute_ceiling": qk, "power_ceiling": qp, "compute_ceiling_peak": qk_peak,
        "token_rate": rate, "tolerance": d.tolerance,
        "binding": binding_code(qk, qp, d.tolerance), "binding_peak": binding_code(qk_peak, qp, d.tolerance),
        "gamma": e_tok / c_tok if known(e_tok, c_tok) else None,
        "gamma_star": p_it / k_eff if known(p_it, k_eff) else None,
        "gamma_star_peak": p_it / k_peak if known(p_it, k_peak) else None,
        "ceiling_ratio": qk / qp if known(qk, qp) else None,
        "e_tok_facility": e_fac,
        "it_power": it_power, "facility_power": fac_power, "idle_power_it": idle_it,

        "emissions_rate": fac_power * carbon if known(fac_power, carbon) else None,
        "power_demand_at_compute_ceiling": qk * e_tok if known(qk, e_tok) else None,
        "emissions_per_token": e_fac * carbon if known(e_fac, carbon) else None,
    }
    out.update(_totals(d.horizon, rate, e_tok, idle_it, pue, carbon))
    out.update(requests(d, {**r, **out}, rate, qk, qp, e_tok, pue, r.get("f_e_prefill")))
    out.update(costs(d, {**r, **out}))  # after the energy: the bill is one of its parts
    out.update(_ratios(d, r))
    return out


def _idle_power_it(d: Inputs, r: dict[str, Any], u: Any) -> Any:
    """IT power of the deployed capacity that is not producing tokens: (1 − U) · N · P_idle · (accelerator → IT).

    None when the idle power, the device count or the ladder up to IT is unknown (idle energy is then not counted).
    """
    if not known(d.idle_power, d.devices):
        return None
    kappa = r["it_overhead_used"] if r["e_tok_boundary"] == "accelerator" else None
    kappa = kappa if kappa is not None else ladder.to_it(d, "accelerator")
    return None if kappa is None else (1.0 - u) * d.devices * d.idle_power * kappa


def _totals(horizon: Any, rate: Any, e_tok: Any, idle_it: Any, pue: Any, carbon: Any) -> dict[str, Any]:
    """Tokens, energy (the tokens' and the idle capacity's) and emissions over the horizon at constant inputs
    (cost: core/costs.py)."""
    tokens = rate * horizon if known(rate, horizon) else None
    e_it = tokens * e_tok if known(tokens, e_tok) else None
    e_idle = idle_it * horizon if known(idle_it, horizon) else None
    if known(e_it, e_idle):
        e_it = e_it + e_idle
    e_fac = e_it * pue if known(e_it, pue) else None
    return {"tokens_total": tokens, "energy_it": e_it, "energy_facility": e_fac, "energy_idle_it": e_idle,
            "emissions": e_fac * carbon if known(e_fac, carbon) else None}


def _ratios(d: Inputs, r: dict[str, Any]) -> dict[str, Any]:
    """η_K = K_eff / K_peak and η_E = e_ref / e_tok (docs/model.md §11)."""
    eta_k = None
    if r["k_eff_convention"] in ("realized", "given", "modeled") and known(r["k_eff"], r["k_peak"]):
        eta_k = r["k_eff"] / r["k_peak"]
    e_ref = r["c_tok_base"] * d.tdp / d.peak_flops if known(r["c_tok_base"], d.tdp, d.peak_flops) else None
    eta_e = e_ref / r["e_tok_accelerator"] if known(e_ref, r["e_tok_accelerator"]) else None
    return {"eta_k": eta_k, "e_ref": e_ref, "eta_e": eta_e}
