"""Power caps (docs/model.md §4.7): the DVFS model by hand, through the engine, solve, the CLI, and Samsi et al."""

from __future__ import annotations

import numpy as np
import pytest

from cli_runs import run, run_json
from tokencalc.core.powercap import capped, clock_ratio, floor_power
from tokencalc.core.serving import Architecture, Device, decode_step
from tokencalc.errors import InputError

ARCH = Architecture(65.2e9, 65.2e9, 2.0, 80, 8192, 2.62144e6, d_model=8192)   # LLaMA-65B, FP16
V100 = Device(125e12, 900e9, 32e9, 300.0)                                      # datasheet figures, default fits


def _step(batch=64.0, context=512.0, d=8):
    return decode_step(ARCH, V100, batch, context, d)


def test_a_cap_above_the_uncapped_power_changes_nothing():
    s = _step()
    c = capped(s, V100, s.device_power + 1.0)
    assert c.clock_ratio == 1.0
    assert c.itl_s == s.itl_s and c.device_power == s.device_power
    assert c.throughput_per_device == s.throughput_per_device


def test_a_binding_cap_lowers_power_to_the_cap_and_lowers_the_rate():
    s = _step(batch=64.0, context=128.0)          # compute-heavier: the cap slows it
    c = capped(s, V100, 150.0)
    assert c.device_power == pytest.approx(150.0, rel=1e-9)
    assert c.device_power < s.device_power and c.throughput_per_device < s.throughput_per_device
    assert 0.05 < c.clock_ratio < 1.0
    # by hand: compute time stretches by 1/φ, memory, links and overheads do not
    phi = c.clock_ratio
    assert c.t_compute == pytest.approx(s.t_compute / phi) and c.t_memory == s.t_memory
    assert c.itl_s == pytest.approx(max(s.t_compute / phi, s.t_memory) + s.t_comm + s.t_overhead)
    u_c, u_m = c.t_compute / c.itl_s, s.t_memory / c.itl_s
    assert 300.0 * (0.3 + 0.5 * phi ** 3 * u_c + 0.3 * u_m) == pytest.approx(150.0, rel=1e-9)
    assert c.e_tok_accelerator == pytest.approx(c.device_power * 8 / c.replica_throughput)


def test_a_memory_bound_step_barely_slows():
    s = _step(batch=8.0, context=2048.0)          # t_compute well under t_memory
    assert s.t_compute < 0.2 * s.t_memory
    compute_part = 300.0 * 0.5 * s.t_compute / s.itl_s   # p_c x u_c x TDP
    c = capped(s, V100, s.device_power - 0.5 * compute_part)
    assert c.device_power == pytest.approx(s.device_power - 0.5 * compute_part, rel=1e-9)
    assert c.clock_ratio == pytest.approx(0.5 ** 0.5, rel=1e-9)   # busy power x φ^3, busy time / φ: φ^2 = 1/2
    assert c.itl_s == pytest.approx(s.itl_s, rel=1e-12)           # the stretched compute still hides under memory


def test_arrays_and_scalars_agree():
    s = _step(batch=np.array([8.0, 32.0, 64.0, 64.0]), context=np.array([2048.0, 1024.0, 512.0, 128.0]))
    caps = np.array([160.0, 200.0, 175.0, 400.0])
    c = capped(s, V100, caps)
    for i, (b, n) in enumerate(((8.0, 2048.0), (32.0, 1024.0), (64.0, 512.0), (64.0, 128.0))):
        one = capped(_step(b, n), V100, float(caps[i]))
        assert c.device_power[i] == pytest.approx(one.device_power, rel=1e-12)
        assert c.itl_s[i] == pytest.approx(one.itl_s, rel=1e-12)
        assert np.asarray(clock_ratio(s, V100, caps))[i] == pytest.approx(one.clock_ratio, rel=1e-12)


def test_a_cap_below_the_power_floor_is_an_input_error():
    s = _step()
    assert floor_power(V100) == pytest.approx(90.0)   # p_0 x TDP, no idle power published
    with pytest.raises(InputError, match="no clock brings the device that low"):
        capped(s, V100, 80.0)
    idle = Device(125e12, 900e9, 32e9, 300.0, idle_power=120.0)
    with pytest.raises(InputError, match="idle power"):
        capped(decode_step(ARCH, idle, 64.0, 512.0, 8), idle, 110.0)


# Samsi et al. 2023 (arXiv 2310.03003): V100 GPUs capped from the cluster's 250 W to 175 W for LLaMA-65B
# saved ~23 % of the energy (read as 22-24 %) for ~6-7 % more inference time.
SAMSI = ("samsi-65b-v100-power-cap",)


def test_samsi_power_cap_is_reproduced_within_the_reported_spread(capsys):
    base = run_json(capsys, "estimate", *SAMSI, "--power-cap", "250 W")
    cap = run_json(capsys, "estimate", *SAMSI)
    assert cap["power_cap"]["binds"] is True and base["power_cap"]["binds"] is False
    e0 = base["operating_point"]["e_tok_accelerator_j_per_token"]
    e1 = cap["operating_point"]["e_tok_accelerator_j_per_token"]
    t0, t1 = base["operating_point"]["itl_s"], cap["operating_point"]["itl_s"]
    assert 0.22 <= 1.0 - e1 / e0 <= 0.24
    assert 0.06 <= t1 / t0 - 1.0 <= 0.07
    assert cap["operating_point"]["device_power_w"] == pytest.approx(175.0, rel=1e-9)


def test_estimate_reports_the_cap_on_both_ceilings(capsys):
    r = run_json(capsys, "estimate", *SAMSI)
    pc = r["power_cap"]
    assert pc["cap_w"] == 175.0 and pc["device_power_capped_w"] < pc["device_power_uncapped_w"]
    assert pc["compute_ceiling_capped_tokens_per_s"] == pytest.approx(r["compute_ceiling_tokens_per_s"])
    assert pc["compute_ceiling_uncapped_tokens_per_s"] > pc["compute_ceiling_capped_tokens_per_s"]
    assert pc["power_ceiling_uncapped_tokens_per_s"] < pc["power_ceiling_capped_tokens_per_s"]
    # the uncapped ceilings equal a run without a binding cap
    free = run_json(capsys, "estimate", *SAMSI, "--power-cap", "1 kW")
    assert pc["compute_ceiling_uncapped_tokens_per_s"] == pytest.approx(free["compute_ceiling_tokens_per_s"], rel=1e-9)
    assert pc["power_ceiling_uncapped_tokens_per_s"] == pytest.approx(free["power_ceiling_tokens_per_s"], rel=1e-9)
    assert any(n.startswith("Power cap 175 W per device binds") for n in r["notes"])


def test_solve_finds_the_cap_with_the_most_tokens(capsys):
    r = run_json(capsys, "solve", *SAMSI, "--for", "power_cap", "--p-it", "1.5 kW")
    best, rate = r["value"], r["check"]["token_rate_tokens_per_s"]
    assert rate > r["check"]["token_rate_uncapped_tokens_per_s"]   # a power-bound site gains from the cap
    for x in np.linspace(105.0, 240.0, 30):   # the floor: ~101 W at 5 % of the clock
        other = run_json(capsys, "estimate", *SAMSI, "--p-it", "1.5 kW", "--power-cap", f"{x} W")
        assert other["token_rate_tokens_per_s"] <= rate * (1 + 1e-9), x
    near = run_json(capsys, "estimate", *SAMSI, "--p-it", "1.5 kW", "--power-cap", f"{best} W")
    assert near["token_rate_tokens_per_s"] == pytest.approx(rate, rel=1e-9)


def test_solve_on_a_compute_bound_site_gives_the_lowest_cap_that_keeps_the_rate(capsys):
    r = run_json(capsys, "solve", *SAMSI, "--for", "power_cap")
    assert r["check"]["token_rate_tokens_per_s"] == pytest.approx(r["check"]["token_rate_uncapped_tokens_per_s"],
                                                                   rel=1e-8)
    lower = run_json(capsys, "estimate", *SAMSI, "--power-cap", f"{r['value'] * 0.98} W")
    assert lower["token_rate_tokens_per_s"] < r["check"]["token_rate_tokens_per_s"] * (1 - 1e-6)


def test_cli_rejects_a_cap_with_a_wrong_unit(capsys):
    code, _, err = run(capsys, "estimate", *SAMSI, "--power-cap", "5 s")
    assert code == 2 and "--power-cap" in err


def test_cli_rejects_a_cap_below_idle_power(capsys):
    code, _, err = run(capsys, "estimate", *SAMSI, "--power-cap", "50 W")
    assert code == 2 and "no clock brings the device that low" in err
    code, _, err = run(capsys, "estimate", *SAMSI, "--idle-power", "60 W", "--power-cap", "55 W")
    assert code == 2 and "at or below" in err


def test_a_cap_on_figures_given_directly_says_it_does_not_act(capsys):
    r = run_json(capsys, "estimate", "--hardware", "v100-sxm2-32gb", "--workload", "dense-65b-fp16", "--devices", "8",
                 "--throughput-per-device", "40 token/s", "--power-cap", "175 W")
    assert r["power_cap"] is None
    assert any("does not act on this operating point" in n for n in r["notes"])


def test_a_sweep_over_the_cap_matches_single_estimates(capsys):
    doc = run_json(capsys, "sweep", *SAMSI, "--vary", "power_cap=150 W,175 W,250 W")
    assert len(doc["rows"]) == 3
    for row, cap in zip(doc["rows"], ("150 W", "175 W", "250 W")):
        one = run_json(capsys, "estimate", *SAMSI, "--power-cap", cap)
        assert row["token_rate_tokens_per_s"] == pytest.approx(one["token_rate_tokens_per_s"], rel=1e-9)
        assert row["power_ceiling_tokens_per_s"] == pytest.approx(one["power_ceiling_tokens_per_s"], rel=1e-9)


def test_a_cap_on_a_measured_curve_point_uses_the_models_relative_slowdown(capsys):
    args = ("estimate", "--workload", "llama-3.1-8b", "--hardware", "h100-sxm", "--devices", "8", "--batch", "64")
    free = run_json(capsys, *args)
    r = run_json(capsys, *args, "--power-cap", "500 W")
    pc = r["power_cap"]
    assert r["operating_point"]["source"] == free["operating_point"]["source"] != "modeled"
    assert pc["basis"] == "measured × modeled ratio" and pc["binds"] is True
    assert r["operating_point"]["device_power_w"] == pytest.approx(500.0)
    assert pc["device_power_uncapped_w"] == pytest.approx(free["operating_point"]["device_power_w"])
    assert r["operating_point"]["throughput_per_device_tokens_per_s"] < free["operating_point"][
        "throughput_per_device_tokens_per_s"]
    code, _, err = run(capsys, *args, "--power-cap", "400 W")
    assert code == 2 and "cannot slow the step that far" in err


def test_a_cap_in_a_sweep_and_a_solve_scan_is_evaluated_per_point(capsys):
    # found by make fuzz: the cap's note read an array's truth value when a sweep or solve evaluated arrays
    from tests.cli_runs import run

    code, out, err = run(capsys, "sweep", "samsi-65b-v100-power-cap", "--vary", "kernel_efficiency=0.003,0.74",
                         "--format", "csv")
    assert code == 0, err
    assert len(out.strip().splitlines()) == 3
    code, _, err = run(capsys, "solve", "samsi-65b-v100-power-cap", "--for", "peak_flops", "--format", "json")
    assert code == 0, err
