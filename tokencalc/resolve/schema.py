"""Declarative schema of the five profile kinds.

One table drives validation (`profiles.py`), the JSON Schema (`tokencalc schema
KIND`) and the documentation, so the three can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

KINDS = ("hardware", "facility", "workload", "lever", "scenario")
# Folder of each kind under a profiles directory.
FOLDERS = {"hardware": "hardware", "facility": "facilities", "workload": "workloads", "lever": "levers", "scenario": "scenarios"}

OWNERSHIP = ("owned", "rented")
BOUNDARIES = ("accelerator", "node", "rack", "it", "facility")
TOKEN_BASES = ("output", "total")
PHASES = ("prefill", "decode", "both")
CONFIDENCE = ("replicated", "single-source", "developer-report")
OBJECTIVES = ("tokens", "energy")
OPERATING_POINTS = ("auto", "measured", "modeled")


@dataclass(frozen=True)
class Field:
    """A leaf value.

    `type` is one of: quantity (a number with a unit of dimension `dim`, or a
    plain number when `dim` is dimensionless), int, str, bool, ref (a profile
    id or path of kind `ref_kind`), refs (a list of those), date (ISO date), path (a data
    file, relative to the profile's folder and confined to it).
    """

    type: str
    help: str
    dim: str = "dimensionless"
    min: float | None = None
    min_open: bool = False
    max: float | None = None
    max_open: bool = False
    choices: tuple[str, ...] | None = None
    ref_kind: str | None = None
    example: str | None = None


@dataclass(frozen=True)
class Table:
    """A nested table with fixed keys."""

    fields: dict[str, "Spec"]
    help: str = ""


@dataclass(frozen=True)
class MapOf:
    """A table whose keys are free (precision names, benchmark names) and whose values share one spec."""

    item: "Spec"
    help: str = ""
    key_help: str = "name"


@dataclass(frozen=True)
class ArrayOf:
    """An array of tables (`[[measured.curve]]`): rows sharing one Table spec.

    Every row needs the `required` keys; rows with equal `group` keys must differ in `distinct`.
    Values are stored under `<path>.<row index>.<key>`; errors name `<path>[<row index>].<key>`.
    """

    item: Table
    help: str = ""
    required: tuple[str, ...] = ()
    group: tuple[str, ...] = ()
    distinct: str | None = None


@dataclass(frozen=True)
class Free:
    """A free-form table validated elsewhere (scenario `[override]`, `[trajectory]`, `[sources]`)."""

    help: str = ""


Spec = Union[Field, Table, MapOf, ArrayOf, Free]


def Q(dim: str, help: str, **kw) -> Field:  # noqa: N802 - reads like a type in the tables below
    """Shorthand for a quantity field."""
    return Field("quantity", help, dim=dim, **kw)


POSITIVE = {"min": 0.0, "min_open": True}
FRACTION = {"min": 0.0, "min_open": True, "max": 1.0}
SHARE = {"min": 0.0, "max": 1.0}

COMMON: dict[str, Spec] = {
    "kind": Field("str", "profile kind", choices=KINDS),
    "name": Field("str", "human-readable name"),
    "description": Field("str", "what this profile describes"),
    "notes": Field("str", "caveats, assumptions, what was left out and why"),
    "sources": Free("citations: key (dotted, a table prefix, or `default`) -> citation string or "
                    "{ title, author, year, url, publisher, note, accessed }"),
}

# The core inputs: scenario keys and `estimate` flags share these names.
CORE: dict[str, Field] = {
    "k_eff": Q("compute_rate", "effective compute throughput of the deployment (taken as realized)", **POSITIVE, example="1.3e16 FLOP/s"),
    "c_tok": Q("compute_intensity", "compute per token at the operating point", **POSITIVE, example="1.3e11 FLOP/token"),
    "e_tok": Q("energy_intensity", "energy per token at the operating point (IT boundary unless e_tok_boundary says otherwise)", **POSITIVE, example="3 J/token"),
    "e_tok_boundary": Field("str", "accounting boundary of e_tok and device_power", choices=BOUNDARIES),
    "it_overhead": Q("dimensionless", "IT power per unit of power at the stated boundary (host, network, storage share), >= 1", min=1.0, example="1.3"),
    "node_overhead": Q("dimensionless", "boundary ladder: node power per unit of accelerator power (host CPUs, DRAM, "
                                        "NICs, fans), >= 1; default: server power per device / board power", min=1.0,
                       example="1.5"),
    "rack_overhead": Q("dimensionless", "boundary ladder: rack power per unit of node power (switch trays, power "
                                        "shelves), >= 1", min=1.0, example="1.05"),
    "fabric_overhead": Q("dimensionless", "boundary ladder: IT power per unit of rack power (data-center network and "
                                          "storage), >= 1", min=1.0, example="1.1"),
    "idle_power": Q("power", "board power of a device with no work (accelerator boundary): idle capacity draws it over "
                             "the horizon; \"0 W\" leaves idle energy out", min=0.0, example="70 W"),
    "p_facility": Q("power", "facility delivered power (grid / contracted envelope)", **POSITIVE, example="1 MW"),
    "p_it": Q("power", "IT-delivered power (default P_facility / PUE)", **POSITIVE, example="800 kW"),
    "pue": Q("dimensionless", "power usage effectiveness, >= 1", min=1.0, example="1.2"),
    "cooling_capacity": Q("power", "IT heat the cooling plant can remove; caps P_IT", **POSITIVE, example="900 kW"),
    "utilization": Q("dimensionless", "effective utilization U after the ceilings, 0 < U <= 1", **FRACTION, example="0.7"),
    "devices": Field("int", "number of accelerators", min=1),
    "precision": Field("str", "operating precision: selects the hardware's peak_flops entry (bf16, fp16, fp8, fp4, int8, ...)"),
    "peak_flops": Q("compute_rate", "dense peak per device at the operating precision", **POSITIVE, example="989.4 TFLOP/s"),
    "throughput_per_device": Q("token_rate", "measured token rate per device at the operating point (realized K_eff = N r c_tok)", **POSITIVE, example="900 token/s"),
    "kernel_efficiency": Q("dimensionless", "MFU-like efficiency for modeled K_eff = N peak availability efficiency", **FRACTION, example="0.4"),
    "availability": Q("dimensionless", "hardware availability for modeled K_eff", **FRACTION, example="0.95"),
    "device_power": Q("power", "power per device at the operating point (modeled e_tok = N p / rate)", **POSITIVE, example="850 W"),
    "electricity_price": Q("price", "electricity price", min=0.0, example="0.08 USD/kWh"),
    "carbon_intensity": Q("carbon_intensity", "grid carbon intensity (plain mass is read as CO2e)", min=0.0, example="0.4 kg/kWh"),
    "electricity_price_series": Field("path", "hourly electricity price: a CSV file `timestamp,price (USD/MWh)` "
                                              "(docs/model.md §8.2); replaces electricity_price", example="prices.csv"),
    "carbon_intensity_series": Field("path", "hourly grid carbon intensity: a CSV file `timestamp,carbon_intensity "
                                             "(gCO2e/kWh)`; replaces carbon_intensity", example="carbon.csv"),
    "horizon": Q("time", "projection horizon T", **POSITIVE, example="365 day"),
    # Cost and impact (docs/model.md §8.1): capital and operating cost, embodied carbon, water.
    "device_price": Q("currency", "purchase price per device (owned hardware, amortised straight-line over its "
                                  "lifetime)", min=0.0, example="25000 USD"),
    "device_hourly_price": Q("currency_rate", "rental price per device-hour (rented hardware)", min=0.0,
                             example="2.99 USD/hour"),
    "ownership": Field("str", "owned (device price amortised) or rented (hourly price); default: owned when a device "
                              "price is known", choices=OWNERSHIP),
    "lifetime": Q("time", "service lifetime of the devices (amortises the device price and the embodied carbon)",
                  **POSITIVE, example="5 year"),
    "embodied_carbon": Q("carbon", "embodied (manufacturing) emissions per device, with its share of the server",
                         min=0.0, example="1.5 tCO2e"),
    "capex_per_it_power": Q("price_per_power", "data-center capital cost per unit of IT capacity", min=0.0,
                            example="10000 USD/kW"),
    "facility_lifetime": Q("time", "amortisation period of the data-center capital cost", **POSITIVE,
                           example="15 year"),
    "opex_per_it_power": Q("price", "data-center operating cost besides energy, per unit of IT capacity and time",
                           min=0.0, example="500 USD/kW/year"),
    "wue": Q("water_intensity", "on-site water usage effectiveness: water consumed per IT energy", min=0.0,
             example="1.8 L/kWh"),
    "grid_water_intensity": Q("water_intensity", "water consumed generating the electricity, per facility energy",
                              min=0.0, example="3.1 L/kWh"),
    "token_basis": Field("str", "which tokens are counted: output only, or input + output", choices=TOKEN_BASES),
    "input_output_ratio": Q("dimensionless", "input tokens per output token, to convert between token bases", min=0.0, example="2"),
    "binding_tolerance": Q("dimensionless", "relative gap under which the two ceilings are called balanced", min=0.0, max=1.0, max_open=True, example="0.01"),
    # The operating point (docs/model.md §4.3): what the workload declares, or what the SLO search picks.
    "batch_size": Q("dimensionless", "concurrent sequences per replica, a mean as measured (fixes the batch; "
                                     "otherwise an SLO picks it)", min=1.0, example="64"),
    "context_length": Field("int", "context length in tokens at the operating point", min=1),
    "devices_per_replica": Field("int", "devices one model replica spans (tensor parallel; expert parallel for MoE)", min=1),
    "input_tokens": Field("int", "prompt tokens per request (prefill: TTFT)", min=1),
    "output_tokens": Field("int", "generated tokens per request (decode); with input_tokens: per-request energy and "
                                  "requests/s", min=1),
    "tpot_slo": Q("time", "time-per-output-token SLO (ITL): the batch search keeps ITL within it", **POSITIVE, example="50 ms"),
    "ttft_slo": Q("time", "time-to-first-token SLO: the batch search keeps TTFT within it", **POSITIVE, example="1 s"),
    "objective": Field("str", "what the batch search optimises under the SLO", choices=OBJECTIVES),
    "operating_point": Field("str", "where the operating point comes from: measurements where they exist (auto), "
                                    "measurements only, or the serving model only", choices=OPERATING_POINTS),
    "power_cap": Q("power", "board-power limit per device (accelerator boundary): the device lowers its core clock "
                            "to stay within it (docs/model.md §4.7)", **POSITIVE, example="250 W"),
}

HARDWARE: dict[str, Spec] = {
    **COMMON,
    "vendor": Field("str", "vendor"),
    "form_factor": Field("str", "SXM, PCIe, OAM, TPU slice, ..."),
    "released": Field("str", "year of release"),
    "tdp": Q("power", "board power (TDP / max board power)", **POSITIVE, example="700 W"),
    "hbm_capacity": Q("bytes", "HBM capacity per device", **POSITIVE, example="80 GB"),
    "hbm_bandwidth": Q("bandwidth", "HBM bandwidth per device", **POSITIVE, example="3.35 TB/s"),
    "peak_flops": MapOf(Q("compute_rate", "dense peak per device", **POSITIVE, example="989.4 TFLOP/s"),
                        "dense peak throughput per device by precision", key_help="precision"),
    "server_power_per_device": Q("power", "server (node) power per device incl. host CPUs, NICs, fans", **POSITIVE, example="1275 W"),
    "idle_power": Q("power", "board power at idle (the serving model's power floor; idle capacity's draw)", min=0.0,
                    example="70 W"),
    "rack_overhead": CORE["rack_overhead"],
    "device_price": CORE["device_price"],
    "device_hourly_price": CORE["device_hourly_price"],
    "lifetime": CORE["lifetime"],
    "embodied_carbon": CORE["embodied_carbon"],
    "interconnect_bandwidth": Q("bandwidth", "device-to-device bandwidth per device (NVLink total, as published)",
                                **POSITIVE, example="900 GB/s"),
    "serving": Table({
        "compute_efficiency": Q("dimensionless", "share of dense peak the serving GEMMs reach", **FRACTION, example="0.6"),
        "memory_efficiency": Q("dimensionless", "share of HBM bandwidth the weight and KV streams reach", **FRACTION,
                               example="0.85"),
        "step_overhead": Q("time", "fixed time per decode step (scheduling, launches)", min=0.0, example="2 ms"),
        "sequence_overhead": Q("time", "time per sequence and decode step (sampling, bookkeeping)", min=0.0,
                               example="50 us"),
        "collective_latency": Q("time", "latency of one all-reduce across the replica", min=0.0, example="70 us"),
        "power_base": Q("dimensionless", "power model: share of TDP at zero activity", example="0.45"),
        "power_compute": Q("dimensionless", "power model: share of TDP per unit of compute activity", example="0.9"),
        "power_memory": Q("dimensionless", "power model: share of TDP per unit of memory activity", example="0.25"),
        "dvfs_exponent": Q("dimensionless", "power cap: the compute units' busy power scales as (clock share)^α "
                                            "(default 3: C·V²·f with V ∝ f)", **POSITIVE, example="3"),
    }, "serving-model parameters fitted per hardware (docs/model.md §4.3)"),
}

FACILITY: dict[str, Spec] = {
    **COMMON,
    "region": Field("str", "region or grid the site draws from"),
    "illustrative": Field("bool", "true when the power envelope is illustrative rather than a real site's"),
    "power": Q("power", "facility delivered power P_facility", **POSITIVE, example="2 MW"),
    "it_power": Q("power", "IT power P_IT (instead of power)", **POSITIVE, example="1.6 MW"),
    "pue": CORE["pue"],
    "cooling_capacity": CORE["cooling_capacity"],
    "fabric_overhead": CORE["fabric_overhead"],
    "capex_per_it_power": CORE["capex_per_it_power"],
    "facility_lifetime": CORE["facility_lifetime"],
    "opex_per_it_power": CORE["opex_per_it_power"],
    "wue": CORE["wue"],
    "grid_water_intensity": CORE["grid_water_intensity"],
    "electricity_price": CORE["electricity_price"],
    "carbon_intensity": CORE["carbon_intensity"],
    "electricity_price_series": CORE["electricity_price_series"],
    "carbon_intensity_series": CORE["carbon_intensity_series"],
}

# One measured point of an operating curve (`[[measured.curve]]`), per device, at [measured]'s boundary.
CURVE_ROW = Table({
    "hardware": Field("str", "hardware id the row was measured on"),
    "devices_per_replica": Field("int", "devices one replica spans in the measurement", min=1),
    "precision": Field("str", "operating precision of the measurement (bf16, fp8, fp4, ...); absent: unstated"),
    "batch_size": Q("dimensionless", "batch: concurrent sequences per replica (a measured mean may be fractional)",
                    **POSITIVE, example="63.9"),
    "throughput_per_device": Q("token_rate", "measured token rate per device at this batch", **POSITIVE,
                               example="1520 token/s"),
    "device_power": Q("power", "measured power per device at this batch (at measured.e_tok_boundary)", **POSITIVE,
                      example="610 W"),
    "itl": Q("time", "measured inter-token latency at this batch (median)", **POSITIVE, example="38 ms"),
}, "one measured point of an operating curve")
CURVE_REQUIRED = ("hardware", "devices_per_replica", "batch_size", "throughput_per_device", "device_power", "itl")

WORKLOAD: dict[str, Spec] = {
    **COMMON,
    "model": Table({
        "family": Field("str", "model family / name"),
        "architecture": Field("str", "dense or moe", choices=("dense", "moe")),
        "active_params": Q("dimensionless", "parameters active per token (N_active)", **POSITIVE, example="65.2e9"),
        "total_params": Q("dimensionless", "total parameters", **POSITIVE, example="671e9"),
        "n_layers": Field("int", "transformer layers", min=1),
        "d_attn": Field("int", "attention width (heads x head dim)", min=1),
        "kv_bytes_per_token": Q("bytes_per_token", "KV-cache bytes per token of context", **POSITIVE, example="2.62 MB/token"),
        "d_model": Field("int", "hidden size (width of the tensor-parallel all-reduce)", min=1),
        "n_experts": Field("int", "routed experts per MoE layer", min=1),
        "experts_per_token": Field("int", "routed experts each token uses", min=1),
        "expert_params": Q("dimensionless", "parameters of ONE routed expert, summed over all MoE layers", **POSITIVE,
                           example="2.55e9"),
        "bytes_per_param": Q("bytes", "bytes per weight at the operating precision", **POSITIVE, example="2 B"),
        "c_tok": CORE["c_tok"],
    }, "architecture"),
    "operating_point": Table({
        "precision": CORE["precision"],
        "batch_size": Field("int", "concurrent sequences per replica", min=1),
        "context_length": Field("int", "context length in tokens", min=1),
        "devices_per_replica": Field("int", "devices one model replica spans (tensor/pipeline parallel)", min=1),
        "prefill_share": Q("dimensionless", "share of c_tok and e_tok spent in prefill (0..1)", **SHARE, example="0.1"),
        "input_output_ratio": CORE["input_output_ratio"],
        "token_basis": CORE["token_basis"],
    }, "the operating point"),
    "quality": MapOf(Table({
        "score": Q("dimensionless", "reference score"),
        "tolerance": Q("dimensionless", "allowed loss in the score's own units (points)", min=0.0),
        "metric": Field("str", "what the score measures"),
    }), "q*: quality targets by benchmark", key_help="benchmark"),
    "service": Table({
        "ttft": Q("time", "time-to-first-token SLO", **POSITIVE, example="1 s"),
        "tpot": Q("time", "time-per-output-token SLO", **POSITIVE, example="100 ms"),
    }, "s*: the latency SLO"),
    "measured": Table({
        "e_tok": CORE["e_tok"],
        "e_tok_boundary": CORE["e_tok_boundary"],
        "token_basis": CORE["token_basis"],
        "throughput_per_device": CORE["throughput_per_device"],
        "device_power": CORE["device_power"],
        "utilization": CORE["utilization"],
        "ttft": Q("time", "measured time to first token", **POSITIVE),
        "tpot": Q("time", "measured time per output token", **POSITIVE),
        "hardware": Field("str", "hardware id the measurement was made on"),
        "batch_size": Field("int", "batch size of the measurement", min=1),
        "context_length": Field("int", "context length of the measurement", min=1),
        "conditions": Field("str", "serving stack and measurement conditions"),
        "curve": ArrayOf(CURVE_ROW, "measured operating curves: one row per measured batch (boundary and token basis "
                         "from [measured]); docs/model.md §12", required=CURVE_REQUIRED,
                         group=("hardware", "devices_per_replica", "precision"), distinct="batch_size"),
        "provenance": Free("machine-written provenance (calibrate): input hashes, window, tool version"),
    }, "measurements at the operating point"),
}

LEVER: dict[str, Spec] = {
    **COMMON,
    "category": Field("str", "attention, quantization, kv-cache, scheduling, decoding, reasoning, ..."),
    "phase": Field("str", "phase the lever acts on", choices=PHASES),
    "c_tok_factor": Q("dimensionless", "multiplier on c_tok (< 1 improves)", **POSITIVE, example="0.5"),
    "e_tok_factor": Q("dimensionless", "multiplier on e_tok (< 1 improves)", **POSITIVE, example="0.5"),
    "latency_factor": Q("dimensionless", "multiplier on TPOT (> 1 is slower)", **POSITIVE, example="1.0"),
    "weight_bytes_factor": Q("dimensionless", "multiplier on the bytes per weight a decode step reads (quantization; "
                                              "the serving model reads fewer bytes)", **POSITIVE, example="0.25"),
    "kv_bytes_factor": Q("dimensionless", "multiplier on the KV-cache bytes per token (eviction, compression)",
                         **POSITIVE, example="0.5"),
    "quality_delta": MapOf(Q("dimensionless", "score change in points (negative = loss)"),
                           "declared quality change by benchmark", key_help="benchmark"),
    "confidence": Field("str", "strength of evidence", choices=CONFIDENCE),
    "min_context_length": Field("int", "context length (tokens) from which the declared factors hold; below it "
                                       "the lever is not counted", min=1),
    "precision": Field("str", "precision the lever moves serving to (e.g. fp8); not counted when the scenario "
                              "already runs at it, whose gain the hardware's peak at that precision then carries"),
}

SCENARIO: dict[str, Spec] = {
    **COMMON,
    "hardware": Field("ref", "hardware profile id or path", ref_kind="hardware"),
    "facility": Field("ref", "facility profile id or path", ref_kind="facility"),
    "workload": Field("ref", "workload profile id or path", ref_kind="workload"),
    "levers": Field("refs", "lever profile ids or paths", ref_kind="lever"),
    "start_date": Field("date", "calendar date of t = 0 (for dated steps)"),
    "prefill_fleet": Field("ref", "a disaggregated deployment: the scenario of the fleet that prefills the prompts "
                                  "(its tokens are prompt tokens); this scenario is then the decode fleet",
                           ref_kind="scenario"),
    "allow_operating_point_shift": Field("bool", "count levers even when they break a quality tolerance or the SLO"),
    "whole_token_levers": Field("bool", "count one-phase levers on the whole token when the workload declares no "
                                        "prefill/decode split (otherwise they are not counted)"),
    **CORE,
    "override": Free("dotted profile keys to override, e.g. `\"facility.pue\" = 1.3`"),
    "trajectory": Free("time-varying inputs for `project` (growth, ramp, steps, csv)"),
}

KIND_SPECS: dict[str, dict[str, Spec]] = {
    "hardware": HARDWARE,
    "facility": FACILITY,
    "workload": WORKLOAD,
    "lever": LEVER,
    "scenario": SCENARIO,
}


def leaf(kind: str, dotted: str) -> Field | None:
    """Return the leaf Field of `kind` at a dotted key path, or None if there is none."""
    spec: Spec = Table(KIND_SPECS[kind])
    for part in dotted.split("."):
        if isinstance(spec, Table):
            if part not in spec.fields:
                return None
            spec = spec.fields[part]
        elif isinstance(spec, MapOf):
            spec = spec.item
        elif isinstance(spec, ArrayOf) and part.isdigit():  # a row index
            spec = spec.item
        else:
            return None
    return spec if isinstance(spec, Field) else None


def json_schema(kind: str) -> dict:
    """JSON Schema (draft 2020-12) of a profile kind, for editor validation of TOML files."""

    def conv(spec: Spec) -> dict:
        if isinstance(spec, Table):
            return {"type": "object", "description": spec.help, "additionalProperties": False,
                    "properties": {k: conv(v) for k, v in spec.fields.items()}}
        if isinstance(spec, MapOf):
            return {"type": "object", "description": spec.help, "additionalProperties": conv(spec.item)}
        if isinstance(spec, ArrayOf):
            return {"type": "array", "description": spec.help,
                    "items": {**conv(spec.item), "required": list(spec.required)}}
        if isinstance(spec, Free):
            return {"type": "object", "description": spec.help}
        out: dict = {"description": spec.help}
        if spec.type == "quantity":
            rng = {"type": "object", "description": "a range: {low, mode, high} (triangular) or {value, rel}"}
            if spec.dim == "dimensionless":
                num: dict = {"type": "number"}
                if spec.min is not None:
                    num["exclusiveMinimum" if spec.min_open else "minimum"] = spec.min
                if spec.max is not None:
                    num["exclusiveMaximum" if spec.max_open else "maximum"] = spec.max
                out["anyOf"] = [num, {"type": "string"}, rng]
            else:
                from ..units import DIMENSIONS  # light: no pint import
                out["description"] += f" [{DIMENSIONS[spec.dim][1]}]"
                out["anyOf"] = [{"type": "string", "pattern": r"^\s*[-+0-9.eE]+\s*\S.*$"}, rng]
                if spec.example:
                    out["examples"] = [spec.example]
        elif spec.type == "int":
            out["type"] = "integer"
            if spec.min is not None:
                out["minimum"] = int(spec.min)
        elif spec.type == "bool":
            out["type"] = "boolean"
        elif spec.type == "refs":
            out.update({"type": "array", "items": {"type": "string"}})
        elif spec.type == "date":
            out.update({"type": "string", "format": "date"})
        else:
            out["type"] = "string"
            if spec.choices:
                out["enum"] = list(spec.choices)
        return out

    body = conv(Table(KIND_SPECS[kind]))
    body["required"] = ["kind", "name"]
    body["properties"]["kind"] = {"const": kind, "description": "profile kind"}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"tokencalc:{kind}", "title": f"tokencalc {kind} profile", **body}
