"""The Token Production Function: pure calculations, no I/O.

    Q̇_K = K_eff / c_tok          compute ceiling   [token/s]
    Q̇_P = P_IT / e_tok           power ceiling     [token/s]
    Q̇   = U · min(Q̇_K, Q̇_P)     realized rate     [token/s]
    γ   = e_tok / c_tok          γ* = P_IT / K_eff [J/FLOP]

Inputs are plain SI floats that crossed the unit-checked boundary in
`profiles`/`scenario`. The numeric core (:func:`core`) uses only arithmetic and
the `_min`/`_max` helpers, so the same code runs on numpy arrays for sweeps and
Monte Carlo; :func:`estimate` wraps it for one operating point, adding the
lever gate, notes and provenance.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

SCHEMA = "tokencalc.estimate/1"
DEFAULT_TOLERANCE = 0.01


@dataclass(frozen=True)
class Provenance:
    """Where one input came from: value in SI, its unit, and a source line."""

    value: Any
    unit: str
    source: str


@dataclass(frozen=True)
class Lever:
    """A system-efficiency lever (MODEL.md Φ_system)."""

    id: str
    name: str
    phase: str = "both"
    c_tok_factor: float = 1.0
    e_tok_factor: float = 1.0
    latency_factor: float = 1.0
    quality_delta: dict[str, float] = field(default_factory=dict)
    confidence: str | None = None
    source: str = ""
    precision: str | None = None
    min_context_length: int | None = None


@dataclass(frozen=True)
class LeverStatus:
    """Whether a lever counts at the operating point, and why."""

    id: str
    name: str
    counted: bool
    reason: str
    c_tok_factor: float
    e_tok_factor: float
    confidence: str | None


@dataclass(frozen=True)
class Inputs:
    """Resolved inputs of one operating point, in SI units (None = not known)."""

    # compute side
    devices: Any = None
    precision: str | None = None
    peak_flops: Any = None                 # FLOP/s per device at `precision`
    k_eff: Any = None                      # FLOP/s, given directly (taken as realized)
    throughput_per_device: Any = None      # token/s, measured
    kernel_efficiency: Any = None
    availability: Any = None
    # workload architecture and operating point
    c_tok: Any = None                      # FLOP/token, given directly
    active_params: Any = None
    n_layers: Any = None
    d_attn: Any = None
    context_length: Any = None
    batch_size: Any = None
    devices_per_replica: Any = None
    weight_bytes: Any = None               # bytes per replica
    kv_bytes_per_token: Any = None
    hbm_bandwidth: Any = None
    tdp: Any = None
    server_power_per_device: Any = None
    prefill_share: Any = None
    # energy side
    e_tok: Any = None                      # J/token at `e_tok_boundary`
    e_tok_boundary: str = "it"
    e_tok_basis: str | None = None         # token basis of e_tok and throughput
    device_power: Any = None               # W per device at `e_tok_boundary`
    it_overhead: Any = None
    it_overhead_source: str | None = None
    token_basis: str = "output"
    input_output_ratio: Any = None
    # facility
    p_facility: Any = None
    pue: Any = None
    p_it: Any = None
    cooling_capacity: Any = None
    utilization: Any = None
    electricity_price: Any = None          # USD/J
    carbon_intensity: Any = None           # kgCO2e/J
    horizon: Any = None                    # s
    binding_tolerance: Any = DEFAULT_TOLERANCE
    # operating-point gate
    quality: dict[str, tuple[float, float | None]] = field(default_factory=dict)
    tpot_slo: Any = None
    tpot_measured: Any = None
    levers: tuple[Lever, ...] = ()
    allow_operating_point_shift: bool = False
    # bookkeeping
    scenario: str | None = None
    scenario_name: str | None = None
    resolution_notes: tuple[str, ...] = ()
    provenance: dict[str, Provenance] = field(default_factory=dict)


@dataclass
class Result:
    """Everything `estimate` reports for one operating point."""

    values: dict[str, Any]
    levers: list[LeverStatus]
    notes: list[str]
    inputs: Inputs

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def to_json(self) -> dict[str, Any]:
        """The documented JSON object (INTERFACE.md), SI units, plain numbers."""
        out = {k: _plain(v) for k, v in self.values.items()}
        out["inputs"] = {k: {"value": _plain(p.value), "unit": p.unit, "source": p.source}
                         for k, p in sorted(self.inputs.provenance.items())}
        out["levers"] = [{"id": s.id, "name": s.name, "counted": s.counted, "reason": s.reason,
                          "c_tok_factor": s.c_tok_factor, "e_tok_factor": s.e_tok_factor,
                          "confidence": s.confidence} for s in self.levers]
        out["notes"] = list(self.notes)
        return out


def _plain(v: Any) -> Any:
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


# ---------------------------------------------------------------------------
# Helpers that work on floats and on numpy arrays

def _is_array(x: Any) -> bool:
    return hasattr(x, "shape") and getattr(x, "ndim", 0) > 0


def _min(a: Any, b: Any) -> Any:
    if _is_array(a) or _is_array(b):
        import numpy as np

        return np.minimum(a, b)
    return a if a <= b else b


def _max(a: Any, b: Any) -> Any:
    if _is_array(a) or _is_array(b):
        import numpy as np

        return np.maximum(a, b)
    return a if a >= b else b


def _known(*xs: Any) -> bool:
    return all(x is not None for x in xs)


def classify(compute_ceiling: float | None, power_ceiling: float | None, tolerance: float = DEFAULT_TOLERANCE) -> str | None:
    """Which ceiling binds: "compute", "power", "balanced" (within `tolerance`), or None if unknown."""
    if compute_ceiling is None or power_ceiling is None:
        return None
    if abs(compute_ceiling - power_ceiling) <= tolerance * max(compute_ceiling, power_ceiling):
        return "balanced"
    return "compute" if compute_ceiling < power_ceiling else "power"


def c_tok_from_architecture(active_params: Any, n_layers: Any, context_length: Any, d_attn: Any) -> Any:
    """Forward FLOPs per token, c ≈ 2·N_active + 2·n_layers·n_ctx·d_attn (Kaplan et al. 2020)."""
    return 2.0 * active_params + 2.0 * n_layers * context_length * d_attn


def phase_factor(factor: float, phase: str, prefill_share: float | None) -> float:
    """A lever's factor on the whole token when it acts on one phase only."""
    if phase == "both" or prefill_share is None:
        return factor
    share = prefill_share if phase == "prefill" else 1.0 - prefill_share
    return 1.0 - share * (1.0 - factor)


def roofline(peak: Any, bandwidth: Any, c_tok: Any, batch: Any, context: Any, weight_bytes: Any,
             kv_bytes_per_token: Any, devices_per_replica: Any = 1, efficiency: Any = 1.0) -> tuple[Any, Any, Any]:
    """Roofline decode step of one replica (MODEL.md §4, extension).

    A decode step of batch B at context n moves W + B·kv(n) bytes and does B·c_tok FLOPs.

    Returns:
        (tokens/s per device, compute step time, memory step time).
    """
    t_compute = batch * c_tok / (devices_per_replica * peak * efficiency)
    t_memory = (weight_bytes + batch * kv_bytes_per_token * context) / (devices_per_replica * bandwidth)
    per_device = batch / _max(t_compute, t_memory) / devices_per_replica
    return per_device, t_compute, t_memory


# ---------------------------------------------------------------------------
# The lever gate

def gate_levers(inp: Inputs) -> list[LeverStatus]:
    """Decide for each lever whether it preserves the operating point (q*, s*)."""
    out = []
    for lv in inp.levers:
        problems, caveats = [], []
        for bench, delta in sorted(lv.quality_delta.items()):
            target = inp.quality.get(bench)
            tol = target[1] if target else None
            if tol is None:
                if delta < 0:
                    caveats.append(f"{bench} {delta:+g} pts not checked (no tolerance declared)")
            elif delta < -tol:
                problems.append(f"{bench} {delta:+g} pts exceeds the tolerance of {tol:g}")
        if lv.min_context_length is not None:
            if inp.context_length is None:
                caveats.append(f"holds from {lv.min_context_length:,} tokens of context; context length unknown, not checked")
            elif inp.context_length < lv.min_context_length:
                out.append(LeverStatus(lv.id, lv.name, False, f"not counted: its factors hold from "
                                       f"{lv.min_context_length:,} tokens of context, this operating point has "
                                       f"{int(inp.context_length):,}", 1.0, 1.0, lv.confidence))
                continue
        lf = lv.latency_factor
        if lf > 1.0:
            if _known(inp.tpot_measured, inp.tpot_slo):
                slowed = inp.tpot_measured * lf
                if slowed > inp.tpot_slo:
                    problems.append(f"TPOT {inp.tpot_measured * 1e3:.3g} ms x {lf:g} = {slowed * 1e3:.3g} ms "
                                    f"breaks the {inp.tpot_slo * 1e3:.3g} ms SLO")
            elif inp.tpot_slo is not None:
                caveats.append(f"latency x{lf:g} not checked (no measured TPOT)")
        fc = phase_factor(lv.c_tok_factor, lv.phase, inp.prefill_share)
        fe = phase_factor(lv.e_tok_factor, lv.phase, inp.prefill_share)
        if lv.precision is not None and lv.precision == inp.precision:
            out.append(LeverStatus(lv.id, lv.name, False, f"already in the operating point: the scenario runs at "
                                   f"{lv.precision}, whose peak carries this gain (counting it again would double count)",
                                   fc, fe, lv.confidence))
            continue
        if lv.phase != "both":
            caveats.append(f"{lv.phase} only: " + ("phase split unknown, applied to the whole token"
                                                   if inp.prefill_share is None else
                                                   f"applied to the {lv.phase} share"))
        if problems and not inp.allow_operating_point_shift:
            reason = "not comparable: " + "; ".join(problems) + " (the operating point shifts)"
            out.append(LeverStatus(lv.id, lv.name, False, reason, fc, fe, lv.confidence))
            continue
        if problems:
            caveats.insert(0, "counted although " + "; ".join(problems) + " (operating-point shift allowed)")
        reason = "counted: " + ("; ".join(caveats) if caveats else "within the quality tolerances and the latency SLO")
        out.append(LeverStatus(lv.id, lv.name, True, reason, fc, fe, lv.confidence))
    return out


# ---------------------------------------------------------------------------
# The numeric core

def core(inp: Inputs, c_factor: Any = 1.0, e_factor: Any = 1.0) -> dict[str, Any]:
    """Both ceilings, the realized rate, γ, γ* and horizon totals.

    Works elementwise when inputs are numpy arrays. Keys whose inputs are not
    known are None. `c_factor`/`e_factor` are the products of counted lever factors.
    """
    r: dict[str, Any] = {}
    n = inp.devices
    # c_tok before levers
    c_base = inp.c_tok
    c_origin = "given"
    if c_base is None and _known(inp.active_params, inp.n_layers, inp.d_attn, inp.context_length):
        c_base = c_tok_from_architecture(inp.active_params, inp.n_layers, inp.context_length, inp.d_attn)
        c_origin = "architecture"
    r["c_tok_base"] = c_base
    r["c_tok_origin"] = c_origin if c_base is not None else None
    c_tok = None if c_base is None else c_base * c_factor

    # peak and effective compute
    k_peak = n * inp.peak_flops if _known(n, inp.peak_flops) else None
    r["k_peak"] = k_peak
    roof = None
    if _known(inp.peak_flops, inp.hbm_bandwidth, c_base, inp.batch_size, inp.context_length,
              inp.weight_bytes, inp.kv_bytes_per_token):
        eff = (inp.kernel_efficiency if inp.kernel_efficiency is not None else 1.0)
        eff = eff * (inp.availability if inp.availability is not None else 1.0)
        per_dev, t_c, t_m = roofline(inp.peak_flops, inp.hbm_bandwidth, c_base, inp.batch_size,
                                     inp.context_length, inp.weight_bytes, inp.kv_bytes_per_token,
                                     inp.devices_per_replica or 1, eff)
        roof = {"per_device": per_dev, "t_compute": t_c, "t_memory": t_m}
    r["roofline"] = roof
    k_eff, convention = None, None
    if inp.k_eff is not None:
        k_eff, convention = inp.k_eff, "given"
    elif _known(inp.throughput_per_device, n, c_base):
        k_eff, convention = n * inp.throughput_per_device * c_base, "realized"
    elif k_peak is not None and (roof is not None or inp.kernel_efficiency is not None or inp.availability is not None):
        eff = (inp.kernel_efficiency if inp.kernel_efficiency is not None else 1.0)
        eff = eff * (inp.availability if inp.availability is not None else 1.0)
        k_eff = k_peak * eff
        if roof is not None:
            k_eff = _min(k_eff, n * roof["per_device"] * c_base)
        convention = "modeled"
    elif k_peak is not None:
        k_eff, convention = k_peak, "peak"
    r["k_eff"], r["k_eff_convention"] = k_eff, convention

    # energy per token: at its boundary, then at IT
    e_at, e_origin = inp.e_tok, "given" if inp.e_tok is not None else None
    if e_at is None and _known(inp.device_power, k_eff, n, c_base):
        e_at, e_origin = inp.device_power / (k_eff / (n * c_base)), "modeled"
    r["e_tok_origin"] = e_origin
    b = inp.e_tok_boundary
    e_it, e_acc = None, None
    if e_at is not None:
        if b == "it":
            e_it = e_at
        elif b == "facility":
            e_it = e_at / inp.pue if inp.pue is not None else None
        elif inp.it_overhead is not None:
            e_it = e_at * inp.it_overhead
        if b == "accelerator":
            e_acc = e_at
        elif e_it is not None and inp.it_overhead is not None and b == "it":
            e_acc = e_it / inp.it_overhead
    r["e_tok_at_boundary"], r["e_tok_accelerator"] = e_at, e_acc
    e_tok = None if e_it is None else e_it * e_factor

    # delivered power
    p_it, p_fac = inp.p_it, inp.p_facility
    if p_it is None and _known(p_fac, inp.pue):
        p_it = p_fac / inp.pue
    elif p_it is not None and p_fac is None and inp.pue is not None:
        p_fac = p_it * inp.pue
    r["p_it_uncapped"] = p_it
    if _known(p_it, inp.cooling_capacity):
        p_it = _min(p_it, inp.cooling_capacity)

    u = inp.utilization if inp.utilization is not None else 1.0
    qk = k_eff / c_tok if _known(k_eff, c_tok) else None
    qp = p_it / e_tok if _known(p_it, e_tok) else None
    qk_peak = k_peak / c_tok if _known(k_peak, c_tok) else None
    # One ceiling alone does not bound the rate: it needs both.
    rate = u * _min(qk, qp) if _known(qk, qp) else None
    horizon = inp.horizon
    tokens = rate * horizon if _known(rate, horizon) else None
    e_it_total = tokens * e_tok if _known(tokens, e_tok) else None
    e_fac_total = e_it_total * inp.pue if _known(e_it_total, inp.pue) else None
    r.update({
        "c_tok": c_tok, "e_tok": e_tok, "p_it": p_it, "p_facility": p_fac, "utilization": u,
        "compute_ceiling": qk, "power_ceiling": qp, "compute_ceiling_peak": qk_peak, "token_rate": rate,
        "gamma": e_tok / c_tok if _known(e_tok, c_tok) else None,
        "gamma_star": p_it / k_eff if _known(p_it, k_eff) else None,
        "gamma_star_peak": p_it / k_peak if _known(p_it, k_peak) else None,
        "tokens_total": tokens, "energy_it": e_it_total, "energy_facility": e_fac_total,
        "cost": e_fac_total * inp.electricity_price if _known(e_fac_total, inp.electricity_price) else None,
        "emissions": e_fac_total * inp.carbon_intensity if _known(e_fac_total, inp.carbon_intensity) else None,
        "power_demand_at_compute_ceiling": qk * e_tok if _known(qk, e_tok) else None,
    })
    return r


# ---------------------------------------------------------------------------
# One operating point

def estimate(inp: Inputs) -> Result:
    """Compute one operating point with its lever gate, notes and provenance."""
    statuses = gate_levers(inp)
    c_factor = e_factor = 1.0
    for s in statuses:
        if s.counted:
            c_factor *= s.c_tok_factor
            e_factor *= s.e_tok_factor
    r = core(inp, c_factor, e_factor)
    tol = inp.binding_tolerance if inp.binding_tolerance is not None else DEFAULT_TOLERANCE
    binding = classify(r["compute_ceiling"], r["power_ceiling"], tol)
    binding_peak = classify(r["compute_ceiling_peak"], r["power_ceiling"], tol)
    notes = _notes(inp, r, binding, binding_peak, statuses)

    eta_k = None
    if r["k_eff_convention"] in ("realized", "given", "modeled") and _known(r["k_eff"], r["k_peak"]):
        eta_k = r["k_eff"] / r["k_peak"]
    eta_e = None
    if _known(r["c_tok_base"], inp.tdp, inp.peak_flops, r["e_tok_accelerator"]):
        eta_e = (r["c_tok_base"] * inp.tdp / inp.peak_flops) / r["e_tok_accelerator"]
    roof = r["roofline"]
    limited_by = None
    if r["k_eff_convention"] == "modeled":
        if roof is not None and roof["t_memory"] > roof["t_compute"]:
            limited_by = "memory bandwidth"
        else:
            limited_by = "kernel efficiency"
    elif r["k_eff_convention"] == "peak":
        limited_by = "peak (upper bound)"
    price = inp.electricity_price
    e_tok, pue = r["e_tok"], inp.pue
    values: dict[str, Any] = {
        "schema": SCHEMA,
        "scenario": inp.scenario,
        "scenario_name": inp.scenario_name,
        "binding": binding,
        "binding_peak": binding_peak,
        "compute_ceiling_tokens_per_s": r["compute_ceiling"],
        "power_ceiling_tokens_per_s": r["power_ceiling"],
        "token_rate_tokens_per_s": r["token_rate"],
        "gamma_j_per_flop": r["gamma"],
        "gamma_star_j_per_flop": r["gamma_star"],
        "gamma_star_peak_j_per_flop": r["gamma_star_peak"],
        "k_eff_flop_per_s": r["k_eff"],
        "k_peak_flop_per_s": r["k_peak"],
        "c_tok_flop_per_token": r["c_tok"],
        "e_tok_j_per_token": e_tok,
        "e_tok_boundary": "it" if e_tok is not None else None,
        "p_facility_w": r["p_facility"],
        "pue": pue,
        "p_it_w": r["p_it"],
        "utilization": r["utilization"],
        "phi_c": 1.0 / c_factor,
        "phi_e": 1.0 / e_factor,
        "horizon_s": inp.horizon,
        "tokens_total": r["tokens_total"],
        "energy_it_j": r["energy_it"],
        "energy_facility_j": r["energy_facility"],
        "cost_usd": r["cost"],
        "emissions_kg_co2e": r["emissions"],
        # extensions
        "k_eff_convention": r["k_eff_convention"],
        "k_eff_limited_by": limited_by,
        "k_eff_roofline_flop_per_s": (inp.devices * roof["per_device"] * r["c_tok_base"]
                                      if roof is not None and inp.devices is not None else None),
        "conventions_disagree": (binding is not None and binding_peak is not None and binding != binding_peak),
        "binding_tolerance": tol,
        "ceiling_ratio": (r["compute_ceiling"] / r["power_ceiling"]
                          if _known(r["compute_ceiling"], r["power_ceiling"]) else None),
        "token_basis": inp.token_basis,
        "e_tok_at_boundary_j_per_token": r["e_tok_at_boundary"],
        "e_tok_input_boundary": inp.e_tok_boundary if r["e_tok_at_boundary"] is not None else None,
        "e_tok_facility_j_per_token": e_tok * pue if _known(e_tok, pue) else None,
        "e_tok_origin": r["e_tok_origin"],
        "c_tok_base_flop_per_token": r["c_tok_base"],
        "c_tok_origin": r["c_tok_origin"],
        "power_demand_at_compute_ceiling_w": r["power_demand_at_compute_ceiling"],
        "eta_k": eta_k,
        "eta_e": eta_e,
        "devices": inp.devices,
        "cost_usd_per_million_tokens": (e_tok * pue * price * 1e6 if _known(e_tok, pue, price) else None),
        "emissions_g_co2e_per_token": (e_tok * pue * inp.carbon_intensity * 1e3
                                       if _known(e_tok, pue, inp.carbon_intensity) else None),
    }
    return Result(values, statuses, notes, inp)


def _notes(inp: Inputs, r: dict, binding: str | None, binding_peak: str | None, statuses: list[LeverStatus]) -> list[str]:
    notes = list(inp.resolution_notes)
    conv = r["k_eff_convention"]
    if conv == "peak":
        notes.append("No realized throughput, K_eff or efficiency given: K_eff is the peak (an upper bound); "
                     "give --throughput-per-device or --kernel-efficiency for the realized convention.")
    elif conv == "modeled":
        notes.append("K_eff is modeled (N x peak x efficiency" + (", capped by the roofline decode bound)"
                                                                   if r["roofline"] is not None else ")") + ", not measured.")
        roof = r["roofline"]
        if roof is not None and roof["t_memory"] > roof["t_compute"]:
            notes.append(f"Memory bandwidth, not FLOPs, limits K_eff: a decode step needs "
                         f"{roof['t_memory'] * 1e3:.3g} ms to move weights and KV cache vs {roof['t_compute'] * 1e3:.3g} ms of compute.")
    if conv is None:
        notes.append("K_eff unknown (no hardware + devices, throughput or --k-eff): no compute ceiling.")
    if r["c_tok"] is None:
        notes.append("c_tok unknown (give --c-tok or a workload with its architecture): no compute ceiling.")
    elif r["c_tok_origin"] == "architecture":
        notes.append("c_tok from the architecture: 2·N_active + 2·n_layers·n_ctx·d_attn (Kaplan et al. 2020).")
    if r["e_tok_origin"] == "modeled":
        notes.append("e_tok is modeled: device power / realized token rate per device.")
    b = inp.e_tok_boundary
    if r["e_tok_at_boundary"] is not None:
        if r["e_tok"] is None and b in ("accelerator", "node"):
            notes.append(f"e_tok is at the {b} boundary and no IT overhead is declared (--it-overhead, or a hardware "
                         "profile's server_power_per_device): no power ceiling rather than a silently mixed boundary.")
        elif r["e_tok"] is None and b == "facility":
            notes.append("e_tok is at the facility boundary and no PUE is known: cannot convert it to the IT boundary.")
        elif b in ("accelerator", "node"):
            notes.append(f"e_tok converted from the {b} boundary to IT with overhead x{inp.it_overhead:.3g}"
                         + (f" ({inp.it_overhead_source})" if inp.it_overhead_source else "") + ".")
        elif b == "facility":
            notes.append(f"e_tok converted from the facility boundary to IT by dividing by PUE {inp.pue:g}.")
    elif r["e_tok"] is None:
        notes.append("e_tok unknown (give --e-tok, --device-power, or a workload with measured e_tok): no power ceiling.")
    if r["p_it"] is None:
        if inp.p_facility is not None and inp.pue is None:
            notes.append("P_facility given without PUE: P_IT unknown, no power ceiling.")
        else:
            notes.append("No delivered power given (--p-facility or --p-it, or a facility): no power ceiling.")
    if _known(r["p_it_uncapped"], inp.cooling_capacity) and inp.cooling_capacity < r["p_it_uncapped"]:
        notes.append(f"P_IT capped by cooling capacity ({inp.cooling_capacity / 1e3:.4g} kW).")
    if inp.utilization is None:
        notes.append("Utilization not given: U = 1 (the realized rate is the binding ceiling itself).")
    if binding is None:
        notes.append("Binding constraint unknown: one of the ceilings cannot be computed from the inputs.")
    if binding is not None and binding_peak is not None and binding != binding_peak and conv != "peak":
        def regime(b: str) -> str:
            return "balanced" if b == "balanced" else f"{b}-bound"

        notes.append(f"The conventions disagree: {regime(binding)} under the {conv} K_eff, {regime(binding_peak)} under the "
                     f"peak denominator. Report the {conv} one; the peak is an upper-bound calibration only (MODEL.md §3).")
    if inp.horizon is None:
        notes.append("No horizon given: no totals.")
    elif r["energy_facility"] is None and r["energy_it"] is not None:
        notes.append("PUE unknown: facility energy, cost and emissions not computed.")
    dropped = [s.id for s in statuses if not s.counted]
    if dropped:
        notes.append("Levers not counted (they shift the operating point): " + ", ".join(dropped) + ".")
    return notes


def with_values(inp: Inputs, **changes: Any) -> Inputs:
    """A copy of `inp` with some fields replaced (e.g. arrays for a sweep)."""
    return replace(inp, **changes)
