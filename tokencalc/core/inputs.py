"""The inputs of one operating point, and where each came from.

`Inputs` holds plain SI floats (or numpy arrays, for sweeps, projections and
Monte Carlo) that crossed the unit-checked boundary in `tokencalc.resolve`.
Provenance is structured data (:class:`Origin`), never a string to be parsed
back: analysis code asks `origin.kind == "workload"`, reports print `origin.text`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .curves import Curve

DEFAULT_TOLERANCE = 0.01

# Layers an input can come from, lowest first (a flag beats a scenario key or --set, which beat a profile).
LAYERS = ("default", "profile", "scenario", "set", "flag", "derived")


@dataclass(frozen=True)
class Origin:
    """Where one input came from.

    Attributes:
        layer: one of LAYERS ("set" is --set on a scenario key without a scenario file).
        kind: the profile kind for layer "profile"/"scenario" (hardware, facility, workload, scenario).
        profile: the profile id.
        key: the profile key, scenario key or flag (`--pue`) that gave the value.
        citation: the source text the profile gives for the key (None when it gives none).
        rule: for layer "derived", the rule (e.g. "server power per device / board power").
        reads: for layer "derived", the inputs the rule reads.
        note: an addition to the text (an override, a token-basis conversion).
    """

    layer: str
    kind: str | None = None
    profile: str | None = None
    key: str | None = None
    citation: str | None = None
    rule: str | None = None
    reads: tuple[str, ...] = ()
    note: str | None = None

    @property
    def text(self) -> str:
        """The one-line source shown in JSON (`inputs.*.source`), tables and reports."""
        if self.layer == "flag":
            base = f"flag {self.key}"
        elif self.layer == "set":
            base = f"--set {self.key}"
        elif self.layer == "default":
            base = f"default: {self.citation}"
        elif self.layer == "derived":
            base = f"derived: {self.rule}" + (f" ({self.citation})" if self.citation else "")
        else:
            label = f"{self.kind} {self.profile}"
            base = f"{label}: {self.citation}" if self.citation else f"{label} (no source given)"
        return base + (f" ({self.note})" if self.note else "")

    def is_from(self, kind: str, profile: str | None = None, key: str | None = None) -> bool:
        """True when this input was read from the `kind` profile (and, if given, that id and key)."""
        return (self.layer in ("profile", "scenario") and self.kind == kind
                and (profile is None or self.profile == profile) and (key is None or self.key == key))

    @property
    def sourced(self) -> bool:
        """Whether the input carries a citation (or is a flag, a default or derived)."""
        return self.layer not in ("profile", "scenario") or self.citation is not None


@dataclass(frozen=True)
class Provenance:
    """One input: its value in SI, the SI unit, and its origin."""

    value: Any
    unit: str
    origin: Origin

    @property
    def source(self) -> str:
        """The origin as one line of text."""
        return self.origin.text


@dataclass(frozen=True)
class Lever:
    """A system-efficiency lever (docs/model.md §7).

    Factors multiply c_tok and e_tok on the lever's phase (<= 1 is an improvement).
    A lever that declares `precision` brings that precision's tensor throughput: unless a
    `c_tok_factor` is declared (None = not declared), its compute factor is the hardware's
    own dense-peak ratio.
    """

    id: str
    name: str
    phase: str = "both"
    c_tok_factor: float | None = 1.0
    e_tok_factor: float = 1.0
    latency_factor: float = 1.0
    quality_delta: dict[str, float] = field(default_factory=dict)
    confidence: str | None = None
    source: str = ""
    precision: str | None = None
    min_context_length: int | None = None
    weight_bytes_factor: float = 1.0       # on bytes per weight a decode step reads (quantization)
    kv_bytes_factor: float = 1.0           # on KV-cache bytes per token (eviction, MLA, compression)
    through_serving: bool = False          # its byte factors act through the serving model (e_tok factor dropped)


@dataclass(frozen=True)
class Inputs:
    """Resolved inputs of one operating point, in SI units (None = not known)."""

    # compute side
    devices: Any = None
    precision: str | None = None
    peak_flops: Any = None                 # FLOP/s per device at `precision`
    peak_table: dict[str, float] = field(default_factory=dict)  # the hardware's dense peaks by precision
    hardware: str | None = None            # hardware profile id (for messages)
    k_eff: Any = None                      # FLOP/s, given directly (taken as realized)
    throughput_per_device: Any = None      # token/s, measured
    throughput_basis: str | None = None    # token basis of a measured throughput, when it differs from token_basis
    kernel_efficiency: Any = None
    availability: Any = None
    # workload architecture and operating point
    c_tok: Any = None                      # FLOP/token, given directly
    active_params: Any = None
    total_params: Any = None
    bytes_per_param: Any = None            # B per weight at the operating precision
    n_layers: Any = None
    d_attn: Any = None
    context_length: Any = None
    batch_size: Any = None
    devices_per_replica: Any = None
    weight_bytes: Any = None               # B per replica (derived from total params x bytes per param)
    kv_bytes_per_token: Any = None
    d_model: Any = None                    # hidden size (tensor-parallel all-reduce width)
    n_experts: Any = None                  # routed experts per MoE layer
    experts_per_token: Any = None          # routed experts each token uses
    expert_params: Any = None              # params of ONE routed expert, summed over the MoE layers
    hbm_bandwidth: Any = None
    hbm_capacity: Any = None               # B per device
    idle_power: Any = None                 # W per device, board idle (accelerator boundary)
    interconnect_bandwidth: Any = None     # B/s per device (NVLink total, as published)
    # per-hardware serving-model parameters (hardware [serving], fitted; docs/model.md §4.3)
    serving_compute_efficiency: Any = None
    serving_memory_efficiency: Any = None
    serving_step_overhead: Any = None      # s per decode step
    serving_sequence_overhead: Any = None  # s per sequence and decode step
    serving_collective_latency: Any = None  # s per all-reduce
    serving_power_base: Any = None         # power model coefficients, shares of TDP
    serving_power_compute: Any = None
    serving_power_memory: Any = None
    serving_dvfs_exponent: Any = None      # α of a power cap's dynamic power (docs/model.md §4.7)
    power_cap: Any = None                  # W per device, board-power limit (accelerator boundary)
    tdp: Any = None
    server_power_per_device: Any = None
    prefill_share: Any = None
    # energy side
    e_tok: Any = None                      # J/token at `e_tok_boundary`
    e_tok_boundary: str = "it"
    e_tok_basis: str | None = None         # token basis of a measured e_tok, when it differs from token_basis
    device_power: Any = None               # W per device at `e_tok_boundary`
    it_overhead: Any = None                # IT power per unit of power at the boundary (derived when not given)
    node_overhead: Any = None              # the boundary ladder (core/ladder.py): node / accelerator power
    rack_overhead: Any = None              # rack / node power (switch trays, power shelves)
    fabric_overhead: Any = None            # IT / rack power (data-center network and storage)
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
    electricity_price_series: Any = None   # core.series.Series: hourly price (its mean fills electricity_price)
    carbon_intensity_series: Any = None    # core.series.Series: hourly carbon intensity
    horizon: Any = None                    # s
    # cost and impact (core/costs.py)
    device_price: Any = None               # USD per device (owned)
    device_hourly_price: Any = None        # USD/s per device (rented)
    ownership: str | None = None           # "owned" | "rented" (default: owned when a device price is known)
    lifetime: Any = None                   # s, service lifetime of the devices
    embodied_carbon: Any = None            # kgCO2e per device
    capex_per_it_power: Any = None         # USD/W of IT capacity
    facility_lifetime: Any = None          # s
    opex_per_it_power: Any = None          # USD/(W s), non-energy operating cost
    wue: Any = None                        # L/J of IT energy (on-site water)
    grid_water_intensity: Any = None       # L/J of facility energy (electricity generation)
    binding_tolerance: Any = DEFAULT_TOLERANCE
    # operating-point gate
    quality: dict[str, tuple[float, float | None]] = field(default_factory=dict)
    tpot_slo: Any = None
    tpot_measured: Any = None
    curves: tuple[Curve, ...] = ()         # the workload's measured operating curves (each carries its source)
    ttft_slo: Any = None                   # s
    input_tokens: Any = None               # prompt tokens per request (prefill)
    output_tokens: Any = None              # generated tokens per request (decode)
    prefill_elsewhere: bool = False        # a disaggregated decode fleet: prompts are prefilled by another fleet
    objective: str | None = None           # batch search: "tokens" (default) or "energy"
    operating_point: str | None = None     # "auto" (default), "measured" or "modeled"
    levers: tuple[Lever, ...] = ()
    allow_operating_point_shift: bool = False
    whole_token_levers: bool = False       # one-phase levers count on the whole token when the split is unknown
    # the operating point (core/operating.py): settled once, at the top of every evaluation
    settled: bool = False
    op: Any = None
    # bookkeeping
    scenario: str | None = None
    scenario_name: str | None = None
    modified_by: tuple[str, ...] = ()      # flags that change the named scenario (its name no longer says it all)
    resolution_notes: tuple[str, ...] = ()
    provenance: dict[str, Provenance] = field(default_factory=dict)

    def origin(self, name: str) -> Origin | None:
        """The origin of an input (None when it was not given)."""
        p = self.provenance.get(name)
        return None if p is None else p.origin

    @property
    def title(self) -> str | None:
        """The scenario's name, saying which flags changed it."""
        if self.scenario_name is None:
            return None
        if not self.modified_by:
            return self.scenario_name
        return f"{self.scenario_name}, modified by {', '.join(self.modified_by)}"

    @property
    def serving(self) -> dict[str, Any]:
        """The given serving-model parameters as `core.serving.Device` keyword arguments."""
        return {dev: getattr(self, f) for f, dev in SERVING_PARAMS.items() if getattr(self, f) is not None}

    @property
    def serving_source(self) -> str | None:
        """The source of the serving-model parameters (the first one given)."""
        return next((self.provenance[f].source for f in SERVING_PARAMS if f in self.provenance), None)

    @property
    def tolerance(self) -> Any:
        """The balanced band of the binding classifier."""
        return DEFAULT_TOLERANCE if self.binding_tolerance is None else self.binding_tolerance


# Inputs field -> keyword of core.serving.Device
SERVING_PARAMS = {
    "serving_compute_efficiency": "compute_efficiency", "serving_memory_efficiency": "memory_efficiency",
    "serving_step_overhead": "step_overhead_s", "serving_sequence_overhead": "sequence_overhead_s",
    "serving_collective_latency": "collective_latency_s", "serving_power_base": "power_base",
    "serving_power_compute": "power_compute", "serving_power_memory": "power_memory",
    "serving_dvfs_exponent": "dvfs_exponent",
}

FIELD_NAMES = frozenset(Inputs.__dataclass_fields__)  # type: ignore[attr-defined]


def with_values(inp: Inputs, **changes: Any) -> Inputs:
    """A copy of `inp` with some fields replaced (e.g. numpy arrays for a sweep)."""
    return replace(inp, **changes)
