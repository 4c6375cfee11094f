"""The calibration result: summed device energy, idle subtraction, and the estimators through the core.

e_tok = E / tokens and the rate are measured here; c_tok, realized K_eff = N·r·c_tok,
K_peak, η_K = K_eff / K_peak, e_ref = c_tok·TDP / peak and η_E = e_ref / e_tok come
from :func:`tokencalc.core.evaluate` (docs/model.md §11), so they can never differ
from what `tokencalc estimate` computes for the same inputs. U is the mean SM
activity over the reference activity of the ideal batch.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable

from ..core import evaluate
from ..errors import InputError
from .bench import Bench
from .clock import Clock, Window
from .integrate import DeviceResult, integrate_device
from .reference import Reference
from .samples import Device

SCHEMA = "tokencalc.calibrate/1"


def _ratio(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or den == 0:
        return None
    return num / den


def estimators(ref: Reference, devices: int, rate_per_device: float | None, e_tok: float | None,
               token_basis: str) -> dict[str, Any]:
    """c_tok, K_eff, K_peak, η_K, e_ref and η_E of a measurement, evaluated by the core.

    Args:
        ref: the resolved reference inputs.
        devices: devices measured.
        rate_per_device: measured tokens/s per device (None: no token count).
        e_tok: measured J/token at the accelerator boundary (None: no token count).
        token_basis: the basis of both figures.

    Returns:
        The estimator keys of the calibration result.
    """
    # A zero e_tok (no energy in the window) has no finite η_E: leave it unknown.
    inp = replace(ref.inputs, devices=devices, throughput_per_device=rate_per_device, e_tok=e_tok or None,
                  e_tok_boundary="accelerator", token_basis=token_basis)
    r = evaluate(inp)
    realized = r["k_eff_convention"] == "realized"  # K_eff = N·r·c_tok, never a peak or a model
    return {
        "c_tok_flop_per_token": r["c_tok_base"],
        "c_tok_source": ref.c_tok_source(r["c_tok_origin"]),
        "k_eff_flop_per_s": r["k_eff"] if realized else None,
        "k_peak_flop_per_s": r["k_peak"],
        "peak_flops_per_device_flop_per_s": inp.peak_flops,
        "tdp_w": inp.tdp,
        "precision": inp.precision,
        "hardware": inp.hardware,
        "workload": ref.workload,
        "eta_k": r["eta_k"] if realized else None,
        "e_ref_j_per_token": r["e_ref"],
        "eta_e": r["eta_e"],
    }


def _idle(devices: dict[str, Device], n_dev: int, duration: float, energy: float, warnings: list[str], *,
          idle_power: float | None, idle_window: Window | None, prefer_counter: bool) -> dict[str, Any]:
    """Idle subtraction, never silent: reported beside the gross figures."""
    idle_w = None
    idle_method = None
    if idle_power is not None:
        if idle_power < 0:
            raise InputError("--idle-power: expected a power >= 0")
        idle_w, idle_method = idle_power * n_dev, "declared"
    elif idle_window is not None:
        idle_w = 0.0
        for dev in devices.values():
            r = integrate_device(dev, idle_window.start, idle_window.end, warnings, prefer_counter=prefer_counter)
            if r.covered_s <= 0:
                raise InputError(f"--idle-window: GPU {dev.id} ({dev.source}) has no samples in the idle window")
            idle_w += r.energy_j / r.covered_s
        idle_method = "measured"
    energy_idle = idle_w * duration if idle_w is not None else None
    energy_net = energy - energy_idle if energy_idle is not None else None
    if energy_net is not None and energy_net <= 0:
        warnings.append(f"idle energy ({energy_idle:.6g} J) is not below the measured energy ({energy:.6g} J); "
                        "no net figures")
        energy_net = None
    return {"idle_method": idle_method, "idle_power_w": idle_w, "energy_idle_j": energy_idle,
            "energy_net_j": energy_net}


def _activity(per_dev: list[DeviceResult], sm_reference: float, warnings: list[str]) -> dict[str, Any]:
    """U from the mean SM activity (DCGM), and nvidia-smi's utilization.gpu (reported, never taken as U)."""
    sm = [d.sm_active for d in per_dev if d.sm_active is not None]
    sm_mean = sum(sm) / len(sm) if sm else None
    if sm and len(sm) < len(per_dev):
        warnings.append(f"SM activity known for {len(sm)} of {len(per_dev)} devices; U is their mean")
    gu = [d.gpu_util for d in per_dev if d.gpu_util is not None]
    utilization = min(sm_mean / sm_reference, 1.0) if sm_mean is not None else None
    if sm_mean is not None and sm_mean > sm_reference:
        warnings.append(f"mean SM activity {sm_mean:.3f} exceeds the reference {sm_reference:g}; U capped at 1")
    return {"sm_active_mean": sm_mean, "sm_active_reference": sm_reference, "utilization": utilization,
            "gpu_utilization_mean": sum(gu) / len(gu) if gu else None}


def calibrate(devices: dict[str, Device], window: Window, tokens: int | None, token_basis: str, *,
              clock: Clock, ref: Reference | None = None, idle_power: float | None = None,
              idle_window: Window | None = None, inputs: Iterable[dict[str, Any]] = (),
              warnings: list[str] | None = None, bench: Bench | None = None,
              prefer_counter: bool = True, tool_version: str = "") -> dict[str, Any]:
    """Turn device samples, a window and a token count into the calibration result.

    Args:
        devices: device id -> samples (see :func:`~tokencalc.calibration.logs.merge_devices`).
        window: the run window.
        tokens: tokens produced in the window on `token_basis` (None: energy only).
        token_basis: "output" or "total".
        clock: time convention, for showing the window.
        ref: c_tok, peak, TDP for the ratio estimators (its warnings follow `warnings`; default: none).
        idle_power: idle power per device (W) to subtract, reported separately.
        idle_window: a measured idle segment whose mean power per device is subtracted.
        inputs: provenance of the input files ({path, sha256, format}).
        warnings: warnings gathered so far (the result carries them all).
        bench: the bench file the tokens came from, to check its duration.
        prefer_counter: use energy counters when present.
        tool_version: for provenance.

    Returns:
        A JSON-ready dict of plain SI floats: the `tokencalc calibrate --format json` document.

    Raises:
        InputError: both idle options, a negative idle power, a device without usable samples.
    """
    ref = ref if ref is not None else Reference()
    warnings = list(warnings or []) + list(ref.warnings)
    if idle_power is not None and idle_window is not None:
        raise InputError("give either --idle-power or --idle-window, not both")
    dur = window.duration
    per_dev = [replace(integrate_device(dev, window.start, window.end, warnings, prefer_counter=prefer_counter), id=key)
               for key, dev in devices.items()]
    n_dev = len(per_dev)
    energy = sum(d.energy_j for d in per_dev)
    if bench is not None and window.source != "bench" and abs(dur - bench.duration_s) > 0.05 * bench.duration_s:
        warnings.append(f"{bench.path}: the benchmark ran {bench.duration_s:.3f} s but the window is {dur:.3f} s; "
                        "its token count may not match the energy")
    idle = _idle(devices, n_dev, dur, energy, warnings, idle_power=idle_power, idle_window=idle_window,
                 prefer_counter=prefer_counter)
    if tokens is not None and tokens <= 0:
        warnings.append("the token count is 0; no per-token figures")
    tok = tokens if tokens else None
    e_tok = _ratio(energy, tok)
    rate = _ratio(tok, dur) if tok else None
    rate_dev = rate / n_dev if rate is not None else None
    out = {
        "schema": SCHEMA, "tool_version": tool_version,
        "energy_j": energy, "energy_method": "+".join(sorted({d.method for d in per_dev})),
        "duration_s": dur, "mean_power_w": energy / dur, "mean_power_per_device_w": energy / dur / n_dev,
        "devices": n_dev, "device_details": [d.as_dict(dur) for d in per_dev],
        "tokens": tok, "token_basis": token_basis,
        "e_tok_j_per_token": e_tok, "e_tok_boundary": "accelerator",
        "throughput_tokens_per_s": rate, "throughput_per_device_tokens_per_s": rate_dev,
    }
    out.update(estimators(ref, n_dev, rate_dev, e_tok, token_basis))
    out.update(_activity(per_dev, ref.sm_active_reference, warnings))
    out.update(idle, e_tok_net_j_per_token=_ratio(idle["energy_net_j"], tok))
    out["window"] = {"start": clock.show(window.start), "end": clock.show(window.end), "source": window.source,
                     "idle_start": clock.show(idle_window.start) if idle_window else None,
                     "idle_end": clock.show(idle_window.end) if idle_window else None}
    out.update(inputs=list(inputs), warnings=warnings, warning_count=len(warnings))
    return out
