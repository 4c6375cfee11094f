"""Energy as it is really spent: idle capacity, input and output tokens per request, the boundary ladder."""

import pytest

from tests.cli_runs import run, run_json
from tokencalc.core import Inputs, estimate
from tokencalc.core.derive import kaplan_c_tok

YEAR = 365 * 86400.0
# A small power-bound-free point: 10 devices, 1,000 token/s each at 2 J/token (accelerator), IT ladder x1.5.
BASE = dict(devices=10, throughput_per_device=1000.0, c_tok=1e11, peak_flops=1e15, e_tok=2.0,
            e_tok_boundary="accelerator", node_overhead=1.5, p_it=1e9, pue=1.2, horizon=YEAR)


def values(**kw):
    return estimate(Inputs(**{**BASE, **kw})).values


# --- idle capacity -------------------------------------------------------------------------------------

def test_idle_energy_is_zero_at_full_utilization():
    r = values(utilization=1.0, idle_power=80.0)
    assert r["idle_power_it_w"] == 0.0 and r["energy_idle_it_j"] == 0.0
    assert r["energy_it_j"] == pytest.approx(r["tokens_total"] * r["e_tok_j_per_token"], rel=1e-12)


def test_idle_energy_at_zero_utilization_is_the_whole_fleet_idling():
    r = values(utilization=0.0, idle_power=80.0)
    assert r["tokens_total"] == 0.0
    assert r["energy_it_j"] == pytest.approx(10 * 80.0 * 1.5 * YEAR, rel=1e-12)  # N P_idle kappa T
    assert r["energy_facility_j"] == pytest.approx(10 * 80.0 * 1.5 * YEAR * 1.2, rel=1e-12)


def test_idle_energy_at_partial_utilization_by_hand():
    r = values(utilization=0.25, idle_power=80.0, electricity_price=1e-7)
    tokens = 0.25 * 10 * 1000.0 * YEAR
    idle = 0.75 * 10 * 80.0 * 1.5 * YEAR
    assert r["tokens_total"] == pytest.approx(tokens, rel=1e-12)
    assert r["energy_idle_it_j"] == pytest.approx(idle, rel=1e-12)
    assert r["energy_it_j"] == pytest.approx(tokens * 3.0 + idle, rel=1e-12)  # e_tok at IT = 2 J x 1.5
    assert r["cost_usd"] == pytest.approx((tokens * 3.0 + idle) * 1.2 * 1e-7, rel=1e-12)


def test_idle_power_zero_leaves_idle_out_and_says_so():
    res = estimate(Inputs(**BASE, utilization=0.5, idle_power=0.0))
    assert res.values["energy_idle_it_j"] == 0.0
    assert any("Idle capacity left out" in n for n in res.notes)


def test_idle_not_counted_without_an_idle_power_and_the_note_says_how():
    res = estimate(Inputs(**BASE, utilization=0.5))
    assert res.values["energy_idle_it_j"] is None
    assert res.values["energy_it_j"] == pytest.approx(res.values["tokens_total"] * 3.0, rel=1e-12)
    assert any("--idle-power" in n for n in res.notes)


def test_idle_power_works_in_arrays_like_scalars():
    import numpy as np

    u = np.array([0.2, 0.6, 1.0])
    arr = estimate(Inputs(**BASE, idle_power=80.0)).engine  # scalar reference below
    from tokencalc.core.engine import evaluate

    out = evaluate(Inputs(**BASE, idle_power=80.0, utilization=u))
    for i, ui in enumerate(u):
        one = evaluate(Inputs(**BASE, idle_power=80.0, utilization=float(ui)))
        assert out["energy_it"][i] == pytest.approx(one["energy_it"], rel=1e-12)
    assert arr["energy_idle_it"] == 0.0  # U defaults to 1


# --- input and output tokens -----------------------------------------------------------------------------

def test_per_request_energy_with_a_declared_prefill_share():
    r = values(input_tokens=1000, output_tokens=250, prefill_share=0.2, utilization=1.0)
    e_req_it = 3.0 * 250                                   # e_tok (IT, per output token) x output tokens
    assert r["energy_per_request_it_j"] == pytest.approx(e_req_it, rel=1e-12)
    assert r["energy_per_request_j"] == pytest.approx(e_req_it * 1.2, rel=1e-12)
    assert r["e_tok_input_j_per_token"] == pytest.approx(0.2 * e_req_it / 1000, rel=1e-12)
    assert r["e_tok_output_j_per_token"] == pytest.approx(0.8 * e_req_it / 250, rel=1e-12)
    # the request is input x e_in + output x e_out
    assert 1000 * r["e_tok_input_j_per_token"] + 250 * r["e_tok_output_j_per_token"] == pytest.approx(e_req_it)
    assert r["requests_per_s"] == pytest.approx(r["token_rate_tokens_per_s"] / 250, rel=1e-12)
    assert r["compute_ceiling_requests_per_s"] == pytest.approx(r["compute_ceiling_tokens_per_s"] / 250)
    assert r["power_ceiling_requests_per_s"] == pytest.approx(r["power_ceiling_tokens_per_s"] / 250)


def test_total_token_basis_counts_input_and_output_per_request():
    r = values(input_tokens=300, output_tokens=100, token_basis="total")
    assert r["requests_per_s"] == pytest.approx(r["token_rate_tokens_per_s"] / 400, rel=1e-12)
    assert r["energy_per_request_it_j"] == pytest.approx(3.0 * 400, rel=1e-12)


def test_output_tokens_follow_from_input_tokens_and_the_ratio():
    r = values(input_tokens=600, input_output_ratio=3.0)
    assert r["output_tokens_per_request"] == pytest.approx(200)


def test_modeled_split_from_the_serving_model_sums_to_the_request():
    # llama-3.1-8b-like dense model on an H100-like device, the serving model's step at batch 32.
    kw = dict(devices=8, peak_flops=989.4e12, hbm_bandwidth=3.35e12, hbm_capacity=80e9, tdp=700.0,
              active_params=8.03e9, total_params=8.03e9, bytes_per_param=2.0, n_layers=32, d_attn=4096,
              kv_bytes_per_token=131072.0, context_length=2048, batch_size=32, input_tokens=1024, output_tokens=512,
              serving_power_base=0.45, serving_power_compute=1.0, serving_power_memory=0.25,
              server_power_per_device=1275.0, p_it=1e7, pue=1.1)
    r = estimate(Inputs(**kw)).values
    assert r["e_tok_split"].startswith("modeled")
    assert 0.0 < r["prefill_energy_share"] < 1.0
    total = 1024 * r["e_tok_input_j_per_token"] + 512 * r["e_tok_output_j_per_token"]
    assert total == pytest.approx(r["energy_per_request_it_j"], rel=1e-12)
    assert r["energy_per_request_it_j"] == pytest.approx(512 * r["e_tok_j_per_token"], rel=1e-12)


def test_c_tok_on_the_output_basis_carries_the_prompt_prefill():
    arch = dict(active_params=8e9, n_layers=32, d_attn=4096, context_length=2048)
    plain = estimate(Inputs(**arch)).values["c_tok_flop_per_token"]
    assert plain == pytest.approx(kaplan_c_tok(8e9, 32, 2048, 4096))
    with_io = estimate(Inputs(**arch, input_tokens=1000, output_tokens=250)).values["c_tok_flop_per_token"]
    assert with_io == pytest.approx(kaplan_c_tok(8e9, 32, 2048, 4096) + 4.0 * kaplan_c_tok(8e9, 32, 500, 4096))
    zero = estimate(Inputs(**arch, input_output_ratio=0.0)).values["c_tok_flop_per_token"]
    assert zero == pytest.approx(plain)
    total = estimate(Inputs(**arch, input_tokens=1000, output_tokens=250, token_basis="total")).values
    assert total["c_tok_flop_per_token"] == pytest.approx(with_io / 5.0)


def test_realized_compute_ceiling_does_not_move_with_the_c_tok_basis():
    arch = dict(active_params=8e9, n_layers=32, d_attn=4096, context_length=2048, devices=4,
                throughput_per_device=900.0, peak_flops=1e15)
    a = estimate(Inputs(**arch)).values
    b = estimate(Inputs(**arch, input_tokens=1000, output_tokens=250)).values
    assert a["compute_ceiling_tokens_per_s"] == pytest.approx(b["compute_ceiling_tokens_per_s"]) == 3600.0
    assert b["k_eff_flop_per_s"] > a["k_eff_flop_per_s"]  # the prefill FLOPs are now counted in K_eff


# --- the boundary ladder ---------------------------------------------------------------------------------

def test_the_ladder_multiplies_out():
    res = estimate(Inputs(**{**BASE, "rack_overhead": 1.1, "fabric_overhead": 1.05}))
    r, j = res.values, res.to_json()
    assert r["e_tok_j_per_token"] == pytest.approx(2.0 * 1.5 * 1.1 * 1.05, rel=1e-12)
    lad = j["e_tok_by_boundary"]
    assert lad["accelerator"] == pytest.approx(2.0)
    assert lad["node"] == pytest.approx(3.0)
    assert lad["rack"] == pytest.approx(3.3)
    assert lad["it"] == pytest.approx(3.465)
    assert lad["facility"] == pytest.approx(3.465 * 1.2)
    assert [(x["from"], x["to"], x["basis"]) for x in j["boundary_ladder"]] == [
        ("accelerator", "node", "declared"), ("node", "rack", "declared"), ("rack", "it", "declared"),
        ("it", "facility", "declared")]


def test_undeclared_rungs_count_as_one_and_are_marked():
    j = estimate(Inputs(**BASE)).to_json()
    assert j["e_tok_j_per_token"] == pytest.approx(3.0)
    assert [x["basis"] for x in j["boundary_ladder"]][:3] == ["declared", "not declared", "not declared"]
    assert any("not declared (×1)" in n for n in j["notes"])


def test_server_power_gives_a_provisioned_node_rung():
    kw = {k: v for k, v in BASE.items() if k != "node_overhead"}
    j = estimate(Inputs(**kw, server_power_per_device=1275.0, tdp=700.0)).to_json()
    assert j["boundary_ladder"][0]["basis"] == "provisioned"
    assert j["e_tok_j_per_token"] == pytest.approx(2.0 * 1275 / 700)


def test_a_node_figure_needs_a_declared_rung_to_reach_it():
    kw = {k: v for k, v in BASE.items() if k != "node_overhead"}
    none = estimate(Inputs(**{**kw, "e_tok_boundary": "node"})).values
    assert none["e_tok_j_per_token"] is None and none["power_ceiling_tokens_per_s"] is None
    rack = estimate(Inputs(**{**kw, "e_tok_boundary": "node", "rack_overhead": 1.08})).values
    assert rack["e_tok_j_per_token"] == pytest.approx(2.0 * 1.08)
    rack_b = estimate(Inputs(**{**kw, "e_tok_boundary": "rack", "fabric_overhead": 1.1})).values
    assert rack_b["e_tok_j_per_token"] == pytest.approx(2.2)


def test_idle_power_climbs_the_same_ladder():
    r = values(utilization=0.5, idle_power=100.0, rack_overhead=1.1, fabric_overhead=1.05)
    assert r["idle_power_it_w"] == pytest.approx(0.5 * 10 * 100.0 * 1.5 * 1.1 * 1.05, rel=1e-12)


# --- the command line -------------------------------------------------------------------------------------

def test_cli_idle_and_requests_flags(capsys):
    d = run_json(capsys, "estimate", "--idle-power", "70 W", "--input-tokens", "500", "--output-tokens", "250")
    assert d["energy_idle_it_j"] == pytest.approx(0.3 * 1000 * 70 * 1275 / 700 * YEAR, rel=1e-9)
    assert d["requests_per_s"] == pytest.approx(d["token_rate_tokens_per_s"] / 250)
    off = run_json(capsys, "estimate", "--idle-power", "0 W")
    assert off["energy_idle_it_j"] == 0.0


@pytest.mark.parametrize("args, needle", [
    (("--idle-power", "5 s"), "idle_power"),
    (("--output-tokens", "0"), "output_tokens"),
    (("--rack-overhead", "0.9"), "rack_overhead"),
])
def test_cli_bad_values_are_exit_2(capsys, args, needle):
    code, _, err = run(capsys, "estimate", *args)
    assert code == 2 and needle.replace("_", "-") in err.replace("_", "-")


def test_project_integrates_the_idle_capacity_like_estimate(capsys):
    est = run_json(capsys, "estimate", "--idle-power", "70 W", "--utilization", "0.4")
    proj = run_json(capsys, "project", "--idle-power", "70 W", "--utilization", "0.4")
    assert proj["energy_it_j"] == pytest.approx(est["energy_it_j"], rel=1e-6)
    assert proj["energy_it_j"] > proj["tokens_total"] * est["e_tok_j_per_token"] * 1.01  # the idle share is in


# --- a disaggregated deployment ---------------------------------------------------------------------------

PREFILL = '''kind = "scenario"
name = "prefill fleet"
devices = 200
peak_flops = "989.4 TFLOP/s"
c_tok = "1.3e11 FLOP/token"
throughput_per_device = "5000 token/s"
device_power = "650 W"
e_tok_boundary = "accelerator"
it_overhead = 1.5
p_it = "300 kW"
pue = 1.2
utilization = 0.7
'''
DECODE = '''kind = "scenario"
name = "decode fleet"
prefill_fleet = "prefill.toml"
devices = 800
peak_flops = "989.4 TFLOP/s"
c_tok = "1.3e11 FLOP/token"
throughput_per_device = "80 token/s"
device_power = "400 W"
e_tok_boundary = "accelerator"
it_overhead = 1.5
p_it = "1 MW"
pue = 1.3
utilization = 0.7
input_tokens = 2000
output_tokens = 250
'''


def test_disaggregated_deployment_by_hand(tmp_path, capsys):
    (tmp_path / "prefill.toml").write_text(PREFILL)
    (tmp_path / "decode.toml").write_text(DECODE)
    d = run_json(capsys, "estimate", str(tmp_path / "decode.toml"))["disaggregated"]
    assert d["prefill_compute_ceiling_requests_per_s"] == pytest.approx(200 * 5000 / 2000)          # 500
    e_pre, e_dec = 650 / 5000 * 1.5, 400 / 80 * 1.5                                                   # J/token, IT
    assert d["prefill_power_ceiling_requests_per_s"] == pytest.approx(300e3 / e_pre / 2000)
    assert d["decode_compute_ceiling_requests_per_s"] == pytest.approx(800 * 80 / 250)              # 256
    assert d["decode_power_ceiling_requests_per_s"] == pytest.approx(1e6 / e_dec / 250)             # 533
    assert d["binding"] == "decode_compute"
    assert d["requests_per_s"] == pytest.approx(0.7 * 256)
    assert d["energy_per_request_it_j"] == pytest.approx(2000 * e_pre + 250 * e_dec)
    assert d["energy_per_request_j"] == pytest.approx(2000 * e_pre * 1.2 + 250 * e_dec * 1.3)
    # the decode fleet does no prefill: its architecture c_tok has no prompt term, whatever the ratio
    arch = dict(active_params=8e9, n_layers=32, d_attn=4096, context_length=2048, input_tokens=1000, output_tokens=250)
    dec = estimate(Inputs(**arch, prefill_elsewhere=True)).values["c_tok_flop_per_token"]
    assert dec == pytest.approx(kaplan_c_tok(8e9, 32, 2048, 4096))
    assert estimate(Inputs(**arch)).values["c_tok_flop_per_token"] > 2 * dec


def test_disaggregated_errors_name_the_prefill_fleet(tmp_path, capsys):
    (tmp_path / "decode.toml").write_text(DECODE)
    code, _, err = run(capsys, "estimate", str(tmp_path / "decode.toml"))
    assert code == 2 and "prefill_fleet" in err and "prefill.toml" in err
    (tmp_path / "prefill.toml").write_text(PREFILL)
    (tmp_path / "bad.toml").write_text(DECODE.replace("input_tokens = 2000\noutput_tokens = 250\n", ""))
    code, _, err = run(capsys, "estimate", str(tmp_path / "bad.toml"))
    assert code == 2 and "input_tokens and output_tokens" in err


# --- found by make fuzz (10,000 cases, seed 21) -------------------------------------------------------------

def test_a_sweep_over_input_tokens_splits_the_request_energy_per_point(capsys):
    # the split's guard compared an array with 0 (a ValueError, exit 1)
    d = run_json(capsys, "sweep", "--vary", "input_tokens=500,2000", "--output-tokens", "250",
                 "--set", "workload.operating_point.prefill_share=0.2")
    assert d["points"] == 2


def test_a_sweep_over_the_replica_size_with_measured_curves_is_an_input_error(capsys):
    code, _, err = run(capsys, "sweep", "--workload", "llama-3.1-8b", "--vary", "devices_per_replica=1,2")
    assert code == 2 and "one replica size" in err
    ok = run_json(capsys, "sweep", "--workload", "llama-3.1-8b", "--vary", "devices_per_replica=1,2",
                  "--operating-point", "modeled")
    assert ok["points"] == 2


def test_hardware_without_hbm_capacity_skips_the_memory_check(tmp_path, capsys):
    # a hardware profile with no HBM capacity and a ranged bandwidth: the memory check compared with None
    hw = tmp_path / "hw.toml"
    hw.write_text('kind = "hardware"\nname = "x"\ntdp = "700 W"\n[peak_flops]\nbf16 = "1 PFLOP/s"\n'
                  '[hbm_bandwidth]\nlow = "2 TB/s"\nmode = "3 TB/s"\nhigh = "4 TB/s"\n')
    d = run_json(capsys, "estimate", "--hardware", str(hw), "--workload", "llama-4-scout", "--precision", "bf16",
                 "--devices", "8", "--mc", "20")
    assert d["operating_point"]["memory_capacity_bytes"] is None
