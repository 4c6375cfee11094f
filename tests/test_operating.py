"""The operating point (core/operating.py): the SLO search, its sources, memory, levers on bytes, parity."""

from __future__ import annotations

import csv
import io

import pytest

from tokencalc.core.opmodel import curve_for, model_of, point_at
from tokencalc.core.operating import settle
from tokencalc.resolve.scenario import Request, resolve

OP_KEYS = {"batch_size", "context_length", "devices_per_replica", "itl_s", "ttft_s",
           "throughput_per_device_tokens_per_s", "device_power_w", "e_tok_accelerator_j_per_token",
           "memory_required_bytes", "memory_capacity_bytes", "source"}


def inputs(flags: dict[str, str], workload: str = "llama-3.1-8b", hardware: str = "h100-sxm"):
    return resolve(Request(scenario=None, flags={"devices": "8", **flags},
                           refs={"workload": workload, "hardware": hardware})).inputs


def brute_force(inp, objective: str) -> tuple[float, float]:
    """(batch, score) of the best feasible whole batch, trying every one."""
    curve, model = (None if inp.operating_point == "modeled" else curve_for(inp)), model_of(inp)
    best = (0.0, float("-inf"))
    for b in range(1, 9000):
        p = point_at(inp, curve, model, float(b), strict=False)
        if p.feasible:
            score = -p.e_acc if objective == "energy" else p.throughput
            if score > best[1]:
                best = (float(b), score)
    return best


@pytest.mark.parametrize("flags", [
    {"tpot_slo": "30 ms", "operating_point": "modeled"},
    {"tpot_slo": "20 ms", "operating_point": "modeled", "objective": "energy"},
    {"tpot_slo": "30 ms"},                                       # the measured curve, interpolated
    {"tpot_slo": "12 ms", "objective": "energy"},
])
def test_the_slo_search_finds_what_trying_every_batch_finds(flags):
    inp = inputs(flags)
    op = settle(inp).op
    batch, score = brute_force(inp, flags.get("objective", "tokens"))
    assert op.chosen_by == "slo" and batch > 0
    got = -op.e_tok_accelerator if flags.get("objective") == "energy" else op.throughput_per_device
    assert got == pytest.approx(score, rel=1e-3)
    assert op.itl_s <= inp.tpot_slo * (1 + 1e-12)


def test_a_measured_batch_gives_the_measurement_itself(cli):
    inp = inputs({})
    row = curve_for(inp).points[3]
    doc = cli("estimate", "--workload", "llama-3.1-8b", "--devices", "8", "--batch", f"{row.batch_size:.4f}",
              "-f", "json").json()
    op = doc["operating_point"]
    assert op["source"] == "measured" and op["chosen_by"] == "fixed"
    assert op["throughput_per_device_tokens_per_s"] == pytest.approx(row.throughput_per_device, rel=1e-12)
    assert op["device_power_w"] == pytest.approx(row.device_power, rel=1e-12)
    assert op["itl_s"] == pytest.approx(row.itl, rel=1e-12)
    # K_eff is the realized one: N · r · c_tok from the measured rate
    assert doc["k_eff_convention"] == "realized"
    assert doc["k_eff_flop_per_s"] == pytest.approx(8 * row.throughput_per_device * doc["c_tok_flop_per_token"])


def test_json_carries_the_operating_point_and_labels_a_model_as_modeled(cli):
    doc = cli("estimate", "--workload", "llama-3.1-8b", "--devices", "8", "--operating-point", "modeled",
              "--batch", "16", "-f", "json").json()
    op = doc["operating_point"]
    assert OP_KEYS <= set(op) and op["source"] == "modeled" and op["batch_size"] == 16
    assert doc["k_eff_convention"] == "modeled" and doc["e_tok_origin"] == "modeled"
    assert doc["inputs"]["throughput_per_device"]["source"].startswith("derived: serving model")
    assert any(n.startswith("Operating point modeled by the serving model") for n in doc["notes"])
    table = cli("estimate", "--workload", "llama-3.1-8b", "--devices", "8", "--operating-point", "modeled",
                "--batch", "16").out
    assert "Operating point: modeled by the serving model" in table


def test_operating_point_modeled_ignores_the_measurements(cli):
    auto = cli("estimate", "--workload", "llama-3.1-8b", "--devices", "8", "--batch", "64", "-f", "json").json()
    modeled = cli("estimate", "--workload", "llama-3.1-8b", "--devices", "8", "--batch", "64",
                  "--operating-point", "modeled", "-f", "json").json()
    assert auto["operating_point"]["source"] in ("measured", "interpolated")
    assert modeled["operating_point"]["source"] == "modeled"
    assert modeled["token_rate_tokens_per_s"] != auto["token_rate_tokens_per_s"]


def test_the_default_scenario_keeps_its_measured_point(cli):
    doc = cli("estimate", "-f", "json").json()
    assert doc["operating_point"]["source"] == "measured" and doc["operating_point"]["batch_size"] == 64
    assert doc["token_rate_tokens_per_s"] == pytest.approx(58100.0, rel=1e-9)


def test_a_batch_whose_kv_cache_does_not_fit_is_an_input_error(cli):
    r = cli("estimate", "--workload", "llama-3.1-8b", "--devices", "8", "--operating-point", "modeled",
            "--batch", "4000", "-f", "json")
    assert r.code == 2 and "at most batch" in r.err and "GB of HBM" in r.err


def test_a_replica_that_cannot_hold_the_weights_says_how_many_devices_would(cli):
    r = cli("estimate", "--workload", "llama-3.1-405b", "--devices", "8", "--operating-point", "modeled",
            "--batch", "1", "--devices-per-replica", "1", "-f", "json")
    assert r.code == 2 and "does not fit" in r.err and "devices per replica would do" in r.err


def test_no_feasible_batch_is_an_input_error_naming_the_slo(cli):
    r = cli("estimate", "--workload", "llama-3.1-8b", "--devices", "8", "--operating-point", "modeled",
            "--tpot-slo", "0.1 ms", "-f", "json")
    assert r.code == 2 and "no batch meets the latency SLO" in r.err and "0.1 ms" in r.err


@pytest.mark.parametrize("lever", ["kv-eviction", "int4-awq"])
def test_a_memory_lever_raises_a_memory_bound_ceiling(cli, lever):
    base = ["estimate", "--workload", "llama-3.1-8b", "--devices", "8", "--operating-point", "modeled",
            "--batch", "32", "-f", "json"]
    plain = cli(*base).json()
    faster = cli(*base, "--lever", lever).json()
    assert plain["k_eff_limited_by"] == "memory bandwidth"
    assert faster["compute_ceiling_tokens_per_s"] > plain["compute_ceiling_tokens_per_s"] * 1.05
    assert faster["operating_point"]["itl_s"] < plain["operating_point"]["itl_s"]
    status = next(s for s in faster["levers"] if s["id"] == lever)
    assert status["counted"] and "acts through the serving model" in status["reason"]
    assert status["e_tok_factor"] == 1.0  # its gain is in the modeled step, not counted twice


def test_sweep_over_batch_agrees_with_estimate_point_by_point(cli):
    batches = ["8", "100", "297", "600"]
    r = cli("sweep", "--workload", "llama-3.1-8b", "--devices", "8", "--vary", "batch_size=" + ",".join(batches),
            "-f", "csv")
    assert r.code == 0, r.err
    rows = list(csv.DictReader(io.StringIO(r.out)))
    for b, row in zip(batches, rows):
        one = cli("estimate", "--workload", "llama-3.1-8b", "--devices", "8", "--batch", b, "-f", "json").json()
        assert float(row["token_rate_tokens_per_s"]) == pytest.approx(one["token_rate_tokens_per_s"], rel=1e-9)
        assert float(row["energy_facility_j"]) == pytest.approx(one["energy_facility_j"], rel=1e-9)


def test_compare_shows_the_operating_point_of_each_row(cli):
    r = cli("compare", "--workload", "llama-3.1-8b", "--hardware", "h100-sxm,b200", "--devices", "8", "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert all(row["operating_point_source"] in ("measured", "interpolated", "modeled") for row in rows)
    assert all(float(row["operating_point_batch_size"]) > 0 for row in rows)
    assert "Operating point" in cli("compare", "--workload", "llama-3.1-8b", "--hardware", "h100-sxm,b200").out


def test_solve_for_context_length_finds_where_power_starts_to_bind(cli):
    """With K_eff and e_tok from one modeled step, Q̇_K/Q̇_P = N·P_device·κ/P_IT: context moves it through power."""
    base = ["--workload", "llama-3.1-8b", "--devices", "8", "--operating-point", "modeled", "--batch", "16",
            "--p-it", "7 kW"]
    doc = cli("solve", *base, "--for", "context_length", "-f", "json").json()
    assert doc["crossover"] and doc["binding_above"] == "power" and doc["binding_below"] == "compute"
    x = doc["value"]
    for ctx, regime in ((int(x * 0.1), "compute"), (int(x * 2.5), "power")):  # within 1 % it is balanced
        at = cli("estimate", *base, "--context-length", str(ctx), "-f", "json").json()
        assert at["binding"] == regime


def test_an_slo_failure_names_only_what_fails(cli):
    r = cli("estimate", "--workload", "llama-3.1-8b", "--devices", "8", "--ttft-slo", "1 ms", "--input-tokens", "2000",
            "--operating-point", "modeled")
    assert r.code == 2 and "TTFT of a 2,000-token prompt" in r.err and "ITL" not in r.err
    big = cli("estimate", "--workload", "deepseek-v3", "--hardware", "h100-sxm", "--devices", "64",
              "--devices-per-replica", "8", "--tpot-slo", "50 ms")
    assert big.code == 2 and "does not fit" in big.err and "devices per replica would do" in big.err


def test_a_sweep_over_context_at_a_measured_point_runs(cli):
    """An array of contexts at a measured point once asked the one-point memory note for a truth value."""
    r = cli("sweep", "h200-server-8x", "--vary", "context_length=129176,4096,281,128", "-f", "json")
    assert r.code == 0, r.err


def test_the_energy_objective_without_a_board_power_is_an_input_error(cli):
    args = ["estimate", "--hardware", "tpu-v6e", "--workload", "gemma-3-27b", "--devices", "8",
            "--devices-per-replica", "2", "--objective", "energy"]
    r = cli(*args, "-f", "json")
    assert r.code == 2 and "gives none (tdp)" in r.err        # was TypeError (found by make fuzz)
    ok = cli(*args, "--set", "hardware.tdp=300 W", "-f", "json")
    assert ok.code == 0 and ok.json()["operating_point"]["chosen_by"] == "slo"


def test_a_byte_lever_at_a_measured_point_keeps_its_declared_factor(cli):
    """The measured curve knows nothing of the lever: its e_tok factor applies (dropping it lost the gain)."""
    doc = cli("estimate", "--workload", "llama-3.1-8b", "--devices", "8", "--lever", "kv-eviction",
              "--whole-token-levers", "-f", "json").json()
    assert doc["operating_point"]["source"] in ("measured", "interpolated")
    status = doc["levers"][0]
    assert status["counted"] and status["e_tok_factor"] == pytest.approx(0.73)
    assert "acts through the serving model" not in status["reason"]
    assert doc["phi_e"] == pytest.approx(1 / 0.73)
