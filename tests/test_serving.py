"""The serving model (core/serving.py; docs/model.md §4.3): memory, the decode step, MoE reads, the power model."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tokencalc.core import Inputs, estimate
from tokencalc.core.serving import (Architecture, Device, check_fits, comm_time, decode_step, device_power,
                                    expected_experts, memory, weights_read)
from tokencalc.errors import InputError
from tokencalc.units import parse

ROOT = Path(__file__).resolve().parent.parent

# Llama 3.1 8B (Llama 3 Herd Table 3; 8.03B params): 32 layers, d_model 4096, 8 KV heads x 128, BF16.
LLAMA8B = Architecture(active_params=8.03e9, total_params=8.03e9, bytes_per_param=2.0, n_layers=32, d_attn=4096,
                       kv_bytes_per_token=2 * 32 * 8 * 128 * 2, d_model=4096)
H100 = Device(peak_flops=989.4e12, hbm_bandwidth=3.35e12, hbm_capacity=80e9, tdp=700.0, idle_power=70.0,
              interconnect_bandwidth=900e9)


def fitted(hw: str) -> Device:
    """The bundled hardware profile's datasheet figures and fitted [serving] parameters."""
    p = tomllib.loads((ROOT / "profiles" / "hardware" / f"{hw}.toml").read_text())
    s = p["serving"]
    return Device(parse(p["peak_flops"]["bf16"], "compute_rate"), parse(p["hbm_bandwidth"], "bandwidth"),
                  parse(p["hbm_capacity"], "bytes"), parse(p["tdp"], "power"),
                  interconnect_bandwidth=parse(p["interconnect_bandwidth"], "bandwidth"),
                  compute_efficiency=s["compute_efficiency"], memory_efficiency=s["memory_efficiency"],
                  step_overhead_s=parse(s["step_overhead"], "time"),
                  sequence_overhead_s=parse(s["sequence_overhead"], "time"),
                  collective_latency_s=parse(s["collective_latency"], "time"), power_base=s["power_base"],
                  power_compute=s["power_compute"], power_memory=s["power_memory"])


def test_memory_by_hand_llama8b_h100_batch64_context4096():
    required, capacity, max_batch = memory(LLAMA8B, H100, 64, 4096, 1)
    weights, kv, reserve = 8.03e9 * 2, 64 * 4096 * 131072, 0.1 * 80e9   # 16.06 GB, 34.36 GB, 8 GB
    assert required == pytest.approx(weights + kv + reserve, rel=1e-12) == pytest.approx(58.42e9, rel=1e-3)
    assert capacity == 80e9
    assert max_batch == 104   # floor((80 - 8 - 16.06) GB / (4096 x 131,072 B)) = floor(104.2)
    assert memory(LLAMA8B, H100, 64, 4096, 2)[2] == 238   # two devices: floor((160 - 16 - 16.06) / 0.537)


def test_weights_that_do_not_fit_name_need_have_and_devices():
    big = replace(LLAMA8B, total_params=405e9, active_params=405e9)   # 810 GB of BF16 weights
    assert memory(big, H100, 1, 1024, 4)[2] == 0
    with pytest.raises(InputError) as e:
        check_fits(big, H100, devices_per_replica=4)
    msg = str(e.value)
    assert "810.0 GB" in msg and "320.0 GB" in msg and "12 devices per replica would do" in msg
    check_fits(big, H100, devices_per_replica=12)   # 12 x 80 GB x 0.9 = 864 GB holds 810 GB


def test_itl_non_decreasing_and_throughput_rising_until_compute_bound():
    dev = fitted("h100-sxm")
    batches = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    steps = [decode_step(LLAMA8B, dev, b, 1024) for b in batches]
    itl = [s.itl_s for s in steps]
    assert all(b >= a for a, b in zip(itl, itl[1:]))
    bounded = [s.throughput_per_device for s in steps if s.limiter != "compute"]
    assert len(bounded) >= 5 and all(b > a for a, b in zip(bounded, bounded[1:]))
    assert steps[0].limiter == "memory"


def test_moe_reads_fewer_bytes_than_dense_and_all_experts_at_large_batch():
    # Mixtral-8x7B-like: 8 experts, top-2; one expert = 1.41B over all 32 layers, 46.7B total
    moe = Architecture(active_params=12.9e9, total_params=46.7e9, bytes_per_param=2.0, n_layers=32, d_attn=4096,
                       kv_bytes_per_token=131072, d_model=4096, n_experts=8, experts_per_token=2,
                       expert_params=5.64e9)
    dense = replace(moe, n_experts=None, experts_per_token=None, expert_params=None)
    assert weights_read(moe, 1) == pytest.approx((46.7e9 - 8 * 5.64e9 + 2 * 5.64e9) * 2, rel=1e-12)
    assert weights_read(moe, 1) < 0.4 * weights_read(dense, 1)
    assert expected_experts(8, 2, 2) == pytest.approx(8 * (1 - 0.75 ** 2))
    assert weights_read(moe, 4096) == pytest.approx(weights_read(dense, 4096), rel=1e-9)
    reads = [weights_read(moe, b) for b in (1, 2, 4, 8, 16)]
    assert all(b > a for a, b in zip(reads, reads[1:]))
    t_moe, t_dense = decode_step(moe, H100, 1, 1024, 2), decode_step(dense, H100, 1, 1024, 2)
    assert t_moe.t_memory < t_dense.t_memory


def test_kv_bytes_lever_raises_memory_bound_throughput():
    dev = fitted("h100-sxm")
    base = decode_step(LLAMA8B, dev, 64, 8192)
    half = decode_step(LLAMA8B.scaled(kv_bytes=0.5), dev, 64, 8192)
    assert base.limiter == "memory"
    assert half.throughput_per_device > 1.2 * base.throughput_per_device
    assert half.e_tok_accelerator < base.e_tok_accelerator
    assert LLAMA8B.scaled(weight_bytes=0.5).weight_bytes == pytest.approx(8.03e9)
    assert LLAMA8B.scaled(flops=0.5).c_tok(1024) == pytest.approx(0.5 * LLAMA8B.c_tok(1024))


def test_device_power_between_idle_and_tdp():
    for u_c, u_m in [(0, 0), (1, 1), (0.2, 0.9), (1, 0)]:
        p = device_power(H100, u_c, u_m)
        assert 70.0 <= p <= 700.0
    low = replace(H100, power_base=-1.0)
    assert device_power(low, 0.0, 0.0) == 70.0
    high = replace(H100, power_base=2.0)
    assert device_power(high, 1.0, 1.0) == 700.0
    s = decode_step(LLAMA8B, H100, np.array([1.0, 16.0, 256.0]), 1024)
    assert np.all((s.device_power >= 70.0) & (s.device_power <= 700.0))
    assert np.allclose(s.e_tok_accelerator, s.device_power / s.throughput_per_device)


def test_interconnect_zero_on_one_device_positive_on_eight():
    assert comm_time(LLAMA8B, H100, 64, 1) == 0.0
    t8 = comm_time(LLAMA8B, H100, 64, 8)
    payload = 64 * 4096 * 2 * 2 * 7 / 8 / 450e9   # one direction of 900 GB/s
    assert t8 == pytest.approx(2 * 32 * (H100.collective_latency_s + payload), rel=1e-12)
    assert decode_step(LLAMA8B, H100, 64, 1024, 8).t_comm > 0


def test_fitted_parameters_reproduce_an_ml_energy_row():
    # ML.ENERGY Leaderboard v3.0 (data 2026-02-16), lm-arena-chat, Llama 3.1 8B Instruct, 1 x H100, max_num_seqs
    # 64: mean batch 63.9, mean output 396 tokens, 5,147 token/s, 0.119 J/token (GPU boundary).
    # Chat prompt assumption: 250 tokens; context = 250 + 396/2. In-sample H100 chat error: median ~11 %
    # (throughput), ~8 % (J/token); README.
    step = decode_step(LLAMA8B, fitted("h100-sxm"), 63.9, 250 + 396 / 2, input_tokens=250,
                       prefill_per_output=250 / 396)
    assert step.throughput_per_device == pytest.approx(5147, rel=0.15)
    assert step.e_tok_accelerator == pytest.approx(0.119, rel=0.15)
    assert step.ttft_s is not None and 0 < step.ttft_s < 0.1


def test_engine_models_k_eff_and_e_tok_from_the_serving_model():
    inp = Inputs(devices=8, peak_flops=989.4e12, hbm_bandwidth=3.35e12, hbm_capacity=80e9, tdp=700.0,
                 server_power_per_device=1275.0, active_params=8.03e9, total_params=8.03e9, bytes_per_param=2.0,
                 n_layers=32, d_attn=4096, kv_bytes_per_token=131072, context_length=1024, batch_size=64,
                 p_it=1e5)
    r = estimate(inp).values
    assert r["k_eff_convention"] == "modeled" and r["e_tok_origin"] == "modeled"
    c = r["c_tok_base_flop_per_token"]
    step = decode_step(LLAMA8B, Device(989.4e12, 3.35e12, 80e9, 700.0), 64, 1024, c_tok=c)
    assert r["k_eff_flop_per_s"] == pytest.approx(8 * step.throughput_per_device * c, rel=1e-12)
    # accelerator-boundary power model, converted to IT by the server / board ratio 1275 / 700
    assert r["e_tok_at_boundary_j_per_token"] == pytest.approx(step.e_tok_accelerator, rel=1e-12)
    assert r["e_tok_j_per_token"] == pytest.approx(step.e_tok_accelerator * 1275 / 700, rel=1e-12)
    measured = estimate(replace(inp, e_tok=0.5, e_tok_boundary="it")).values
    assert measured["e_tok_origin"] == "given" and measured["e_tok_j_per_token"] == 0.5   # measured wins


def test_more_experts_per_token_than_experts_is_an_input_error(capsys):
    # found by make fuzz: (1 - k/E)^B overflowed for k > E (an OverflowError, exit 1)
    from tests.cli_runs import run

    code, _, err = run(capsys, "estimate", "--workload", "qwen3-30b-a3b", "--hardware", "h100-sxm",
                       "--set", "workload.model.experts_per_token=200")
    assert code == 2 and "exceeds n_experts" in err
