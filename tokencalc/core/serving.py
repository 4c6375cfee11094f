"""The serving model: one decode step of a model replica, its memory and its device power.

Pure functions on SI floats (or, elementwise, numpy arrays); docs/model.md §4.3. A replica of
`d` devices serves a batch of `B` sequences at context `n`. One decode step produces `B` tokens:

    t_compute  = B · c_tok / (d · peak · η_c)                       c_tok: core.derive.kaplan_c_tok
    t_memory   = (W_read(B) + B · kv · n) / (d · BW · η_m)          W_read: weights actually read
    t_comm     = 2 · L · (α + B · d_model · a · 2(d − 1)/d / (BW_link/2))    0 for d = 1
    t_overhead = t_0 + t_B · B                                      fitted per hardware
    ITL        = max(t_compute, t_memory) + t_comm + t_overhead

The roofline terms overlap (the slower hides the faster); the all-reduces and the per-step and
per-sequence overheads (scheduling, kernel launches, sampling, detokenising) do not. In steady serving each output
token also carries its share `ρ` = input/output tokens of prefill, done compute-bound in the same
steps: `t_prefill = B · ρ · c_prefill / (d · peak · η_c)`, and the replica produces
`B / (ITL + t_prefill)` tokens per second.

Device power (accelerator boundary, per device) is driven by activity:

    u_c = (t_compute + t_prefill) / t_total       u_m = t_memory / t_total       t_total = ITL + t_prefill
    P   = TDP · clip(p_0 + p_c · u_c + p_m · u_m,  P_idle / TDP,  1)

so P lies between the idle power (0 when unknown) and TDP. `e_tok` at the accelerator boundary is
`P · d / (replica tokens/s)`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from ..errors import InputError
from .arith import is_array, known, maximum, minimum, where
from .derive import kaplan_c_tok

# Decode activations travel between devices in BF16 (2 bytes per value) in the serving stacks modeled.
ACTIVATION_BYTES = 2.0
# Collectives per layer in tensor-parallel decode: one after attention, one after the MLP (Megatron-LM).
COLLECTIVES_PER_LAYER = 2.0
# Runtime reserve for activations, CUDA graphs and fragmentation: vLLM's default gpu_memory_utilization
# is 0.9, i.e. 10 % of HBM is not given to weights and KV cache (vLLM engine arguments, 2025).
DEFAULT_RESERVE = 0.1
LIMITERS = ("compute", "memory", "interconnect", "overhead")


@dataclass(frozen=True)
class Architecture:
    """What a decode step needs to know about the model.

    Attributes:
        active_params: parameters active per token.
        total_params: all parameters (what the replica must hold).
        bytes_per_param: bytes per weight at the serving precision.
        n_layers, d_attn: layers and attention width (Kaplan c_tok).
        kv_bytes_per_token: KV-cache bytes per token of context, all layers.
        d_model: hidden size (the width of the tensor-parallel all-reduce).
        n_experts, experts_per_token: routed experts per MoE layer and how many each token uses.
        expert_params: parameters of ONE routed expert, summed over all MoE layers.
        flops_factor: multiplier on c_tok (a lever acting on FLOPs).
    """

    active_params: Any
    total_params: Any
    bytes_per_param: Any
    n_layers: Any
    d_attn: Any
    kv_bytes_per_token: Any
    d_model: Any = None
    n_experts: Any = None
    experts_per_token: Any = None
    expert_params: Any = None
    flops_factor: Any = 1.0

    @property
    def is_moe(self) -> bool:
        """True when routed experts are described (n_experts, experts_per_token, expert_params)."""
        return known(self.n_experts, self.experts_per_token, self.expert_params)

    @property
    def shared_params(self) -> Any:
        """Parameters every token reads: total − n_experts · expert_params (all of them for dense)."""
        return self.total_params - self.n_experts * self.expert_params if self.is_moe else self.total_params

    @property
    def weight_bytes(self) -> Any:
        """Bytes the replica holds: total params × bytes per param."""
        return self.total_params * self.bytes_per_param

    def scaled(self, weight_bytes: Any = 1.0, kv_bytes: Any = 1.0, flops: Any = 1.0) -> "Architecture":
        """A copy with bytes per weight, KV bytes per token and FLOPs per token multiplied (levers)."""
        return replace(self, bytes_per_param=self.bytes_per_param * weight_bytes,
                       kv_bytes_per_token=self.kv_bytes_per_token * kv_bytes, flops_factor=self.flops_factor * flops)

    def c_tok(self, context_length: Any) -> Any:
        """FLOPs per token at a context length (Kaplan form × flops_factor)."""
        return kaplan_c_tok(self.active_params, self.n_layers, context_length, self.d_attn) * self.flops_factor


@dataclass(frozen=True)
class Device:
    """One accelerator and its per-hardware serving parameters.

    Datasheet figures: peak_flops (dense, at the serving precision), hbm_bandwidth, hbm_capacity, tdp,
    idle_power (None: not published, the power floor is then 0), interconnect_bandwidth (per device,
    total as vendors state it; None: only the collective latency counts).

    Fitted per hardware (profiles/hardware/*.toml `[serving]`, bench/fit_mlenergy.py on ML.ENERGY
    Leaderboard v3.0; docs/model.md §4.3). The defaults are round, unfitted guesses for hardware without
    its own fit, of the order of the two fits (H100 SXM / B200: η_c 0.58 / 1.0, η_m 0.89 / 0.60,
    t_0 2.4 / 2.5 ms, t_B 59 / 61 µs, α 64 / 63 µs, p_0 0.46 / 0.60, p_c 1.02 / 1.02, p_m 0.26 / 0.09),
    kept conservative (lower efficiencies, lower overheads); their error is not measured:
        compute_efficiency η_c: share of peak the serving GEMMs reach;
        memory_efficiency η_m: share of HBM bandwidth the weight and KV streams reach;
        step_overhead_s t_0, sequence_overhead_s t_B: time per step, and per sequence and step;
        collective_latency_s α: latency of one all-reduce;
        power_base p_0, power_compute p_c, power_memory p_m: the power model's coefficients (of TDP);
        dvfs_exponent α: how the compute units' busy power falls with the clock under a power cap
        (core/powercap.py; None: 3, from dynamic power C·V²·f with V ∝ f).
    """

    peak_flops: Any
    hbm_bandwidth: Any
    hbm_capacity: Any
    tdp: Any
    idle_power: Any = None
    interconnect_bandwidth: Any = None
    compute_efficiency: Any = 0.5
    memory_efficiency: Any = 0.75
    step_overhead_s: Any = 2e-3
    sequence_overhead_s: Any = 2e-5
    collective_latency_s: Any = 1e-5
    power_base: Any = 0.3
    power_compute: Any = 0.5
    power_memory: Any = 0.3
    dvfs_exponent: Any = None      # α of a power cap's dynamic power φ^α (core/powercap.py; None: 3)


@dataclass(frozen=True)
class Step:
    """One decode step of a replica and what follows from it (SI units; None where not computed)."""

    t_compute: Any
    t_memory: Any
    t_comm: Any
    t_overhead: Any
    t_prefill: Any
    itl_s: Any
    ttft_s: Any
    throughput_per_device: Any
    replica_throughput: Any
    device_power: Any
    e_tok_accelerator: Any
    memory_required: Any
    memory_capacity: Any
    max_batch: Any
    weights_read: Any
    limiter: str | None
    batch: Any
    context_length: Any
    devices_per_replica: Any
    clock_ratio: Any = 1.0         # core clock share under a power cap (core/powercap.py)
    uncapped: Any = None           # the step before a power cap, when one was applied

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (for JSON)."""
        return dict(self.__dict__)


def expected_experts(n_experts: Any, experts_per_token: Any, batch: Any) -> Any:
    """Distinct experts per MoE layer that `batch` tokens activate in expectation, E·(1 − (1 − k/E)^B).

    Uniform, independent routing: each token picks k of E experts, so an expert is missed by one token
    with probability 1 − k/E and by all B tokens with (1 − k/E)^B.
    """
    return n_experts * (1.0 - (1.0 - experts_per_token / n_experts) ** batch)


def weights_read(arch: Architecture, batch: Any) -> Any:
    """Bytes of weights one decode step of `batch` tokens reads.

    Dense: all weights. MoE: the shared weights (attention, embeddings, dense layers, shared experts)
    plus the routed experts the batch activates, :func:`expected_experts` of them.
    """
    if not arch.is_moe:
        return arch.weight_bytes
    used = expected_experts(arch.n_experts, arch.experts_per_token, batch)
    return (arch.shared_params + used * arch.expert_params) * arch.bytes_per_param


def memory(arch: Architecture, device: Device, batch: Any, context_length: Any, devices_per_replica: Any = 1,
           reserve_fraction: Any = DEFAULT_RESERVE) -> tuple[Any, Any, Any]:
    """HBM a replica needs and has, and the largest batch that fits.

    required = weights (total params × bytes/param) + KV (B · n · kv) + reserve · capacity
    capacity = HBM per device × devices per replica

    Returns:
        (required bytes, capacity bytes, max batch at this context: 0 when the weights do not fit);
        without an HBM capacity, (weights + KV, None, None).
    """
    if device.hbm_capacity is None:
        return arch.weight_bytes + batch * context_length * arch.kv_bytes_per_token, None, None
    capacity = device.hbm_capacity * devices_per_replica
    reserve = reserve_fraction * capacity
    required = arch.weight_bytes + batch * context_length * arch.kv_bytes_per_token + reserve
    free = capacity - reserve - arch.weight_bytes
    per_sequence = context_length * arch.kv_bytes_per_token
    if is_array(free) or is_array(per_sequence):
        import numpy as np

        with np.errstate(divide="ignore", invalid="ignore"):
            room = np.where(per_sequence > 0, free / np.where(per_sequence > 0, per_sequence, 1.0),
                            np.where(free >= 0, np.inf, 0.0))
        return required, capacity, np.floor(np.maximum(room, 0.0))
    if per_sequence <= 0:
        return required, capacity, (math.inf if free >= 0 else 0.0)
    return required, capacity, (float(math.floor(free / per_sequence)) if free > 0 else 0.0)


def devices_needed(arch: Architecture, device: Device, batch: Any = 1, context_length: Any = 0,
                   reserve_fraction: Any = DEFAULT_RESERVE) -> int:
    """The fewest devices whose HBM holds the weights and `batch` sequences of KV at `context_length`."""
    need = arch.weight_bytes + batch * context_length * arch.kv_bytes_per_token
    return max(1, math.ceil(need / (device.hbm_capacity * (1.0 - reserve_fraction))))


def check_fits(arch: Architecture, device: Device, devices_per_replica: Any = 1, batch: Any = 1,
               context_length: Any = 0, reserve_fraction: Any = DEFAULT_RESERVE) -> None:
    """Raise InputError when the replica cannot hold the weights and `batch` sequences of KV."""
    required, capacity, _ = memory(arch, device, batch, context_length, devices_per_replica, reserve_fraction)
    if capacity is None or required <= capacity:
        return
    n = devices_needed(arch, device, batch, context_length, reserve_fraction)
    raise InputError(
        f"the model does not fit: it needs {required / 1e9:,.1f} GB (weights {arch.weight_bytes / 1e9:,.1f} GB, "
        f"KV {batch * context_length * arch.kv_bytes_per_token / 1e9:,.1f} GB for batch {batch:g} at context "
        f"{context_length:g}, reserve {reserve_fraction * capacity / 1e9:,.1f} GB); the replica has "
        f"{capacity / 1e9:,.1f} GB ({devices_per_replica:g} x {device.hbm_capacity / 1e9:,.1f} GB); "
        f"{n} devices per replica would do")


def comm_time(arch: Architecture, device: Device, batch: Any, devices_per_replica: Any) -> Any:
    """Tensor-parallel all-reduces of one decode step: 2 per layer of B·d_model activations, ring factor 2(d−1)/d.

    Each all-reduce costs the collective latency α plus its payload over one direction of the link (vendors
    publish NVLink bandwidth as the bidirectional total; a ring sends one way: half of it). Zero for one
    device; without a hidden size or an interconnect bandwidth only the latency counts.
    """
    d = devices_per_replica
    if (not is_array(d) and d <= 1) or arch.n_layers is None:
        return 0.0
    per_collective = device.collective_latency_s
    if known(arch.d_model, device.interconnect_bandwidth):
        payload = batch * arch.d_model * ACTIVATION_BYTES * 2.0 * (d - 1) / d
        per_collective = per_collective + payload / (device.interconnect_bandwidth / 2.0)
    return where(d > 1, COLLECTIVES_PER_LAYER * arch.n_layers * per_collective, 0.0)


def device_power(device: Device, u_compute: Any, u_memory: Any) -> Any:
    """Power of one device at the accelerator boundary: TDP · clip(p_0 + p_c·u_c + p_m·u_m, idle/TDP, 1)."""
    share = device.power_base + device.power_compute * u_compute + device.power_memory * u_memory
    floor = device.idle_power / device.tdp if device.idle_power is not None else 0.0
    return device.tdp * minimum(maximum(share, floor), 1.0)


def _limiter(t_compute: Any, t_memory: Any, t_comm: Any, t_overhead: Any) -> str | None:
    terms = (t_compute, t_memory, t_comm, t_overhead)
    if any(is_array(t) for t in terms):
        return None
    return LIMITERS[max(range(4), key=lambda i: terms[i])]


def decode_step(arch: Architecture, device: Device, batch: Any, context_length: Any, devices_per_replica: Any = 1,
                input_tokens: Any = None, prefill_per_output: Any = None, c_tok: Any = None) -> Step:
    """One decode step of a replica (the module docstring gives the equations).

    Args:
        arch, device: the model and the accelerator.
        batch: concurrent sequences B; context_length: tokens of context n at the step.
        devices_per_replica: devices d one replica spans.
        input_tokens: prompt length, for the time to first token (None: not computed).
        prefill_per_output: input tokens per output token ρ, whose prefill the steps also carry
            (None: decode only, throughput = B / ITL).
        c_tok: FLOPs per token given directly (default: the Kaplan form at `context_length`).
    """
    d, peak = devices_per_replica, device.peak_flops * device.compute_efficiency
    c = arch.c_tok(context_length) if c_tok is None else c_tok
    w_read = weights_read(arch, batch)
    t_compute = batch * c / (d * peak)
    t_memory = (w_read + batch * arch.kv_bytes_per_token * context_length) / (d * device.hbm_bandwidth
                                                                              * device.memory_efficiency)
    t_comm = comm_time(arch, device, batch, d)
    t_overhead = device.step_overhead_s + device.sequence_overhead_s * batch
    itl = maximum(t_compute, t_memory) + t_comm + t_overhead
    t_prefill = 0.0
    if prefill_per_output is not None:
        c_pre = c if input_tokens is None else arch.c_tok(input_tokens / 2.0)
        t_prefill = batch * prefill_per_output * c_pre / (d * peak)
    t_total = itl + t_prefill
    replica = batch / t_total
    power = None if device.tdp is None else device_power(device, (t_compute + t_prefill) / t_total,
                                                         t_memory / t_total)
    required, capacity, max_batch = memory(arch, device, batch, context_length, d)
    return Step(t_compute=t_compute, t_memory=t_memory, t_comm=t_comm, t_overhead=t_overhead, t_prefill=t_prefill,
                itl_s=itl, ttft_s=None if input_tokens is None else ttft(arch, device, input_tokens, d),
                throughput_per_device=replica / d, replica_throughput=replica, device_power=power,
                e_tok_accelerator=None if power is None else power * d / replica, memory_required=required, memory_capacity=capacity,
                max_batch=max_batch, weights_read=w_read, limiter=_limiter(t_compute, t_memory, t_comm, t_overhead),
                batch=batch, context_length=context_length, devices_per_replica=d)


def ttft(arch: Architecture, device: Device, input_tokens: Any, devices_per_replica: Any = 1) -> Any:
    """Time to first token of one request alone: its prefill (roofline) plus one step's fixed overheads."""
    d = devices_per_replica
    flops = input_tokens * arch.c_tok(input_tokens / 2.0)
    t_c = flops / (d * device.peak_flops * device.compute_efficiency)
    w = weights_read(arch, input_tokens)
    t_m = (w + input_tokens * arch.kv_bytes_per_token) / (d * device.hbm_bandwidth * device.memory_efficiency)
    return (maximum(t_c, t_m) + comm_time(arch, device, input_tokens, d) + device.step_overhead_s
            + device.sequence_overhead_s)
