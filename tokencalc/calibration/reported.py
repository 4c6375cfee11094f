"""The calibration result from a serving stack's own energy report (`calibrate --energy FILE`).

The same document as :func:`~tokencalc.calibration.estimators.calibrate` writes for power logs
(same keys, same core for c_tok, K_eff, η_K, η_E), with the energy, window, tokens and devices
taken from the report (:mod:`.energy`) instead of integrated here. Figures a report cannot
give (TGI responses have no duration or device count) are null, never guessed.
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from .energy import EnergyReport
from .estimators import SCHEMA, estimators
from .reference import Reference


def _ratio(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or den == 0:
        return None
    return num / den


def _devices(rep: EnergyReport) -> list[dict[str, Any]]:
    """Per-device rows where the report splits the energy, else one row for all its devices."""
    rows = list(rep.device_energy) or [("all" if rep.devices != 1 else "0", rep.energy_j)]
    return [{"id": dev, "source": rep.path, "uuid": None, "method": f"report:{rep.format}", "energy_j": e,
             "mean_power_w": _ratio(e, rep.duration_s), "samples": None, "covered_s": rep.duration_s,
             "sm_active_mean": None, "gpu_utilization_mean": None} for dev, e in rows]


def _idle(rep: EnergyReport, idle_power: float | None, warnings: list[str]) -> dict[str, Any]:
    """`--idle-power` times devices times the report's window, reported beside the gross figures."""
    out: dict[str, Any] = {"idle_method": None, "idle_power_w": None, "energy_idle_j": None, "energy_net_j": None}
    if idle_power is None:
        return out
    if idle_power < 0:
        raise InputError("--idle-power: expected a power >= 0")
    if rep.duration_s is None or rep.devices is None:
        raise InputError(f"--idle-power: a {rep.format} report has no duration or device count to subtract "
                         "idle power over")
    idle_w = idle_power * rep.devices
    energy_idle = idle_w * rep.duration_s
    net = rep.energy_j - energy_idle
    if net <= 0:
        warnings.append(f"idle energy ({energy_idle:.6g} J) is not below the measured energy ({rep.energy_j:.6g} J); "
                        "no net figures")
        net = None
    out.update(idle_method="declared", idle_power_w=idle_w, energy_idle_j=energy_idle, energy_net_j=net)
    return out


def _window(rep: EnergyReport) -> dict[str, Any]:
    end = f"{rep.duration_s:.6g} s" if rep.duration_s is not None else "unreported"
    return {"start": "0 s", "end": end, "source": f"{rep.format}: {rep.window}", "idle_start": None,
            "idle_end": None}


def from_report(rep: EnergyReport, token_basis: str, *, ref: Reference | None = None,
                idle_power: float | None = None, tool_version: str = "") -> dict[str, Any]:
    """A report's figures -> the `tokencalc calibrate --format json` document.

    Args:
        rep: the report (:func:`~tokencalc.calibration.energy.read_energy`).
        token_basis: "output" or "total" (input + output, where the report counts input tokens).
        ref: c_tok, peak, TDP for the ratio estimators (default: none).
        idle_power: idle power per device (W) to subtract, reported separately.
        tool_version: for provenance.

    Raises:
        InputError: "total" without input tokens; --idle-power without a duration or device count.
    """
    ref = ref if ref is not None else Reference()
    warnings = list(rep.warnings) + list(ref.warnings)
    tokens = rep.tokens(token_basis)
    if tokens <= 0:
        warnings.append("the token count is 0; no per-token figures")
    tok = tokens if tokens else None
    e_tok = _ratio(rep.energy_j, tok)
    rate = _ratio(tok, rep.duration_s) if tok else None
    n_dev = rep.devices
    rate_dev = _ratio(rate, n_dev)
    mean_w = _ratio(rep.energy_j, rep.duration_s)
    out: dict[str, Any] = {
        "schema": SCHEMA, "tool_version": tool_version,
        "energy_j": rep.energy_j, "energy_method": f"report:{rep.format}",
        "duration_s": rep.duration_s, "mean_power_w": mean_w, "mean_power_per_device_w": _ratio(mean_w, n_dev),
        "devices": n_dev, "device_details": _devices(rep),
        "tokens": tok, "token_basis": token_basis,
        "e_tok_j_per_token": e_tok, "e_tok_boundary": "accelerator",
        "throughput_tokens_per_s": rate, "throughput_per_device_tokens_per_s": rate_dev,
    }
    est = estimators(ref, n_dev or 1, rate_dev, e_tok, token_basis)
    if n_dev is None:
        est["k_peak_flop_per_s"] = None  # no device count: no installed peak
    out.update(est)
    out.update(sm_active_mean=None, sm_active_reference=ref.sm_active_reference, utilization=None,
               gpu_utilization_mean=None)
    idle = _idle(rep, idle_power, warnings)
    out.update(idle, e_tok_net_j_per_token=_ratio(idle["energy_net_j"], tok))
    out["window"] = _window(rep)
    out["energy_report"] = {"path": rep.path, "format": rep.format, "window": rep.window,
                            "output_tokens": rep.output_tokens, "input_tokens": rep.input_tokens,
                            "e_tok_reported_j_per_token": rep.e_tok_reported, "model_id": rep.model_id}
    out.update(inputs=[{"path": rep.path, "format": rep.format, "sha256": rep.sha256}], warnings=warnings,
               warning_count=len(warnings))
    return out
