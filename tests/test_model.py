"""The Token Production Function: identities, limits and the lever gate."""


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokencalc.core import Inputs, Lever, classify, compose, estimate
from tokencalc.core.serving import Architecture, Device, decode_step

pos = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False, allow_infinity=False)


def point(k=1.3e16, c=1.3e11, e=3.0, p_it=8e5, u=0.7, **kw) -> Inputs:
    return Inputs(k_eff=k, c_tok=c, e_tok=e, p_it=p_it, utilization=u, **kw)


@settings(max_examples=200, deadline=None)
@given(k=pos, c=pos, e=pos, p=pos)
def test_gamma_ratio_equals_ceiling_ratio(k, c, e, p):
    r = estimate(point(k * 1e15, c * 1e10, e, p * 1e5)).values
    assert r["gamma_j_per_flop"] / r["gamma_star_j_per_flop"] == pytest.approx(
        r["compute_ceiling_tokens_per_s"] / r["power_ceiling_tokens_per_s"], rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(k=pos, c=pos, e=pos, p=pos)
def test_binding_follows_gamma(k, c, e, p):
    r = estimate(point(k * 1e15, c * 1e10, e, p * 1e5)).values
    ratio = r["gamma_j_per_flop"] / r["gamma_star_j_per_flop"]
    if abs(ratio - 1) > 0.02:
        assert r["binding"] == ("power" if ratio > 1 else "compute")


@settings(max_examples=200, deadline=None)
@given(k=pos, c=pos, e=pos, p=pos)
def test_doubling_facility_power_doubles_rate_iff_power_bound(k, c, e, p):
    base = Inputs(k_eff=k * 1e15, c_tok=c * 1e10, e_tok=e, p_facility=p * 1e5, pue=1.3, utilization=0.8)
    r1 = estimate(base).values
    r2 = estimate(Inputs(**{**base.__dict__, "p_facility": 2 * p * 1e5})).values
    ratio = r2["token_rate_tokens_per_s"] / r1["token_rate_tokens_per_s"]
    qk, qp = r1["compute_ceiling_tokens_per_s"], r1["power_ceiling_tokens_per_s"]
    if qp * 2 <= qk:  # power-bound even after doubling
        assert ratio == pytest.approx(2.0, rel=1e-12)
    elif qp >= qk:  # compute-bound already
        assert ratio == pytest.approx(1.0, rel=1e-12)
    else:
        assert 1.0 < ratio < 2.0


@settings(max_examples=100, deadline=None)
@given(k=pos, c=pos, e=pos, p=pos, f=st.floats(min_value=0.01, max_value=1.0))
def test_equal_factors_on_c_and_e_scale_rate_by_inverse(k, c, e, p, f):
    lever = Lever(id="x", name="x", c_tok_factor=f, e_tok_factor=f)
    a = estimate(point(k * 1e15, c * 1e10, e, p * 1e5)).values
    b = estimate(point(k * 1e15, c * 1e10, e, p * 1e5, levers=(lever,))).values
    assert b["token_rate_tokens_per_s"] == pytest.approx(a["token_rate_tokens_per_s"] / f, rel=1e-12)
    assert b["phi_c"] == pytest.approx(1 / f) and b["phi_e"] == pytest.approx(1 / f)
    assert b["binding"] == a["binding"]  # levers shift the frontier, not the regime


def test_constant_inputs_give_rate_times_horizon():
    r = estimate(point(horizon=86400.0 * 30, pue=1.2, electricity_price=2e-8, carbon_intensity=1e-7)).values
    assert r["tokens_total"] == pytest.approx(r["token_rate_tokens_per_s"] * 86400 * 30, rel=1e-15)
    assert r["energy_it_j"] == pytest.approx(r["tokens_total"] * r["e_tok_j_per_token"], rel=1e-15)
    assert r["energy_facility_j"] == pytest.approx(1.2 * r["energy_it_j"], rel=1e-15)
    assert r["cost_usd"] == pytest.approx(r["energy_facility_j"] * 2e-8, rel=1e-15)
    assert r["emissions_kg_co2e"] == pytest.approx(r["energy_facility_j"] * 1e-7, rel=1e-15)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 100_000), p=st.floats(50, 5000), r=st.floats(1, 1e4), c=pos, p_it=st.floats(1e3, 1e9))
def test_fleet_power_bound_iff_draw_exceeds_p_it(n, p, r, c, p_it):
    # e_tok measured as fleet power / fleet rate, K_eff = N r c_tok (realized)
    inp = Inputs(devices=n, throughput_per_device=r, c_tok=c * 1e10, device_power=p, p_it=p_it)
    res = estimate(inp).values
    draw = n * p
    if abs(draw / p_it - 1) > 0.02:
        assert res["binding"] == ("power" if draw > p_it else "compute")
    assert res["e_tok_j_per_token"] == pytest.approx(p / r, rel=1e-12)
    assert res["k_eff_convention"] == "realized"


def test_balanced_within_tolerance():
    assert classify(100.0, 100.5) == "balanced"
    assert classify(100.0, 102.0) == "compute"
    assert classify(102.0, 100.0) == "power"
    assert classify(100.0, 102.0, tolerance=0.05) == "balanced"
    assert classify(None, 1.0) is None


def test_unknown_inputs_give_null_not_invented_numbers():
    r = estimate(Inputs(k_eff=1e16, c_tok=1e11)).values  # no power at all
    assert r["compute_ceiling_tokens_per_s"] == pytest.approx(1e5)
    assert r["power_ceiling_tokens_per_s"] is None
    assert r["binding"] is None and r["token_rate_tokens_per_s"] is None
    assert r["gamma_j_per_flop"] is None and r["tokens_total"] is None


def test_accelerator_boundary_without_overhead_gives_no_power_ceiling():
    res = estimate(point(e_tok_boundary="accelerator"))
    assert res.values["power_ceiling_tokens_per_s"] is None
    assert any("accelerator boundary" in n for n in res.notes)
    with_overhead = estimate(point(e_tok_boundary="accelerator", it_overhead=1.5)).values
    assert with_overhead["e_tok_j_per_token"] == pytest.approx(4.5)
    assert with_overhead["e_tok_at_boundary_j_per_token"] == pytest.approx(3.0)


def test_facility_boundary_divides_by_pue():
    r = estimate(point(e_tok_boundary="facility", pue=1.5, p_it=None, p_facility=1.2e6)).values
    assert r["e_tok_j_per_token"] == pytest.approx(2.0)
    assert r["e_tok_facility_j_per_token"] == pytest.approx(3.0)


def test_peak_and_realized_conventions_can_disagree():
    # 65B-class FP16 on H100: power-bound at peak, compute-bound realized (README worked example)
    inp = Inputs(devices=1000, peak_flops=989.4e12, throughput_per_device=83.0, c_tok=1.33e11,
                 e_tok=3.0, e_tok_boundary="accelerator", it_overhead=1275 / 700, p_facility=2e6, pue=1.56)
    res = estimate(inp)
    assert res.values["binding"] == "compute" and res.values["binding_peak"] == "power"
    assert res.values["conventions_disagree"] is True
    assert any("conventions disagree" in n for n in res.notes)
    assert res.values["eta_k"] == pytest.approx(83 * 1.33e11 / 989.4e12)


def test_peak_fallback_is_labelled():
    res = estimate(Inputs(devices=8, peak_flops=1e15, c_tok=1e11, e_tok=1.0, p_it=1e4))
    assert res.values["k_eff_convention"] == "peak"
    assert res.values["binding"] == res.values["binding_peak"]
    assert any("upper bound" in n for n in res.notes)


def _arch_8b(kv: float = 131072) -> Architecture:
    # a dense 8B-class model in BF16: 16 GB of weights; c_tok given directly below
    return Architecture(active_params=8e9, total_params=8e9, bytes_per_param=2.0, n_layers=32, d_attn=4096,
                        kv_bytes_per_token=kv, d_model=4096)


def test_serving_model_memory_bound_small_batch():
    dev = Device(peak_flops=989.4e12, hbm_bandwidth=3.35e12, hbm_capacity=80e9, tdp=700.0,
                 compute_efficiency=1.0, memory_efficiency=1.0, step_overhead_s=0.0, sequence_overhead_s=0.0)
    s = decode_step(_arch_8b(), dev, 1, 2048, c_tok=1.4e10)
    assert s.t_memory > s.t_compute and s.limiter == "memory"  # batch-1 decode moves the weights for one token
    assert s.throughput_per_device == pytest.approx(1 / s.t_memory, rel=1e-12)
    assert s.t_memory == pytest.approx((16e9 + 2048 * 131072) / 3.35e12, rel=1e-12)
    res = estimate(Inputs(devices=1, peak_flops=989.4e12, hbm_bandwidth=3.35e12, c_tok=1.4e10, batch_size=1,
                          context_length=2048, weight_bytes=16e9, kv_bytes_per_token=131072,
                          kernel_efficiency=0.5, e_tok=0.2, p_it=1e3))
    assert res.values["k_eff_convention"] == "modeled"
    assert res.values["k_eff_limited_by"] == "memory bandwidth"
    assert res.values["k_eff_flop_per_s"] < 0.5 * 989.4e12
    assert any("Memory bandwidth, not FLOPs" in n for n in res.notes)


def test_serving_model_large_batch_is_compute_limited():
    dev = Device(peak_flops=1e15, hbm_bandwidth=3e12, hbm_capacity=1e12, tdp=700.0, compute_efficiency=1.0,
                 memory_efficiency=1.0, step_overhead_s=0.0, sequence_overhead_s=0.0)
    s = decode_step(_arch_8b(kv=1e3), dev, 4096, 128, c_tok=1.4e10)
    assert s.t_compute > s.t_memory and s.limiter == "compute"
    assert s.throughput_per_device == pytest.approx(1e15 / 1.4e10, rel=1e-12)


def test_c_tok_from_architecture():
    res = estimate(Inputs(active_params=65.2e9, n_layers=80, context_length=2048, d_attn=8192, k_eff=1e16))
    assert res.values["c_tok_flop_per_token"] == pytest.approx(2 * 65.2e9 + 2 * 80 * 2048 * 8192)
    assert res.values["c_tok_origin"] == "architecture"


def test_lever_breaking_quality_tolerance_is_not_counted():
    lever = Lever(id="int2", name="int2", c_tok_factor=0.5, e_tok_factor=0.5, quality_delta={"mmlu": -3.0})
    res = estimate(point(quality={"mmlu": (63.4, 1.0)}, levers=(lever,)))
    (status,) = res.levers
    assert not status.counted and "mmlu -3 pts exceeds the tolerance of 1" in status.reason
    assert res.values["phi_c"] == 1.0
    shifted = estimate(point(quality={"mmlu": (63.4, 1.0)}, levers=(lever,), allow_operating_point_shift=True))
    assert shifted.levers[0].counted and shifted.values["phi_c"] == pytest.approx(2.0)


def test_lever_breaking_latency_slo_is_not_counted():
    lever = Lever(id="slow", name="slow", e_tok_factor=0.8, latency_factor=1.5)
    res = estimate(point(tpot_slo=0.1, tpot_measured=0.08, levers=(lever,)))
    assert not res.levers[0].counted and "breaks the 100 ms SLO" in res.levers[0].reason
    ok = estimate(point(tpot_slo=0.1, tpot_measured=0.05, levers=(lever,)))
    assert ok.levers[0].counted


def test_one_lever_on_one_phase_acts_on_that_phase_share():
    assert compose([("both", 0.5)], 0.2) == 0.5
    assert compose([("prefill", 0.5)], 0.2) == pytest.approx(0.9)
    assert compose([("decode", 0.5)], 0.2) == pytest.approx(0.6)
    assert compose([("decode", 0.5)], None) == 0.5


def test_cooling_caps_p_it():
    r = estimate(point(p_it=1e6, cooling_capacity=6e5)).values
    assert r["p_it_w"] == pytest.approx(6e5)


def test_core_is_vectorized():
    import numpy as np
    from tokencalc.core import evaluate, with_values

    p = np.array([1e5, 1e6, 1e7])
    r = evaluate(with_values(point(), p_it=p))
    scalar = [evaluate(point(p_it=float(x)))["token_rate"] for x in p]
    assert np.allclose(r["token_rate"], scalar, rtol=1e-15)


def test_precision_lever_not_double_counted():
    lever = Lever(id="fp8", name="fp8", c_tok_factor=None, e_tok_factor=0.625, precision="fp8")
    peaks = {"bf16": 989.4e12, "fp8": 1978.9e12}
    at_bf16 = estimate(point(precision="bf16", peak_table=peaks, levers=(lever,)))
    assert at_bf16.levers[0].counted and at_bf16.values["phi_c"] == pytest.approx(1978.9 / 989.4)
    at_fp8 = estimate(point(precision="fp8", peak_table=peaks, levers=(lever,)))
    assert not at_fp8.levers[0].counted and "double count" in at_fp8.levers[0].reason
    assert at_fp8.values["phi_c"] == 1.0


def test_long_context_lever_not_counted_at_short_context():
    lever = Lever(id="nsa", name="nsa", c_tok_factor=0.33, e_tok_factor=0.32, min_context_length=65536)
    short = estimate(point(context_length=2048, levers=(lever,), allow_operating_point_shift=True))
    assert not short.levers[0].counted and "65,536 tokens of context" in short.levers[0].reason
    assert short.values["phi_e"] == 1.0
    long = estimate(point(context_length=65536, levers=(lever,)))
    assert long.levers[0].counted and long.values["phi_e"] == pytest.approx(1 / 0.32)
    unknown = estimate(point(levers=(lever,)))
    assert unknown.levers[0].counted and "not checked" in unknown.levers[0].reason


# ---------------------------------------------------------------------------
# Regressions found against hand arithmetic (each failed before the one-core redesign)


def test_availability_scales_k_eff_when_memory_bandwidth_limits_it(cli):
    # The serving model at batch 8 (memory-bound decode), not the workload's measured curve.
    args = ["estimate", "--workload", "llama-3.1-8b", "--hardware", "h100-sxm", "--devices", "8", "-f", "json",
            "--operating-point", "modeled", "--batch", "8"]
    full = cli(*args).json()
    half = cli(*args, "--availability", "0.5").json()
    assert full["k_eff_limited_by"] == "memory bandwidth"
    assert half["k_eff_flop_per_s"] == pytest.approx(0.5 * full["k_eff_flop_per_s"], rel=1e-12)
    assert half["compute_ceiling_tokens_per_s"] == pytest.approx(0.5 * full["compute_ceiling_tokens_per_s"], rel=1e-12)


def test_availability_scales_k_eff_in_every_regime():
    base = dict(devices=8, peak_flops=1e15, c_tok=1e11)
    for extra in ({"kernel_efficiency": 0.4}, {"throughput_per_device": 900.0}):
        one = estimate(Inputs(**base, **extra, availability=1.0)).values["k_eff_flop_per_s"]
        half = estimate(Inputs(**base, **extra, availability=0.5)).values["k_eff_flop_per_s"]
        assert half == pytest.approx(0.5 * one, rel=1e-12)


def test_one_phase_levers_compose_per_phase_not_per_lever(cli):
    # s = 0.3; PagedAttention (decode, e 0.5) and DiffAdapt (decode, e 0.776; neither acts on bytes):
    # 1/Φ_e = 0.3 + 0.7 × 0.5 × 0.776 = 0.5716, not Π[s + (1 − s) f] = 0.548
    r = cli("estimate", "--workload", "llama-3.1-70b", "--set", "workload.operating_point.prefill_share=0.3",
            "--lever", "pagedattention", "--lever", "diffadapt", "-f", "json").json()
    assert 1 / r["phi_e"] == pytest.approx(0.3 + 0.7 * 0.5 * 0.776, rel=1e-12)


def test_phase_composition_identity():
    # f = Π(both) · [s Π(prefill) + (1 − s) Π(decode)]
    entries = [("prefill", 0.6), ("decode", 0.5), ("decode", 0.8), ("both", 0.9)]
    assert compose(entries, 0.25) == pytest.approx(0.9 * (0.25 * 0.6 + 0.75 * 0.5 * 0.8), rel=1e-15)
    assert compose(entries, None) == pytest.approx(0.6 * 0.5 * 0.8 * 0.9, rel=1e-15)
    assert compose(entries, 0.0) == pytest.approx(0.9 * 0.5 * 0.8) and compose(entries, 1.0) == pytest.approx(0.54)


@pytest.mark.parametrize("hardware,phi_c,counted", [
    ("h100-sxm", 1978.9 / 989.4, True),     # the hardware's own ratio, not a bundled 2
    ("b200", 2.0, True),
    ("gaudi3", 1.0, True),                   # FP8 peak = BF16 peak: no compute gain
    ("a100-sxm-80gb", 1.0, False),           # no FP8 peak: not counted at all
    ("v100-sxm2-32gb", 1.0, False),
    ("tpu-v5e", 1.0, False),
])
def test_the_fp8_lever_takes_its_compute_factor_from_the_hardware(cli, hardware, phi_c, counted):
    precision = "fp16" if hardware == "v100-sxm2-32gb" else "bf16"
    r = cli("estimate", "--hardware", hardware, "--precision", precision, "--lever", "fp8", "-f", "json").json()
    assert r["phi_c"] == pytest.approx(phi_c, rel=1e-12)
    assert r["levers"][0]["counted"] is counted
    if not counted:
        assert r["phi_e"] == 1.0 and "lists no dense fp8 peak" in r["levers"][0]["reason"]


def test_a_declared_compute_factor_of_a_precision_lever_wins(cli):
    r = cli("estimate", "--lever", "fp8", "--set", "levers.fp8.c_tok_factor=0.8", "-f", "json").json()
    assert r["phi_c"] == pytest.approx(1 / 0.8) and "as declared" in r["levers"][0]["reason"]


def test_derivations_are_independent():
    # derive() applies the table in one copy: no derivation may read what another one derives.
    from tokencalc.core import DERIVATIONS

    targets = {d.target for d in DERIVATIONS}
    for d in DERIVATIONS:
        assert not (set(d.reads) - {d.target}) & targets, d.target


def test_a_one_phase_lever_without_a_phase_split_is_not_counted_unless_allowed(cli):
    plain = cli("estimate", "--lever", "pagedattention", "-f", "json").json()
    assert not plain["levers"][0]["counted"] and plain["phi_e"] == 1.0
    assert "no prefill/decode split" in plain["levers"][0]["reason"]
    allowed = cli("estimate", "--lever", "pagedattention", "--whole-token-levers", "-f", "json").json()
    assert allowed["levers"][0]["counted"] and allowed["phi_e"] == pytest.approx(2.0)
    split = cli("estimate", "--lever", "pagedattention", "--set", "workload.operating_point.prefill_share=0.2",
                "-f", "json").json()
    assert split["levers"][0]["counted"] and 1 / split["phi_e"] == pytest.approx(0.2 + 0.8 * 0.5)


def test_physically_impossible_results_warn_naming_the_input(cli):
    r = cli("estimate", "--throughput-per-device", "1e6 token/s", "-f", "json")
    assert r.code == 0
    w = r.json()["warnings"]
    assert len(w) == 1 and "13,451 % of the hardware's dense peak" in w[0] and "--throughput-per-device" in w[0]
    assert "tokencalc: warning: K_eff is 13,451 %" in r.err
    e = cli("estimate", "--e-tok", "0.01 J/token", "--e-tok-boundary", "accelerator", "-f", "json").json()
    assert any(x.startswith("η_E = ") and "below its physical floor" in x for x in e["warnings"])
    assert cli("estimate", "-f", "json").json()["warnings"] == []


@pytest.mark.parametrize("flag,value", [("--pue", "1e308"), ("--horizon", "1e300 year"),
                                        ("--electricity-price", "1e308 USD/kWh"), ("--pue", "9**9**9"),
                                        ("--pue", "9**9**7"), ("--devices", "10" * 30)])
def test_out_of_range_inputs_are_input_errors_not_crashes(cli, flag, value):
    r = cli("estimate", flag, value, "-f", "json")
    assert r.code == 2 and r.out == "" and "internal error" not in r.err and flag in r.err


def test_a_result_that_overflows_is_an_input_error_naming_the_inputs():
    from tokencalc.errors import InputError

    with pytest.raises(InputError, match="non-finite|no finite result"):
        estimate(Inputs(k_eff=1e300, c_tok=1e-300, e_tok=1e-300, p_it=1e300, horizon=1e300, utilization=1.0))
