"""One candidate operating point: a measured curve where it covers the batch, else the serving model.

The pieces :mod:`core.operating` combines: the serving model of the inputs (architecture and device,
with the levers that act on bytes applied to them), the measured curve of this hardware, and the
figures of the operating point at one batch (elementwise on numpy arrays).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..errors import InputError
from .arith import both, is_array, known
from .inputs import Inputs

# Operating-point inputs whose presence from a flag, --set or a scenario key asks for a new operating point.
FIELDS_ASKED = ("batch_size", "tpot_slo", "ttft_slo", "objective", "devices_per_replica", "context_length",
                "operating_point", "power_cap")
SERVING_RULE = "serving model (docs/model.md §4.3), modeled"


@dataclass(frozen=True)
class Point:
    """The figures of one candidate operating point (None where they cannot be known)."""

    throughput: Any
    power: Any
    itl: Any
    ttft: Any
    e_acc: Any
    mem_required: Any
    mem_capacity: Any
    max_batch: Any
    feasible: Any
    source: str
    limiter: str | None
    rule: str
    citation: str | None
    notes: tuple[str, ...] = ()
    step: Any = None          # the serving model's step at this batch (the engine reads it, not a second one)
    cap: Any = None           # a power cap's effect (core/powercap.CapEffect), when one is given


def model_of(inp: Inputs, c_tok: Any = None) -> tuple[Any, Any] | None:
    """(Architecture, Device) of the serving model (docs/model.md §4.3), byte levers applied; None when it cannot run.

    It needs the peak, HBM bandwidth, context, KV bytes per token, the weights (total params x bytes per
    param, or weight bytes) and FLOPs per token (`c_tok`, or the architecture for the Kaplan form). A
    declared kernel efficiency is the step's compute efficiency; the other parameters are the hardware's
    fitted `[serving]` values, else the Device defaults (stated in core/serving.py).
    """
    from .serving import Architecture, Device

    flops = c_tok is not None or inp.c_tok is not None or known(inp.active_params, inp.n_layers, inp.d_attn)
    if not (flops and known(inp.peak_flops, inp.hbm_bandwidth, inp.context_length, inp.kv_bytes_per_token)):
        return None
    if known(inp.total_params, inp.bytes_per_param):
        params, bpp = inp.total_params, inp.bytes_per_param
    elif inp.weight_bytes is not None:
        params, bpp = inp.weight_bytes, 1.0  # weights known only as bytes: one "parameter" per byte
    else:
        return None
    moe = known(inp.n_experts, inp.experts_per_token, inp.expert_params) and params is inp.total_params
    if moe and not is_array(inp.experts_per_token) and not is_array(inp.n_experts) \
            and inp.experts_per_token > inp.n_experts:
        src = inp.provenance["experts_per_token"].source if "experts_per_token" in inp.provenance else "given"
        raise InputError(f"experts_per_token = {inp.experts_per_token:g} ({src}) exceeds n_experts = "
                         f"{inp.n_experts:g}: a token cannot use more routed experts than a layer has")
    w, kv = byte_factors(inp)
    arch = Architecture(inp.active_params, params, bpp * w, inp.n_layers, inp.d_attn, inp.kv_bytes_per_token * kv,
                        d_model=inp.d_model, n_experts=inp.n_experts if moe else None,
                        experts_per_token=inp.experts_per_token if moe else None,
                        expert_params=inp.expert_params if moe else None)
    kw = dict(inp.serving)
    if inp.kernel_efficiency is not None:
        kw["compute_efficiency"] = inp.kernel_efficiency
    device = Device(inp.peak_flops, inp.hbm_bandwidth, inp.hbm_capacity, inp.tdp, idle_power=inp.idle_power,
                    interconnect_bandwidth=inp.interconnect_bandwidth, **kw)
    return arch, device


def byte_factors(inp: Inputs) -> tuple[Any, Any]:
    """The product of the counted levers' factors on bytes per weight and on KV bytes per token."""
    from .levers import gate_bytes

    return gate_bytes(inp)


def levers_on_bytes(inp: Inputs) -> tuple[Any, ...]:
    """The levers with their e_tok factor dropped where their byte factors act through the serving model.

    A lever that halves the KV cache lowers e_tok *because* the step reads fewer bytes; once the serving
    model reads fewer bytes, applying its declared e_tok factor again would count the gain twice.
    """
    out = []
    for lv in inp.levers:
        acts = (lv.weight_bytes_factor != 1.0 or lv.kv_bytes_factor != 1.0)
        out.append(replace(lv, e_tok_factor=1.0, through_serving=True) if acts else lv)
    return tuple(out)


def curve_for(inp: Inputs) -> Any:
    """The workload's measured curve on this hardware, replica size and precision (None when there is none)."""
    if not inp.curves or inp.hardware is None:
        return None
    if is_array(inp.devices_per_replica):
        raise InputError("the workload's measured curves hold for one replica size each: vary devices_per_replica "
                         "with --operating-point modeled, or sweep one replica size at a time")
    from .curves import select

    return select(inp.curves, inp.hardware, replica(inp), inp.precision)


def point_at(inp: Inputs, curve: Any, model: Any, batch: Any, *, strict: bool) -> Point:
    """The operating point at `batch`: the curve where it covers the batch, else the serving model.

    Elementwise for an array of batches (a sweep): each element from the curve or the model, as a scalar
    batch would be; the source is then "measured", "interpolated" or "modeled" when all agree, else "mixed".

    Args:
        strict: raise InputError when the weights or the batch's KV cache do not fit (scalars only).
    """
    if is_array(batch) and curve is not None:
        return _merged(inp, curve, model, batch)
    from .curves import at  # only with a curve: off a plain estimate's path

    measured = at(curve, float(batch)) if curve is not None and not is_array(batch) else None
    step = step_at(inp, model, batch) if model is not None else None
    if strict and measured is None and step is not None:  # a measured batch ran, so it fit
        _check_memory(inp, model, batch, step)
    if measured is None and step is None:
        raise InputError(_uncovered(inp, curve, batch))
    if measured is not None:
        cp, source = measured
        ttft = step.ttft_s if step is not None else None
        mem = (step.memory_required, step.memory_capacity, step.max_batch) if step is not None else (None,) * 3
        thr, power, itl, cap = _measured_capped(inp, model, step, cp.throughput_per_device, cp.device_power, cp.itl)
        return Point(thr, power, itl, ttft, power / thr,
                     *mem, _feasible(inp, batch, itl, ttft, None), source, None,  # it ran: it fits
                     f"measured curve ({source}{', log-log between measured batches' if source == 'interpolated' else ''})",
                     curve.source, step=step, cap=cap)
    notes = (_outside(curve, batch),) if curve is not None and not is_array(batch) else ()
    return Point(step.throughput_per_device, step.device_power, step.itl_s, step.ttft_s, step.e_tok_accelerator,
                 step.memory_required, step.memory_capacity, step.max_batch,
                 _feasible(inp, batch, step.itl_s, step.ttft_s, step.max_batch), "modeled", step.limiter,
                 SERVING_RULE, inp.serving_source, notes, step=step, cap=cap_effect(step, inp.power_cap))


def _merged(inp: Inputs, curve: Any, model: Any, batch: Any) -> Point:
    """An array of batches: each element from the curve where it covers it, else from the model."""
    import numpy as np

    from .curves import at

    flat = np.asarray(batch, dtype=float)
    points = [at(curve, float(b)) for b in flat.ravel()]
    covered = np.array([p is not None for p in points]).reshape(flat.shape)
    if model is None and not covered.all():
        raise InputError(_uncovered(inp, curve, float(flat.ravel()[int(np.argmin(covered.ravel()))])))
    base = step_at(inp, model, np.where(covered, 1.0, flat)) if model is not None else None

    def col(attr: str, fallback: Any) -> Any:
        vals = np.array([getattr(p[0], attr) if p is not None else np.nan for p in points]).reshape(flat.shape)
        return np.where(covered, vals, fallback if fallback is not None else np.nan)

    thr = col("throughput_per_device", None if base is None else base.throughput_per_device)
    power = col("device_power", None if base is None else base.device_power)
    itl = col("itl", None if base is None else base.itl_s)
    e_acc = np.where(covered, power / thr, np.nan if base is None else base.e_tok_accelerator)
    kinds = {p[1] for p in points if p is not None} | ({"modeled"} if not covered.all() else set())
    source = kinds.pop() if len(kinds) == 1 else "mixed"
    mem = (base.memory_required, base.memory_capacity, base.max_batch) if base is not None else (None,) * 3
    ttft = base.ttft_s if base is not None else None
    feasible = _feasible(inp, flat, itl, ttft, None if base is None else np.where(covered, np.inf, base.max_batch))
    return Point(thr, power, itl, ttft, e_acc, *mem, feasible, source, None,
                 "measured curve where it covers the batch, else the serving model", curve.source)


def step_at(inp: Inputs, model: Any, batch: Any, c_tok: Any = None) -> Any:
    """The serving model's decode step of `model` at `batch` and the inputs' context and replica size."""
    from .requests import io_ratio
    from .serving import decode_step

    from .powercap import capped

    arch, device = model
    step = decode_step(arch, device, batch, inp.context_length, replica(inp), input_tokens=inp.input_tokens,
                       prefill_per_output=None if inp.prefill_elsewhere else io_ratio(inp), c_tok=inp.c_tok if c_tok is None else c_tok)
    return capped(step, device, inp.power_cap)  # the step itself without a cap (docs/model.md §4.7)


def cap_effect(step: Any, cap: Any) -> Any:
    """A power cap's effect on a modeled point (None without a cap)."""
    if cap is None:
        return None
    from .powercap import effect

    return effect(step, cap)


def _measured_capped(inp: Inputs, model: Any, step: Any, thr: Any, power: Any, itl: Any) -> tuple[Any, ...]:
    """A measured point under a power cap: the serving model's relative slowdown (unchanged without a model)."""
    if inp.power_cap is None or model is None or step is None:
        return thr, power, itl, None
    from .powercap import on_measured

    eff = on_measured(thr, power, itl, step, model[1], inp.power_cap)
    return eff.throughput_capped, eff.power_capped, eff.itl_capped, eff


def replica(inp: Inputs) -> Any:
    """Devices per replica (1 when not given; an array in a sweep)."""
    return 1 if inp.devices_per_replica is None else inp.devices_per_replica


def _feasible(inp: Inputs, batch: Any, itl: Any, ttft: Any, max_batch: Any) -> Any:
    """Within the TPOT SLO, the TTFT SLO and the memory limit, where each is known (elementwise)."""
    return both(inp.tpot_slo is None or itl is None or itl <= inp.tpot_slo,
                inp.ttft_slo is None or ttft is None or ttft <= inp.ttft_slo,
                max_batch is None or batch <= max_batch)


def _check_memory(inp: Inputs, model: Any, batch: Any, step: Any) -> None:
    from .serving import check_fits

    if is_array(step.memory_required):
        return
    arch, device = model
    check_fits(arch, device, replica(inp), 1, 1)  # the weights (and one token of KV)
    if step.memory_capacity is not None and step.memory_required > step.memory_capacity:
        raise InputError(f"batch {batch:g} at context {inp.context_length:,} needs {step.memory_required / 1e9:,.1f} "
                         f"GB of HBM, the replica has {step.memory_capacity / 1e9:,.1f} GB: at most batch "
                         f"{step.max_batch:,.0f} fits (lower --batch or --context-length, or raise "
                         "--devices-per-replica)")


def _outside(curve: Any, batch: Any) -> str:
    lo = min(p.batch_size for p in curve.points)
    hi = max(p.batch_size for p in curve.points)
    return (f"batch {batch:g} is outside the measured batches ({lo:g} to {hi:g}) on {curve.hardware}: "
            "the serving model gives this point (modeled)")


def _uncovered(inp: Inputs, curve: Any, batch: Any) -> str:
    if curve is not None:
        return (f"--operating-point measured: {_outside(curve, batch).split(':')[0]}, and measurements "
                "only were asked for")
    return "no measurement and no serving model for this operating point"

