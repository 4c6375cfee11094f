"""`tokencalc calibrate` / `measure`: parsers, integration, estimators, fragment, NVML stand-in."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import tokencalc.calibration as C
from tokencalc.calibration import nvml as M
from tokencalc.resolve import profiles as P
from cli_runs import run, run_json
from tokencalc.errors import InputError

DATA = Path(__file__).parent / "data"
UNITS = str(DATA / "calib_nvsmi_units.csv")
NOUNITS = str(DATA / "calib_nvsmi_nounits.csv")
GAP = str(DATA / "calib_nvsmi_gap.csv")
DCGM_TS = str(DATA / "calib_dcgm_timestamps.prom")
DCGM_SCRAPES = str(DATA / "calib_dcgm_scrapes.prom")
DCGM_NOTIME = str(DATA / "calib_dcgm_notime.prom")
BENCH = str(DATA / "calib_vllm_bench.json")

# The sample logs: GPU 0 at a constant 300 W and GPU 1 ramping 100 -> 200 W over the
# 10 s run (12:00:00 .. 12:00:10), both idling at 60 W for 5 s either side.
RUN_ENERGY = 300.0 * 10 + (100.0 + 200.0) / 2 * 10  # 4500 J, exact for the trapezoid rule




def write(tmp_path: Path, name: str, lines: list[str]) -> str:
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    return str(p)


def ts(s: float) -> str:
    """nvidia-smi timestamp `s` seconds after 2024/05/01 12:00:00."""
    whole, ms = int(s), round((s - int(s)) * 1000)
    return f"2024/05/01 12:{whole // 60:02d}:{whole % 60:02d}.{ms:03d}"


# ---------------------------------------------------------------------------
# Integration is exact where it should be


def test_constant_power_gives_p_times_t(tmp_path, capsys):
    log = write(tmp_path, "const.csv", ["timestamp, index, power.draw [W]"]
                + [f"{ts(s)}, 0, 250.00 W" for s in range(0, 11)])
    r = run_json(capsys, "calibrate", "-p", log, "--tokens", "1000")
    assert r["energy_j"] == pytest.approx(250.0 * 10)
    assert r["duration_s"] == pytest.approx(10.0)
    assert r["mean_power_w"] == pytest.approx(250.0)
    assert r["e_tok_j_per_token"] == pytest.approx(2.5)
    assert r["throughput_tokens_per_s"] == pytest.approx(100.0)
    assert r["devices"] == 1 and r["warnings"] == [] and r["warning_count"] == 0


def test_linear_ramp_is_exact_on_uneven_samples_and_inside_intervals():
    t = [0.0, 0.3, 1.7, 2.0, 4.9, 8.0, 10.0]
    v = [100 + 10 * x for x in t]
    exact = lambda a, b: 100 * (b - a) + 5 * (b * b - a * a)  # noqa: E731
    assert C.trapezoid(t, v, 0.0, 10.0) == pytest.approx(exact(0, 10))
    assert C.trapezoid(t, v, 2.5, 7.25) == pytest.approx(exact(2.5, 7.25))
    assert C.trapezoid(t, v, 0.1, 0.2) == pytest.approx(exact(0.1, 0.2))


def test_multi_gpu_sum_with_and_without_units(capsys):
    a = run_json(capsys, "calibrate", "-p", UNITS, "--bench", BENCH)
    b = run_json(capsys, "calibrate", "-p", NOUNITS, "--bench", BENCH)
    for r in (a, b):
        assert r["devices"] == 2
        assert r["energy_j"] == pytest.approx(RUN_ENERGY)
        assert [d["energy_j"] for d in r["device_details"]] == pytest.approx([3000.0, 1500.0])
        assert r["mean_power_w"] == pytest.approx(450.0)
        assert r["tokens"] == 4500 and r["token_basis"] == "output"
        assert r["e_tok_j_per_token"] == pytest.approx(1.0)
        assert r["e_tok_boundary"] == "accelerator"
        assert r["throughput_per_device_tokens_per_s"] == pytest.approx(225.0)
        assert r["window"]["source"] == "bench"
        assert r["gpu_utilization_mean"] == pytest.approx((0.87 + 0.64) / 2)
        assert r["utilization"] is None  # nvidia-smi's utilization.gpu is not SM activity
    assert a["inputs"][0]["sha256"] != b["inputs"][0]["sha256"]


def test_total_token_basis_from_bench(capsys):
    r = run_json(capsys, "calibrate", "-p", UNITS, "--bench", BENCH, "--token-basis", "total")
    assert r["tokens"] == 9000 + 4500
    assert r["e_tok_j_per_token"] == pytest.approx(RUN_ENERGY / 13500)


# ---------------------------------------------------------------------------
# Windows


def test_whole_log_without_window(capsys):
    r = run_json(capsys, "calibrate", "-p", UNITS, "--tokens", "4500")
    # idle 60 W for 4 s, a 1 s edge ramp, the run, a 1 s edge ramp, 4 s idle
    gpu0 = 240 + 180 + 3000 + 180 + 240
    gpu1 = 240 + 80 + 1500 + 130 + 240
    assert r["duration_s"] == pytest.approx(20.0)
    assert r["energy_j"] == pytest.approx(gpu0 + gpu1)
    assert r["window"]["source"] == "log"


@pytest.mark.parametrize("start,end", [
    ("5 s", "15 s"),                                     # offsets from the first sample
    ("+5 s", "-5 s"),                                    # negative: back from the last sample
    ("2024-05-01T12:00:00", "2024/05/01 12:00:10.000"),  # ISO and nvidia-smi style
    ("12:00:00", "12:00:10"),                            # time of day, on the log's date
])
def test_window_trimming(capsys, start, end):
    r = run_json(capsys, "calibrate", "-p", UNITS, "--tokens", "4500", "--start", start, "--end", end)
    assert r["duration_s"] == pytest.approx(10.0)
    assert r["energy_j"] == pytest.approx(RUN_ENERGY)
    assert r["window"] == {"start": "2024-05-01T12:00:00.000", "end": "2024-05-01T12:00:10.000",
                           "source": "cli", "idle_start": None, "idle_end": None}


def test_window_inside_intervals_interpolates(capsys):
    r = run_json(capsys, "calibrate", "-p", UNITS, "--start", "12:00:02.5", "--end", "12:00:07.25")
    gpu1 = 100 * 4.75 + 5 * (7.25 ** 2 - 2.5 ** 2)
    assert r["energy_j"] == pytest.approx(300 * 4.75 + gpu1)


def test_window_beyond_data_warns_and_counts_only_coverage(capsys):
    r = run_json(capsys, "calibrate", "-p", UNITS, "--start", "12:00:10", "--end", "12:00:30")
    assert r["duration_s"] == pytest.approx(20.0)
    assert any("covers" in w for w in r["warnings"])
    assert r["warning_count"] == len(r["warnings"]) == 2  # one per GPU


def test_bad_windows_exit_2(capsys):
    code, _, err = run(capsys, "calibrate", "-p", UNITS, "--start", "12:00:10", "--end", "12:00:05")
    assert code == 2 and "inverted" in err
    code, _, err = run(capsys, "calibrate", "-p", UNITS, "--start", "13:00:00", "--end", "13:00:05")
    assert code == 2 and "outside the logs" in err
    code, _, err = run(capsys, "calibrate", "-p", UNITS, "--start", "soon")
    assert code == 2 and "--start" in err


# ---------------------------------------------------------------------------
# DCGM


@pytest.mark.parametrize("args", [[DCGM_TS], [DCGM_SCRAPES], [DCGM_NOTIME, "--interval", "1 s"]])
def test_dcgm_counter_delta_preferred(capsys, args):
    # GPU 1's counter advances 160 J/s while its power samples integrate to 1500 J
    r = run_json(capsys, "calibrate", "-p", *args, "--tokens", "4600")
    assert r["devices"] == 2
    assert r["energy_method"] == "counter"
    assert [d["energy_j"] for d in r["device_details"]] == pytest.approx([3000.0, 1600.0])
    assert r["e_tok_j_per_token"] == pytest.approx(1.0)
    assert r["sm_active_mean"] == pytest.approx(0.7)
    assert r["utilization"] == pytest.approx(0.7)
    assert {d["id"] for d in r["device_details"]} == {"node-1/0", "node-1/1"}
    assert r["device_details"][0]["uuid"].startswith("GPU-")


def test_dcgm_no_counter_integrates_power(capsys):
    r = run_json(capsys, "calibrate", "-p", DCGM_TS, "--no-counter", "--tokens", "4500")
    assert r["energy_method"] == "trapezoid"
    assert r["energy_j"] == pytest.approx(RUN_ENERGY)


def test_dcgm_sm_active_reference_scales_u(capsys):
    r = run_json(capsys, "calibrate", "-p", DCGM_TS, "--sm-active-reference", "0.875")
    assert r["utilization"] == pytest.approx(0.8)


def test_counter_reset_falls_back_to_power(tmp_path, capsys):
    lines = []
    for s in range(0, 11):
        t = 1714564800000 + 1000 * s
        e = 5_000_000 + 200_000 * s if s < 5 else 200_000 * (s - 5)  # reset at s = 5
        lines += [f'DCGM_FI_DEV_POWER_USAGE{{gpu="0",UUID="GPU-a"}} 200.0 {t}',
                  f'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{{gpu="0",UUID="GPU-a"}} {e} {t}']
    log = write(tmp_path, "reset.prom", lines)
    r = run_json(capsys, "calibrate", "-p", log)
    assert r["energy_method"] == "trapezoid"
    assert r["energy_j"] == pytest.approx(2000.0)
    assert any("backwards" in w for w in r["warnings"])


def test_naive_and_absolute_clocks_need_an_offset(capsys):
    code, _, err = run(capsys, "calibrate", "-p", UNITS, "-p", DCGM_TS)
    assert code == 2 and "--utc-offset" in err
    r = run_json(capsys, "calibrate", "-p", UNITS, "-p", DCGM_TS, "--utc-offset", "+00:00")
    assert r["devices"] == 4
    assert r["duration_s"] == pytest.approx(10.0)  # where all four overlap
    assert r["energy_j"] == pytest.approx(RUN_ENERGY + 4600.0)
    assert {d["id"] for d in r["device_details"]} == {
        "calib_nvsmi_units.csv:0", "calib_nvsmi_units.csv:1",
        "calib_dcgm_timestamps.prom:node-1/0", "calib_dcgm_timestamps.prom:node-1/1"}


# ---------------------------------------------------------------------------
# Idle subtraction, warnings


def test_idle_power_declared(capsys):
    r = run_json(capsys, "calibrate", "-p", UNITS, "--bench", BENCH, "--idle-power", "60 W")
    assert r["energy_j"] == pytest.approx(RUN_ENERGY)  # gross figures untouched
    assert r["e_tok_j_per_token"] == pytest.approx(1.0)
    assert r["idle_method"] == "declared"
    assert r["idle_power_w"] == pytest.approx(120.0)
    assert r["energy_idle_j"] == pytest.approx(1200.0)
    assert r["energy_net_j"] == pytest.approx(3300.0)
    assert r["e_tok_net_j_per_token"] == pytest.approx(3300.0 / 4500)


@pytest.mark.parametrize("idle", ["11:59:55..11:59:59", "11:59:55:11:59:59", "0 s..4 s",
                                  "2024-05-01T11:59:55:2024-05-01T11:59:59"])
def test_idle_window_measured(capsys, idle):
    r = run_json(capsys, "calibrate", "-p", UNITS, "--bench", BENCH, "--idle-window", idle)
    assert r["idle_method"] == "measured"
    assert r["idle_power_w"] == pytest.approx(120.0)
    assert r["energy_net_j"] == pytest.approx(3300.0)
    assert r["window"]["idle_start"] == "2024-05-01T11:59:55.000"


def test_idle_options_conflict_and_bad_values(capsys):
    code, _, err = run(capsys, "calibrate", "-p", UNITS, "--idle-power", "60 W", "--idle-window", "0 s..4 s")
    assert code == 2 and "not both" in err
    code, _, err = run(capsys, "calibrate", "-p", UNITS, "--idle-power", "60 J")
    assert code == 2 and "--idle-power" in err
    code, _, err = run(capsys, "calibrate", "-p", UNITS, "--idle-window", "later")
    assert code == 2 and "--idle-window" in err


def test_gaps_and_na_readings_are_counted_warnings(capsys):
    r = run_json(capsys, "calibrate", "-p", GAP, "--tokens", "100")
    assert r["energy_j"] == pytest.approx(250.0 * 16)  # constant power: the bridge is exact
    assert r["warning_count"] == 2
    assert any("gap" in w and "7 s" in w for w in r["warnings"])
    assert any("[N/A]" in w for w in r["warnings"])
    code, _, err = run(capsys, "calibrate", "-p", GAP)
    assert code == 0 and "tokencalc: warning:" in err and "gap" in err


def test_duplicate_timestamps_dropped_with_warning(tmp_path, capsys):
    log = write(tmp_path, "dup.csv", ["timestamp, index, power.draw [W]", f"{ts(0)}, 0, 100 W",
                                      f"{ts(0)}, 0, 100 W", f"{ts(1)}, 0, 100 W"])
    r = run_json(capsys, "calibrate", "-p", log)
    assert r["energy_j"] == pytest.approx(100.0)
    assert r["warning_count"] == 1 and "repeating" in r["warnings"][0]


def test_bench_duration_mismatch_warns(capsys):
    r = run_json(capsys, "calibrate", "-p", UNITS, "--bench", BENCH, "--start", "12:00:00", "--end", "12:00:05")
    assert any("benchmark ran" in w for w in r["warnings"])


# ---------------------------------------------------------------------------
# Estimators against profiles


def test_ratio_estimators_with_hardware_and_c_tok(capsys):
    r = run_json(capsys, "calibrate", "-p", DCGM_TS, "--tokens", "4600", "--c-tok", "1.6e10 FLOP/token",
                 "--hardware", "h100-sxm", "--precision", "fp16")
    hw = P.load("h100-sxm", "hardware")
    peak, tdp = hw.get("peak_flops.fp16"), hw.get("tdp")
    k_eff = 460.0 * 1.6e10
    assert r["k_eff_flop_per_s"] == pytest.approx(k_eff)
    assert r["k_peak_flop_per_s"] == pytest.approx(2 * peak)
    assert r["eta_k"] == pytest.approx(k_eff / (2 * peak))
    assert r["e_ref_j_per_token"] == pytest.approx(1.6e10 * tdp / peak)
    assert r["eta_e"] == pytest.approx(1.6e10 * tdp / peak / 1.0)
    assert r["tdp_w"] == pytest.approx(700.0)


def test_c_tok_from_workload_profile(capsys):
    wl = P.load("dense-65b-fp16", "workload")
    expected = 2 * wl.get("model.active_params") + 2 * wl.get("model.n_layers") * wl.get(
        "operating_point.context_length") * wl.get("model.d_attn")
    r = run_json(capsys, "calibrate", "-p", UNITS, "--bench", BENCH, "--workload", "dense-65b-fp16",
                 "--hardware", "h100-sxm")
    assert r["c_tok_flop_per_token"] == pytest.approx(expected)
    assert r["precision"] == "fp16"  # the workload's operating point
    assert r["k_eff_flop_per_s"] == pytest.approx(450.0 * expected)


def write_workload(tmp_path: Path, name: str, model: str) -> str:
    """A small workload profile with the given [model] lines (precision fp16)."""
    p = tmp_path / f"{name}.toml"
    p.write_text(f'kind = "workload"\nname = "{name}"\n\n[model]\n{model}\n\n'
                 '[operating_point]\nprecision = "fp16"\n')
    return str(p)


def core_figures(n_dev: int, rate_per_device: float, e_tok: float, **refs: str) -> dict:
    """What the core computes for a measurement: resolve the profiles, then `tokencalc.core.evaluate`."""
    from dataclasses import replace

    from tokencalc.core import evaluate
    from tokencalc.resolve.scenario import Request, resolve

    inputs = resolve(Request(bare=True, refs=refs)).inputs
    return evaluate(replace(inputs, devices=n_dev, throughput_per_device=rate_per_device, e_tok=e_tok,
                            e_tok_boundary="accelerator"))


def test_active_params_alone_give_no_c_tok(tmp_path, capsys):
    # c_tok is 2 N_active + 2 n_layers n_ctx d_attn or nothing: never the attention term silently dropped
    wl = write_workload(tmp_path, "partial", "active_params = 8e9")
    r = run_json(capsys, "calibrate", "-p", UNITS, "--bench", BENCH, "--workload", wl, "--hardware", "h100-sxm")
    assert r["c_tok_flop_per_token"] is None and r["c_tok_source"] is None
    assert r["k_eff_flop_per_s"] is None and r["eta_k"] is None
    assert r["e_ref_j_per_token"] is None and r["eta_e"] is None
    assert r["k_peak_flop_per_s"] == pytest.approx(2 * P.load("h100-sxm", "hardware").get("peak_flops.fp16"))
    assert r["e_tok_j_per_token"] == pytest.approx(1.0)
    assert any("workload partial gives no complete c_tok" in w for w in r["warnings"])
    assert core_figures(2, 225.0, 1.0, workload=wl, hardware="h100-sxm")["c_tok_base"] is None
    full = write_workload(tmp_path, "given", 'c_tok = "1.6e10 FLOP/token"')
    r = run_json(capsys, "calibrate", "-p", UNITS, "--bench", BENCH, "--workload", full)
    assert r["c_tok_flop_per_token"] == pytest.approx(1.6e10)
    assert r["c_tok_source"] == "workload given: model.c_tok"


@pytest.mark.parametrize("workload,hardware", [("dense-65b-fp16", "h100-sxm"), ("deepseek-v3", "h200-sxm"),
                                               ("llama-3.1-8b", "a100-sxm-80gb")])
def test_estimators_equal_the_core(capsys, workload, hardware):
    r = run_json(capsys, "calibrate", "-p", UNITS, "--bench", BENCH, "--workload", workload, "--hardware", hardware)
    core = core_figures(r["devices"], r["throughput_per_device_tokens_per_s"], r["e_tok_j_per_token"],
                        workload=workload, hardware=hardware)
    assert r["c_tok_flop_per_token"] == core["c_tok_base"] is not None
    assert r["c_tok_source"] == f"workload {workload}: 2 N_active + 2 n_layers n_ctx d_attn"
    assert core["k_eff_convention"] == "realized"
    assert r["k_eff_flop_per_s"] == core["k_eff"]
    assert r["k_peak_flop_per_s"] == core["k_peak"]
    assert r["eta_k"] == core["eta_k"] is not None
    assert r["e_ref_j_per_token"] == core["e_ref"]
    assert r["eta_e"] == core["eta_e"] is not None


def test_estimators_equal_estimate(cli):
    r = cli("calibrate", "-p", UNITS, "--bench", BENCH, "--workload", "dense-65b-fp16", "--hardware", "h100-sxm",
            "-f", "json").json()
    est = cli("estimate", "--bare", "--workload", "dense-65b-fp16", "--hardware", "h100-sxm", "--devices", "2",
              "--throughput-per-device", f"{r['throughput_per_device_tokens_per_s']!r} token/s",
              "--e-tok", f"{r['e_tok_j_per_token']!r} J/token", "--e-tok-boundary", "accelerator", "-f", "json")
    assert est.code == 0, est.err
    e = est.json()
    assert r["c_tok_flop_per_token"] == pytest.approx(e["c_tok_base_flop_per_token"], rel=1e-12)
    assert r["eta_k"] == pytest.approx(e["eta_k"], rel=1e-12)
    assert r["eta_e"] == pytest.approx(e["eta_e"], rel=1e-12)


def test_no_tokens_no_modeled_k_eff_and_no_profile_measurements(capsys):
    # dense-65b-fp16 carries a measured e_tok and the roofline inputs; neither may stand in for the measurement
    r = run_json(capsys, "calibrate", "-p", DCGM_TS, "--workload", "dense-65b-fp16", "--hardware", "h100-sxm")
    assert r["tokens"] is None and r["e_tok_j_per_token"] is None
    assert r["c_tok_flop_per_token"] is not None and r["e_ref_j_per_token"] is not None
    assert r["k_eff_flop_per_s"] is None and r["eta_k"] is None and r["eta_e"] is None


def test_hardware_without_precision_warns(capsys):
    r = run_json(capsys, "calibrate", "-p", UNITS, "--bench", BENCH, "--c-tok", "1.6e10 FLOP/token",
                 "--hardware", "h100-sxm")
    assert r["hardware"] == "h100-sxm" and r["tdp_w"] == pytest.approx(700.0) and r["precision"] is None
    assert r["peak_flops_per_device_flop_per_s"] is None and r["k_peak_flop_per_s"] is None
    assert r["k_eff_flop_per_s"] == pytest.approx(450.0 * 1.6e10)
    assert r["eta_k"] is None and r["eta_e"] is None
    assert any(w.startswith("no --precision: peak_flops of h100-sxm not chosen") and "fp16" in w
               for w in r["warnings"])


def test_library_run_equals_the_command(tmp_path, capsys):
    from tokencalc.calibration.run import run as calibrate_run

    flags = ["--bench", BENCH, "--c-tok", "1.6e10 FLOP/token", "--hardware", "h100-sxm", "--precision", "fp16",
             "--idle-power", "60 W"]
    cal = calibrate_run(UNITS, bench=BENCH, c_tok="1.6e10 FLOP/token", hardware="h100-sxm", precision="fp16",
                        idle_power="60 W")
    assert cal.to_dict() == run_json(capsys, "calibrate", "-p", UNITS, *flags)
    assert cal.to_dict() is not cal.result
    dest = tmp_path / "m.toml"
    code, _, err = run(capsys, "calibrate", "-p", UNITS, *flags, "--write-profile", str(dest))
    assert code == 0, err
    assert cal.fragment() == dest.read_text()
    assert cal.command.startswith("tokencalc calibrate --power-log ")
    # numbers are SI values, as in the Python API
    assert calibrate_run([UNITS], bench=BENCH, idle_power=60.0).result["energy_idle_j"] == pytest.approx(1200.0)


def test_unknown_precision_and_bad_c_tok_exit_2(capsys):
    code, _, err = run(capsys, "calibrate", "-p", UNITS, "--hardware", "h100-sxm", "--precision", "fp3")
    assert code == 2 and "fp3" in err and "fp16" in err
    code, _, err = run(capsys, "calibrate", "-p", UNITS, "--c-tok", "1e10 FLOP/s")
    assert code == 2 and "--c-tok" in err


# ---------------------------------------------------------------------------
# Bad input: exit 2, file and line named


@pytest.mark.parametrize("name,line,words", [
    ("calib_bad_fields.csv", 3, "expected 3 comma-separated values"),
    ("calib_bad_mixed_units.csv", 3, "mixed units"),
    ("calib_bad_column.csv", 1, "unknown column 'Power Draw [W]'"),
    ("calib_bad_backwards.csv", 4, "backwards"),
    ("calib_bad_timestamp.csv", 3, "YYYY/MM/DD HH:MM:SS.mmm"),
    ("calib_bad_number.csv", 3, "expected a number in W"),
    ("calib_bad_unit.csv", 1, "expected the unit [W]"),
    ("calib_bad_noheader.csv", 1, "no header line"),
    ("calib_bad_dcgm_line.prom", 7, "malformed sample line"),
    ("calib_bad_dcgm_nogpu.prom", 4, 'no gpu="N" label'),
    ("calib_bad_dcgm_notime.prom", 4, "no timestamp"),
])
def test_bad_logs_exit_2_naming_file_and_line(capsys, name, line, words):
    code, out, err = run(capsys, "calibrate", "-p", str(DATA / name), "--tokens", "1")
    assert code == 2, err
    assert out == ""
    assert f"line {line} in {DATA / name}" in err
    assert words in err
    assert err.count("\n") == 1 and err.startswith("tokencalc: error: ")


def test_near_miss_column_suggests(tmp_path, capsys):
    log = write(tmp_path, "typo.csv", ["timestamp, index, power.drawn [W]", f"{ts(0)}, 0, 1 W"])
    code, _, err = run(capsys, "calibrate", "-p", log)
    assert code == 2 and "did you mean 'power.draw'" in err and "line 1" in err


def test_sm_active_percentage_rejected(tmp_path, capsys):
    log = write(tmp_path, "pct.prom", ['DCGM_FI_PROF_SM_ACTIVE{gpu="0"} 65 1714564800000'])
    code, _, err = run(capsys, "calibrate", "-p", log)
    assert code == 2 and "line 1" in err and "ratio 0..1" in err


@pytest.mark.parametrize("name,words", [
    ("calib_bad_bench.json", "line 5 in"),
    ("calib_bad_bench_keys.json", "total_output_tokens in"),
])
def test_bad_bench_exit_2(capsys, name, words):
    code, _, err = run(capsys, "calibrate", "-p", UNITS, "--bench", str(DATA / name))
    assert code == 2 and words in err and name in err


def test_tokens_and_bench_conflict_and_bad_tokens(capsys):
    code, _, err = run(capsys, "calibrate", "-p", UNITS, "--bench", BENCH, "--tokens", "5")
    assert code == 2 and "not both" in err
    code, _, err = run(capsys, "calibrate", "-p", UNITS, "--tokens", "12.5")
    assert code == 2 and "--tokens" in err


def test_missing_file_exit_2(capsys):
    code, _, err = run(capsys, "calibrate", "-p", "nope.csv")
    assert code == 2 and "nope.csv" in err


# ---------------------------------------------------------------------------
# Output and the profile fragment


def test_json_is_sorted_and_table_renders(capsys):
    code, out, _ = run(capsys, "calibrate", "-p", UNITS, "--bench", BENCH, "--format", "json")
    data = json.loads(out)
    assert out == json.dumps(data, sort_keys=True, indent=2) + "\n"
    for key in ("energy_j", "duration_s", "mean_power_w", "devices", "tokens", "e_tok_j_per_token",
                "e_tok_boundary", "token_basis", "throughput_tokens_per_s", "k_eff_flop_per_s", "eta_k",
                "eta_e", "utilization", "energy_idle_j", "e_tok_net_j_per_token", "warnings"):
        assert key in data
    code, out, _ = run(capsys, "calibrate", "-p", UNITS, "--bench", BENCH)
    assert code == 0 and "e_tok" in out and "J/token" in out and "4,500" in out


def test_written_profile_validates_and_is_not_overwritten(tmp_path, capsys):
    dest = tmp_path / "measured.toml"
    args = ["calibrate", "-p", DCGM_TS, "--tokens", "4600", "--c-tok", "1.6e10 FLOP/token",
            "--hardware", "h100-sxm", "--precision", "fp16", "--write-profile", str(dest)]
    code, _, err = run(capsys, *args)
    assert code == 0, err
    prof = P.load_path(dest, "workload")
    assert prof.get("measured.e_tok") == pytest.approx(1.0)
    assert prof.get("measured.e_tok_boundary") == "accelerator"
    assert prof.get("measured.token_basis") == "output"
    assert prof.get("measured.throughput_per_device") == pytest.approx(230.0)
    assert prof.get("measured.utilization") == pytest.approx(0.7)
    assert prof.get("model.c_tok") == pytest.approx(1.6e10)
    prov = prof.raw["measured"]["provenance"]
    assert prov["inputs"][0]["sha256"] == C.sha256_of(Path(DCGM_TS).read_bytes())
    assert prov["window_start"].startswith("2024-05-01T12:00:00")
    assert prov["tool"].startswith("tokencalc ")
    assert "tokencalc calibrate" in prof.raw["sources"]["measured"]
    before = dest.read_bytes()
    code, _, err = run(capsys, *args)
    assert code == 2 and "the file exists" in err and "--force" in err
    assert dest.read_bytes() == before
    code, _, err = run(capsys, *args, "--force", "--name", "renamed")
    assert code == 0 and tomllib.loads(dest.read_text())["name"] == "renamed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["measured.toml"]  # no temp files left


def test_write_profile_needs_tokens(tmp_path, capsys):
    code, _, err = run(capsys, "calibrate", "-p", UNITS, "--write-profile", str(tmp_path / "x.toml"))
    assert code == 2 and "token count" in err
    assert not (tmp_path / "x.toml").exists()


def test_fragment_round_trips_through_estimate(tmp_path, capsys):
    dest = tmp_path / "measured.toml"
    code, _, err = run(capsys, "calibrate", "-p", UNITS, "--bench", BENCH, "--c-tok", "1.6e10 FLOP/token",
                       "--hardware", "h100-sxm", "--precision", "fp16", "--write-profile", str(dest))
    assert code == 0, err
    r = run_json(capsys, "estimate", "--workload", str(dest))
    assert r["c_tok_flop_per_token"] == pytest.approx(1.6e10)
    assert r["token_basis"] == "output"
    assert r["e_tok_at_boundary_j_per_token"] == pytest.approx(1.0)
    assert r["e_tok_input_boundary"] == "accelerator"


# ---------------------------------------------------------------------------
# measure: NVML stand-in


class FakeHandle:
    def __init__(self, watts: float) -> None:
        self.watts = watts


class FakeNVML:
    """pynvml-like: power in mW, a total-energy counter in mJ advancing with `clock`."""

    def __init__(self, watts: list[float], clock, counter: bool = True) -> None:
        self.handles = [FakeHandle(w) for w in watts]
        self.clock = clock
        self.t0 = clock()
        self.counter = counter
        self.shutdown = False

    def nvmlInit(self):  # noqa: N802 - the pynvml names
        pass

    def nvmlShutdown(self):  # noqa: N802
        self.shutdown = True

    def nvmlDeviceGetCount(self):  # noqa: N802
        return len(self.handles)

    def nvmlDeviceGetHandleByIndex(self, i):  # noqa: N802
        return self.handles[i]

    def nvmlDeviceGetUUID(self, h):  # noqa: N802
        return f"GPU-fake-{self.handles.index(h)}"

    def nvmlDeviceGetPowerUsage(self, h):  # noqa: N802
        return int(h.watts * 1000)

    def nvmlDeviceGetTotalEnergyConsumption(self, h):  # noqa: N802
        if not self.counter:
            raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")
        return round(h.watts * (self.clock() - self.t0) * 1000)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_714_564_800.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, dt: float) -> None:
        self.now += dt


@pytest.mark.parametrize("counter", [True, False])
def test_sampler_loop_with_stand_in(counter):
    clock = FakeClock()
    nvml = FakeNVML([300.0, 150.0], clock, counter=counter)
    sampler = M.Sampler(nvml, [0, 1], clock)
    ticks = iter(range(1000))
    first, last = M.sample_while(sampler, lambda: next(ticks) < 20, 0.5, sleep=clock.sleep, monotonic=clock)
    assert last - first == pytest.approx(10.5)  # 20 samples 0.5 s apart, then the closing one
    devs = sampler.devices
    assert len(devs["0"].channels[C.POWER].t) == 22
    assert (C.ENERGY in devs["0"].channels) is counter
    r = C.calibrate(devs, C.Window(first, last, "measure"), 4500, "output", clock=C.Clock("+00:00"))
    assert r["energy_method"] == ("counter" if counter else "trapezoid")
    assert r["energy_j"] == pytest.approx(450.0 * 10.5)
    assert r["e_tok_j_per_token"] == pytest.approx(1.05)
    assert devs["1"].uuid == "GPU-fake-1"


def test_run_command_with_stand_in_and_fake_process():
    clock = FakeClock()
    nvml = FakeNVML([200.0], clock)

    class Proc:
        polls = 0

        def poll(self):
            Proc.polls += 1
            return None if Proc.polls < 10 else 0

        def wait(self):
            return 0

        def kill(self):  # pragma: no cover - only on errors
            pass

    devices, first, last, code, warnings = M.run_command(["serve"], nvml, interval=1.0, clock=clock,
                                                         sleep=clock.sleep, popen=lambda cmd: Proc())
    assert code == 0 and warnings == []
    assert last > first
    e = C.integrate_device(devices["0"], first, last, [])
    assert e.method == "counter" and e.energy_j == pytest.approx(200.0 * (last - first))
    assert "power.draw [W]" in M.to_csv(devices).splitlines()[0]
    with pytest.raises(InputError, match="devices 0..0"):
        M.run_command(["x"], nvml, interval=1.0, indices=[3])


def test_measure_cli_drives_stand_in(tmp_path, capsys, monkeypatch):
    import time

    nvml = FakeNVML([250.0, 250.0], time.time)
    monkeypatch.setattr(M, "load_nvml", lambda: nvml)
    log = tmp_path / "samples.csv"
    dest = tmp_path / "m.toml"
    code, out, err = run(capsys, "measure", "--interval", "20 ms", "--tokens", "1000", "--save-log", str(log),
                         "--write-profile", str(dest), "--format", "json",
                         "--", sys.executable, "-c", "import time; time.sleep(0.3)")
    assert code == 0, err
    r = json.loads(out)
    assert r["devices"] == 2 and r["energy_method"] == "counter"
    assert r["window"]["source"] == "measure"
    assert r["duration_s"] >= 0.3
    assert r["mean_power_w"] == pytest.approx(500.0, rel=1e-3)
    assert r["e_tok_j_per_token"] == pytest.approx(500.0 * r["duration_s"] / 1000, rel=1e-3)
    assert nvml.shutdown
    assert P.load_path(dest, "workload").get("measured.device_power") == pytest.approx(250.0, rel=1e-3)
    again = run_json(capsys, "calibrate", "-p", str(log), "--tokens", "1000")  # the saved log reads back
    assert again["energy_j"] == pytest.approx(r["energy_j"], rel=0.05)


def test_measure_reports_failing_command(capsys, monkeypatch):
    import time

    monkeypatch.setattr(M, "load_nvml", lambda: FakeNVML([100.0], time.time))
    code, _, err = run(capsys, "measure", "--interval", "10 ms", "--", sys.executable, "-c", "raise SystemExit(3)")
    assert code == 2 and "status 3" in err


def test_measure_without_gpu_exits_2_before_running(tmp_path, capsys):
    marker = tmp_path / "ran"
    code, out, err = run(capsys, "measure", "--tokens", "1", "--", sys.executable, "-c",
                         f"open({str(marker)!r}, 'w').close()")
    assert code == 2
    assert out == ""
    assert "NVML" in err and ("nvidia-ml-py" in err or "no NVIDIA GPU" in err)
    assert not marker.exists()


def test_measure_refuses_before_running(tmp_path, capsys, monkeypatch):
    import time

    monkeypatch.setattr(M, "load_nvml", lambda: FakeNVML([100.0], time.time))
    marker = tmp_path / "ran"
    cmd = ["--", sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"]
    log = tmp_path / "samples.csv"
    log.write_text("keep\n")
    code, _, err = run(capsys, "measure", "--save-log", str(log), *cmd)
    assert code == 2 and "--save-log" in err and "--force" in err
    code, _, err = run(capsys, "measure", "--interval", "0 s", *cmd)
    assert code == 2 and "--interval" in err
    code, _, err = run(capsys, "measure", "--workload", "nope", *cmd)
    assert code == 2 and "nope" in err
    assert not marker.exists() and log.read_text() == "keep\n"


def test_measure_without_command(capsys):
    code, _, err = run(capsys, "measure")
    assert code == 2 and "no command" in err


def test_no_gpu_backend_message():
    class Broken:
        def nvmlInit(self):  # noqa: N802
            raise OSError("libnvidia-ml.so.1: cannot open shared object file")

    with pytest.raises(InputError, match="no NVIDIA GPU available"):
        M.init(Broken())


def test_commands_have_help(capsys):
    for cmd in ("calibrate", "measure"):
        code, out, _ = run(capsys, cmd, "--help")
        assert code == 0 and "--tokens" in out and "--write-profile" in out


@pytest.mark.parametrize("stamp", ["99999999999999999999", "-99999999999999999"])
def test_a_dcgm_timestamp_beyond_any_calendar_is_an_input_error(tmp_path, capsys, stamp):
    # Found by the fuzz harness: datetime.fromtimestamp raised OSError/OverflowError (exit 1).
    log = write(tmp_path, "d.prom", [f'DCGM_FI_DEV_POWER_USAGE{{gpu="0"}} 300.0 {stamp}',
                                     f'DCGM_FI_DEV_POWER_USAGE{{gpu="0"}} 300.0 {stamp}1'])
    code, _, err = run(capsys, "calibrate", "-p", log, "--tokens", "1000")
    assert code == 2 and err.count("\n") == 1 and err.startswith("tokencalc: error: line 1 in ")
    assert "DCGM_FI_DEV_POWER_USAGE" in err and "milliseconds since 1970" in err


def test_a_bench_file_nested_too_deeply_is_an_input_error(tmp_path, capsys):
    # Found by the fuzz harness: json.loads raised RecursionError (exit 1).
    bench = tmp_path / "bench.json"
    bench.write_text('{"duration": ' + "[" * 100_000 + "]" * 100_000 + "}")
    code, _, err = run(capsys, "calibrate", "-p", UNITS, "--bench", str(bench))
    assert code == 2 and err.count("\n") == 1 and "bench.json" in err and "nested too deeply" in err
