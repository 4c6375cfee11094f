"""`calibrate --energy`: serving-stack energy reports, detected by their keys, through the same estimators.

One fixture per format in tests/data/energy/ (illustrative numbers; each cites the PR or page its
shape is taken from). Each test's expected figures are worked out by hand from the fixture.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tokencalc.calibration import energy as E
from tokencalc.calibration.run import run as calibrate_run
from cli_runs import run, run_json
from tokencalc.errors import InputError

DATA = Path(__file__).parent / "data" / "energy"

# file, format, energy J, output tokens, duration s, devices: hand arithmetic from each fixture.
CASES = [
    # gpu_energy_j over gpu_energy_duration_s, len(energy_gpu_ids) GPUs
    ("vllm_bench_energy.json", "vllm-bench-energy", 12000.0, 8000, 20.0, 2),
    # mean_power_w x duration = 680 W x 50 s; median_power_w / median_power_per_accelerator_w = 1 device
    ("vllm_record_power.json", "vllm-bench-power", 680.0 * 50.0, 10000, 50.0, 1),
    # 2400 W x 40 s; 2400 / 300 = 8 devices
    ("sglang_record_power.jsonl", "sglang-bench-power", 2400.0 * 40.0, 20000, 40.0, 8),
    # performance.total_energy_j; 1000 requests x 512 output tokens; 100,000 ms; world_size 4
    ("trtllm_bench_report.json", "trtllm-bench", 160000.0, 1000 * 512, 100.0, 4),
    # (108836 + 95000 + 116164) mJ; 20 + 20 + 24 tokens; no duration, no device count
    ("tgi_responses.jsonl", "tgi-responses", 320.0, 64, None, None),
    # steady_state_energy; steady-state tokens = 60000 J / 0.1 J/token; num_gpus 2
    ("mlenergy_run_results.json", "mlenergy-run", 60000.0, 600000, 100.0, 2),
]
E_TOK = {"vllm_bench_energy.json": 1.5, "vllm_record_power.json": 3.4, "sglang_record_power.jsonl": 4.8,
         "trtllm_bench_report.json": 0.3125, "tgi_responses.jsonl": 5.0, "mlenergy_run_results.json": 0.1}




def error(capsys, *args: str) -> str:
    code, out, err = run(capsys, *args)
    assert code == 2, (code, out, err)
    assert len(err.strip().splitlines()) == 1, err
    return err


def test_every_format_has_a_fixture():
    assert sorted(c[1] for c in CASES) == sorted(E.FORMATS)
    assert sorted(c[0] for c in CASES) == sorted(p.name for p in DATA.iterdir())
    for p in DATA.iterdir():  # each fixture says where its shape is from and that its numbers are made up
        first = json.loads(p.read_text().splitlines()[0] if p.suffix == ".jsonl" else p.read_text())
        assert "Illustrative numbers" in first["_comment"]


@pytest.mark.parametrize("name,fmt,energy,tokens,duration,devices", CASES)
def test_fixture_is_detected_and_read(name, fmt, energy, tokens, duration, devices):
    rep = E.read_energy(DATA / name)
    assert rep.format == fmt
    assert rep.energy_j == pytest.approx(energy)
    assert rep.output_tokens == tokens
    assert rep.devices == devices
    assert rep.duration_s == (pytest.approx(duration) if duration is not None else None)


@pytest.mark.parametrize("name,fmt,energy,tokens,duration,devices", CASES)
def test_e_tok_is_the_hand_arithmetic(capsys, name, fmt, energy, tokens, duration, devices):
    r = run_json(capsys, "calibrate", "--energy", str(DATA / name))
    assert r["e_tok_j_per_token"] == pytest.approx(E_TOK[name], rel=1e-12)
    assert r["e_tok_j_per_token"] == pytest.approx(energy / tokens, rel=1e-12)
    assert r["energy_j"] == pytest.approx(energy) and r["tokens"] == tokens and r["token_basis"] == "output"
    assert r["e_tok_boundary"] == "accelerator" and r["devices"] == devices
    assert r["energy_method"] == f"report:{fmt}" and r["inputs"][0]["format"] == fmt
    if duration is None:
        assert r["throughput_tokens_per_s"] is None and r["mean_power_w"] is None
    else:
        assert r["throughput_tokens_per_s"] == pytest.approx(tokens / duration)
        assert r["throughput_per_device_tokens_per_s"] == pytest.approx(tokens / duration / devices)
        assert r["mean_power_per_device_w"] == pytest.approx(energy / duration / devices)
    assert r["warning_count"] == len(r["warnings"])


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_round_trip_through_estimate(tmp_path, capsys, name):
    dest = tmp_path / "measured.toml"
    code, _, err = run(capsys, "calibrate", "--energy", str(DATA / name), "--c-tok", "1.6e10 FLOP/token",
                       "--hardware", "h100-sxm", "--precision", "fp16", "--write-profile", str(dest))
    assert code == 0, err
    text = dest.read_text()
    assert "--energy" in text and f'format = "{E.read_energy(DATA / name).format}"' in text
    r = run_json(capsys, "estimate", "--workload", str(dest))
    assert r["e_tok_at_boundary_j_per_token"] == pytest.approx(E_TOK[name], rel=1e-5)
    assert r["e_tok_input_boundary"] == "accelerator" and r["token_basis"] == "output"
    assert r["c_tok_flop_per_token"] == pytest.approx(1.6e10)


@pytest.mark.parametrize("name,fmt", [(c[0], c[1]) for c in CASES])
def test_a_renamed_file_is_still_detected(tmp_path, capsys, name, fmt):
    for new in ("result", "power.csv", "gpu.prom", "x.toml"):
        dest = tmp_path / new
        shutil.copyfile(DATA / name, dest)
        assert E.read_energy(dest).format == fmt
    r = run_json(capsys, "calibrate", "--energy", str(tmp_path / "power.csv"))
    assert r["e_tok_j_per_token"] == pytest.approx(E_TOK[name], rel=1e-12)


def test_unknown_format_lists_the_formats_and_echoes_nothing(tmp_path, capsys):
    p = tmp_path / "energy.json"
    p.write_text(json.dumps({"secret_key_xyz": "secret value 4242", "energy": 1}))
    err = error(capsys, "calibrate", "--energy", str(p))
    assert str(p) in err and "not a format calibrate knows" in err
    for fmt in E.FORMATS:
        assert fmt in err
    assert "secret" not in err and "4242" not in err
    # a vLLM bench result without energy keys is not an energy report either
    err = error(capsys, "calibrate", "--energy", str(Path(__file__).parent / "data" / "calib_vllm_bench.json"))
    assert "vllm-bench-energy" in err


def test_a_leaderboard_aggregate_points_to_import_mlenergy(capsys):
    err = error(capsys, "calibrate", "--energy", str(Path(__file__).parent / "data" / "mlenergy" / "gpqa.json"))
    assert "import-mlenergy" in err


@pytest.mark.parametrize("name,key,value,named", [
    ("vllm_bench_energy.json", "gpu_energy_j", float("nan"), "gpu_energy_j"),
    ("vllm_bench_energy.json", "gpu_energy_j", -5.0, "gpu_energy_j"),
    ("vllm_bench_energy.json", "total_output_tokens", -1, "total_output_tokens"),
    ("vllm_bench_energy.json", "total_output_tokens", 10.5, "total_output_tokens"),
    ("vllm_record_power.json", "mean_power_w", float("inf"), "mean_power_w"),
    ("mlenergy_run_results.json", "steady_state_energy", -1.0, "steady_state_energy"),
    ("mlenergy_run_results.json", "steady_state_energy_per_token", 0, "steady_state_energy_per_token"),
    ("mlenergy_run_results.json", "num_gpus", "2", "num_gpus"),
])
def test_bad_values_name_the_file_and_key(tmp_path, capsys, name, key, value, named):
    doc = json.loads((DATA / name).read_text())
    doc[key] = value
    p = tmp_path / "report.json"
    p.write_text(json.dumps(doc))  # NaN and Infinity as Python writes them
    err = error(capsys, "calibrate", "--energy", str(p))
    assert named in err and str(p) in err


@pytest.mark.parametrize("section,key", [("performance", "total_energy_j"), ("request_info", "num_requests")])
def test_trtllm_bad_and_missing_nested_keys(tmp_path, capsys, section, key):
    doc = json.loads((DATA / "trtllm_bench_report.json").read_text())
    doc[section][key] = -1
    p = tmp_path / "r.json"
    p.write_text(json.dumps(doc))
    assert f"{section}.{key}" in error(capsys, "calibrate", "--energy", str(p))
    del doc[section][key]
    p.write_text(json.dumps(doc))
    assert f"{section}.{key}" in error(capsys, "calibrate", "--energy", str(p))


def test_tgi_bad_response_is_named(tmp_path, capsys):
    lines = (DATA / "tgi_responses.jsonl").read_text().splitlines()
    bad = json.loads(lines[1])
    bad["details"]["energy_mj"] = float("nan")
    p = tmp_path / "r.jsonl"
    p.write_text("\n".join([lines[0], json.dumps(bad), lines[2]]) + "\n")
    err = error(capsys, "calibrate", "--energy", str(p))
    assert "response 2" in err and "energy_mj" in err
    # a single response and a JSON array of responses read alike
    one = tmp_path / "one.json"
    one.write_text(lines[0])
    assert E.read_energy(one).energy_j == pytest.approx(108.836)
    arr = tmp_path / "arr.json"
    arr.write_text("[" + ",".join(lines) + "]")
    assert E.read_energy(arr).output_tokens == 64


def test_several_results_in_one_file_are_refused(tmp_path, capsys):
    line = (DATA / "sglang_record_power.jsonl").read_text()
    p = tmp_path / "runs.jsonl"
    p.write_text(line + line)
    assert "holds 2 results" in error(capsys, "calibrate", "--energy", str(p))


def test_not_json_gives_a_position(tmp_path, capsys):
    p = tmp_path / "r.json"
    p.write_text('{"gpu_energy_j": 1,, }')
    err = error(capsys, "calibrate", "--energy", str(p))
    assert "not valid JSON" in err and "line 1" in err
    p.write_bytes(b"\xff\xfe")
    assert "UTF-8" in error(capsys, "calibrate", "--energy", str(p))


def test_total_basis_where_input_tokens_are_reported(capsys):
    r = run_json(capsys, "calibrate", "--energy", str(DATA / "vllm_bench_energy.json"), "--token-basis", "total")
    assert r["tokens"] == 8000 + 16000 and r["e_tok_j_per_token"] == pytest.approx(12000.0 / 24000)
    # ML.ENERGY's input tokens cover the whole run, not the steady state: refused, not mixed
    err = error(capsys, "calibrate", "--energy", str(DATA / "mlenergy_run_results.json"), "--token-basis", "total")
    assert "input token" in err


def test_idle_power_over_the_reported_window(capsys):
    r = run_json(capsys, "calibrate", "--energy", str(DATA / "vllm_bench_energy.json"), "--idle-power", "100 W")
    assert r["energy_idle_j"] == pytest.approx(2 * 100.0 * 20.0)
    assert r["e_tok_net_j_per_token"] == pytest.approx((12000.0 - 4000.0) / 8000)
    assert r["e_tok_j_per_token"] == pytest.approx(1.5)  # gross figures unchanged
    assert "no duration" in error(capsys, "calibrate", "--energy", str(DATA / "tgi_responses.jsonl"),
                                  "--idle-power", "100 W")


@pytest.mark.parametrize("extra,words", [
    (["-p", str(Path(__file__).parent / "data" / "calib_nvsmi_units.csv")], "not both"),
    (["--tokens", "1000"], "--tokens"),
    (["--bench", str(Path(__file__).parent / "data" / "calib_vllm_bench.json")], "--bench"),
    (["--start", "30 s"], "--start"),
    (["--no-counter"], "--no-counter"),
])
def test_options_that_do_not_apply_are_refused(capsys, extra, words):
    assert words in error(capsys, "calibrate", "--energy", str(DATA / "vllm_bench_energy.json"), *extra)


def test_neither_power_log_nor_energy(capsys):
    err = error(capsys, "calibrate", "--tokens", "1000")
    assert "--power-log" in err and "--energy" in err


def test_estimators_run_through_the_core(capsys):
    r = run_json(capsys, "calibrate", "--energy", str(DATA / "vllm_bench_energy.json"), "--c-tok",
                 "1.6e10 FLOP/token", "--hardware", "h100-sxm", "--precision", "fp16")
    assert r["k_eff_flop_per_s"] == pytest.approx(400.0 * 1.6e10)  # N r c_tok = 8000 tokens / 20 s x c_tok
    assert r["eta_e"] == pytest.approx(r["e_ref_j_per_token"] / 1.5)
    tgi = run_json(capsys, "calibrate", "--energy", str(DATA / "tgi_responses.jsonl"), "--c-tok",
                   "1.6e10 FLOP/token", "--hardware", "h100-sxm", "--precision", "fp16")
    assert tgi["k_eff_flop_per_s"] is None and tgi["k_peak_flop_per_s"] is None  # no rate, no device count
    assert tgi["eta_e"] == pytest.approx(tgi["e_ref_j_per_token"] / 5.0)


def test_library_call_equals_the_command(capsys):
    cal = calibrate_run(energy=DATA / "trtllm_bench_report.json", hardware="h100-sxm")
    assert cal.to_dict() == run_json(capsys, "calibrate", "--energy", str(DATA / "trtllm_bench_report.json"),
                                     "--hardware", "h100-sxm")
    assert cal.default_name == "meta-llama/Llama-3.1-70B-Instruct (measured)"
    with pytest.raises(InputError, match="--power-log"):
        calibrate_run()


def test_warnings_say_what_the_figures_are(capsys):
    r = run_json(capsys, "calibrate", "--energy", str(DATA / "sglang_record_power.jsonl"))
    text = " ".join(r["warnings"])
    assert "mean sampled power" in text and "only 8 power samples" in text and "CPU power" in text
    r = run_json(capsys, "calibrate", "--energy", str(DATA / "tgi_responses.jsonl"))
    assert any("3 responses summed" in w for w in r["warnings"])
