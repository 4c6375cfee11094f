"""Which model input each profile key feeds, and which inputs answer the same question.

One table for resolution, trajectories (`analysis.horizon`) and ranges
(`analysis.uncertainty`), so the three can never disagree.
"""

from __future__ import annotations

from ..units import DIMENSIONS
from . import schema as S

# profile kind -> {dotted profile key: `Inputs` field}
PROFILE_FIELDS: dict[str, dict[str, str]] = {
    "workload": {
        "model.c_tok": "c_tok", "model.active_params": "active_params", "model.total_params": "total_params",
        "model.bytes_per_param": "bytes_per_param", "model.n_layers": "n_layers",
        "model.d_attn": "d_attn", "model.kv_bytes_per_token": "kv_bytes_per_token",
        "model.d_model": "d_model", "model.n_experts": "n_experts", "model.experts_per_token": "experts_per_token",
        "model.expert_params": "expert_params",
        "operating_point.precision": "precision", "operating_point.batch_size": "batch_size",
        "operating_point.context_length": "context_length",
        "operating_point.devices_per_replica": "devices_per_replica",
        "operating_point.prefill_share": "prefill_share", "operating_point.input_output_ratio": "input_output_ratio",
        "operating_point.token_basis": "token_basis",
        "measured.e_tok": "e_tok", "measured.e_tok_boundary": "e_tok_boundary",
        "measured.throughput_per_device": "throughput_per_device", "measured.device_power": "device_power",
        "measured.utilization": "utilization",
        "service.tpot": "tpot_slo", "service.ttft": "ttft_slo", "measured.tpot": "tpot_measured",
    },
    "hardware": {
        "tdp": "tdp", "hbm_bandwidth": "hbm_bandwidth", "server_power_per_device": "server_power_per_device",
        "hbm_capacity": "hbm_capacity", "idle_power": "idle_power", "interconnect_bandwidth": "interconnect_bandwidth",
        "rack_overhead": "rack_overhead", "device_price": "device_price", "device_hourly_price": "device_hourly_price",
        "lifetime": "lifetime", "embodied_carbon": "embodied_carbon",
        "serving.compute_efficiency": "serving_compute_efficiency",
        "serving.memory_efficiency": "serving_memory_efficiency", "serving.step_overhead": "serving_step_overhead",
        "serving.sequence_overhead": "serving_sequence_overhead",
        "serving.collective_latency": "serving_collective_latency", "serving.power_base": "serving_power_base",
        "serving.power_compute": "serving_power_compute", "serving.power_memory": "serving_power_memory",
        "serving.dvfs_exponent": "serving_dvfs_exponent",
    },
    "facility": {
        "power": "p_facility", "it_power": "p_it", "pue": "pue", "cooling_capacity": "cooling_capacity",
        "fabric_overhead": "fabric_overhead", "capex_per_it_power": "capex_per_it_power",
        "facility_lifetime": "facility_lifetime", "opex_per_it_power": "opex_per_it_power", "wue": "wue",
        "grid_water_intensity": "grid_water_intensity", "electricity_price": "electricity_price", "carbon_intensity": "carbon_intensity",
        "electricity_price_series": "electricity_price_series", "carbon_intensity_series": "carbon_intensity_series",
    },
}

# Inputs that answer the same question: a higher layer's answer replaces a lower
# layer's other answers (a flag --p-it must not lose to a facility's `power`).
EXCLUSIVE = (("k_eff", "throughput_per_device", "kernel_efficiency"), ("p_it", "p_facility"), ("e_tok", "device_power"),
             ("device_price", "device_hourly_price"), ("electricity_price", "electricity_price_series"),
             ("carbon_intensity", "carbon_intensity_series"))


def partners(key: str) -> tuple[str, ...]:
    """The inputs that answer the same question as `key` (itself included)."""
    return next((g for g in EXCLUSIVE if key in g), (key,))


def numeric_profile_fields(kind: str) -> dict[str, str]:
    """The entries of PROFILE_FIELDS[kind] whose profile key holds a number (quantity or whole number)."""
    return {k: f for k, f in PROFILE_FIELDS[kind].items() if S.leaf(kind, k).type in ("quantity", "int")}


def si_unit(spec: S.Field | None) -> str:
    """The SI unit an input is reported in: the quantity's unit, "1" for counts, "" for text."""
    if spec is None:
        return ""
    if spec.type == "quantity":
        return DIMENSIONS[spec.dim][1]
    return "1" if spec.type == "int" else ""


def core_unit(key: str) -> str:
    """SI unit of a core (scenario / flag) key ("1" for plain numbers)."""
    return DIMENSIONS[S.CORE[key].dim][1]


def flag_of(key: str) -> str:
    """The command-line flag of a core key: `p_it` -> `--p-it`."""
    return "--" + key.replace("_", "-")
