"""Measured operating curves: log-log interpolation, the batch search, the `[[measured.curve]]` schema,
resolution onto `Inputs.curves`, and the ML.ENERGY importer (on a made-up fixture, and on the real
leaderboard subset when it is present)."""

from __future__ import annotations

import json
import math
import random
import shutil
import os
from pathlib import Path

import pytest

from tokencalc.core.curves import Curve, CurvePoint, at, best, select
from tokencalc.resolve import profiles as P
from tokencalc.resolve.curves import curves_of
from tokencalc.resolve.scenario import Request, resolve

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "data" / "mlenergy"
# The leaderboard's own files live outside the repository: only one test uses them, from MLENERGY_DATA.
REAL = Path(os.environ.get("MLENERGY_DATA", "/nonexistent"))
LLAMA_8B = "meta-llama/Llama-3.1-8B-Instruct"


def curve(rows, hardware="h100-sxm", d=1, precision="bf16") -> Curve:
    return Curve(hardware, d, precision, tuple(CurvePoint(*r) for r in rows), "test")


def random_curve(rng: random.Random, n: int, monotone: bool = True) -> Curve:
    batches = sorted(rng.sample(range(1, 4000), n))
    rows, tp, pw, itl = [], 100.0, 300.0, 0.005
    for b in batches:
        step = (lambda: rng.uniform(1.0, 1.8)) if monotone else (lambda: rng.uniform(0.6, 1.8))
        tp, pw, itl = tp * step(), pw * step(), itl * step()
        rows.append((float(b), tp, pw, itl))
    return curve(rows)


# ---------------------------------------------------------------------------
# Interpolation

def test_exact_at_every_measured_point():
    rng = random.Random(1)
    for _ in range(20):
        c = random_curve(rng, rng.randint(1, 9), monotone=False)
        for p in c.points:
            got, how = at(c, p.batch_size)
            assert how == "measured" and got == p


def test_interpolated_between_points_in_log_log():
    c = curve([(8, 1000, 400, 0.008), (32, 4000, 500, 0.012)])
    p, how = at(c, 16)
    assert how == "interpolated" and p.batch_size == 16
    # Halfway in log batch: the geometric mean of the two values.
    assert p.throughput_per_device == pytest.approx(2000)
    assert p.device_power == pytest.approx(math.sqrt(400 * 500))
    assert p.itl == pytest.approx(math.sqrt(0.008 * 0.012))


def test_monotone_between_points_when_the_data_are_monotone():
    rng = random.Random(2)
    for _ in range(20):
        c = random_curve(rng, rng.randint(2, 8))
        lo, hi = c.batch_range
        grid = [lo * (hi / lo) ** (k / 2000) for k in range(2001)]
        got = [at(c, b)[0] for b in grid]
        for attr in ("throughput_per_device", "device_power", "itl"):
            values = [getattr(p, attr) for p in got]
            assert all(b >= a * (1 - 1e-12) for a, b in zip(values, values[1:])), attr


def test_between_two_points_the_value_stays_between_them_even_when_the_data_fall():
    c = curve([(8, 5000, 600, 0.009), (128, 4500, 450, 0.02), (256, 7600, 540, 0.03)])
    for b in (9, 20, 64, 100, 127):
        p, _ = at(c, b)
        assert 4500 <= p.throughput_per_device <= 5000 and 450 <= p.device_power <= 600


@pytest.mark.parametrize("batch", [7.9, 1, 513, 1e9, 0, -8, float("nan"), float("inf")])
def test_none_outside_the_measured_range(batch):
    c = curve([(8, 1000, 400, 0.008), (64, 5000, 600, 0.012), (512, 9000, 690, 0.05)])
    assert at(c, batch) is None


def test_a_single_point_curve_answers_only_at_its_batch():
    c = curve([(64, 5000, 600, 0.012)])
    assert at(c, 64)[1] == "measured"
    assert at(c, 63) is None and at(c, 65) is None
    assert best(c)[0].batch_size == 64


def test_points_are_sorted_and_batches_must_be_distinct():
    c = curve([(64, 5000, 600, 0.012), (8, 1000, 400, 0.008)])
    assert [p.batch_size for p in c.points] == [8, 64]
    with pytest.raises(ValueError):
        curve([(8, 1000, 400, 0.008), (8, 1100, 400, 0.008)])
    with pytest.raises(ValueError):
        curve([(8, 0, 400, 0.008)])


# ---------------------------------------------------------------------------
# The batch search

def brute(c: Curve, itl_max, objective, n=5000):
    lo, hi = c.batch_range
    pts = [at(c, lo * (hi / lo) ** (k / n))[0] for k in range(n + 1)] if hi > lo else [c.points[0]]
    ok = [p for p in pts if itl_max is None or p.itl <= itl_max]
    if not ok:
        return None
    return max(ok, key=lambda p: p.throughput_per_device) if objective == "tokens" else \
        min(ok, key=lambda p: p.j_per_token)


@pytest.mark.parametrize("objective", ["tokens", "energy"])
def test_best_matches_a_brute_force_search(objective):
    rng = random.Random(3)
    for trial in range(12):
        c = random_curve(rng, rng.randint(2, 7), monotone=trial % 2 == 0)
        itls = [p.itl for p in c.points]
        for itl_max in (None, rng.uniform(min(itls), max(itls)), min(itls) * 0.5):
            want, got = brute(c, itl_max, objective), best(c, itl_max, objective)
            if want is None:
                assert got is None
                continue
            p, how = got
            assert how in ("measured", "interpolated")
            assert itl_max is None or p.itl <= itl_max * (1 + 1e-9)
            if objective == "tokens":  # never worse than the brute force, and at most a grid step better
                assert want.throughput_per_device * (1 - 1e-9) <= p.throughput_per_device
                assert p.throughput_per_device <= want.throughput_per_device * (1 + 1e-2)
            else:
                assert p.j_per_token <= want.j_per_token * (1 + 1e-9)
                assert want.j_per_token <= p.j_per_token * (1 + 1e-2)
            assert at(c, p.batch_size)[0].throughput_per_device == pytest.approx(p.throughput_per_device)


def test_best_under_an_itl_limit_stops_where_the_limit_is_reached():
    c = curve([(8, 1000, 400, 0.010), (64, 5000, 600, 0.040)])
    p, how = best(c, itl_max=0.020)
    assert how == "interpolated" and p.itl == pytest.approx(0.020)
    assert p.batch_size == pytest.approx(8 * 8 ** 0.5)  # ITL doubles at half the log-distance
    assert best(c, itl_max=0.005) is None
    assert best(c, objective="energy")[0].batch_size == 64
    with pytest.raises(ValueError):
        best(c, objective="cost")


def test_select_by_hardware_devices_and_precision():
    a = curve([(8, 1, 1, 1)], "h100-sxm", 8, "fp8")
    b = curve([(8, 1, 1, 1)], "h100-sxm", 8, "bf16")
    c = curve([(8, 1, 1, 1)], "b200", 1, None)
    assert select([a, b, c], "h100-sxm", 8, "bf16") is b
    assert select([a, b, c], "h100-sxm", 4, "bf16") is None
    assert select([a, b, c], "b200", None, "fp4") is c  # unstated precision, one device by default
    assert select([a, b], "h100-sxm", 8, None) is None  # two precisions: ambiguous
    assert select([a, b, c], "mi300x", 1, "bf16") is None


# ---------------------------------------------------------------------------
# Schema and resolution

ROW = {"hardware": '"h100-sxm"', "devices_per_replica": "1", "batch_size": "64",
       "throughput_per_device": '"1520 token/s"', "device_power": '"610 W"', "itl": '"38 ms"', "precision": '"bf16"'}


def workload(tmp_path: Path, rows: list[dict]) -> Path:
    text = 'kind = "workload"\nname = "w"\n[measured]\ne_tok_boundary = "accelerator"\ntoken_basis = "output"\n'
    for r in rows:
        text += "[[measured.curve]]\n" + "".join(f"{k} = {v}\n" for k, v in r.items())
    text += '[sources]\n"measured.curve" = "made up"\n'
    path = tmp_path / "w.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_curve_rows_validate_and_resolve_with_their_source(tmp_path, cli):
    path = workload(tmp_path, [ROW, {**ROW, "batch_size": "8", "throughput_per_device": '"500 token/s"'}])
    assert cli("profiles", "validate", str(path)).code == 0
    (c,) = curves_of(P.load_path(path))
    assert (c.hardware, c.devices_per_replica, c.precision, c.boundary, c.token_basis) == \
        ("h100-sxm", 1, "bf16", "accelerator", "output")
    assert [p.batch_size for p in c.points] == [8, 64]
    assert c.points[1] == CurvePoint(64, 1520, 610, 0.038)
    assert c.source == "workload w: made up"


@pytest.mark.parametrize("change,needle", [
    ({"itl": '"38 W"'}, "measured.curve[1].itl"),                       # wrong unit
    ({"batch_size": "64"}, "measured.curve[1].batch_size"),             # repeats row 0's batch
    ({"batch_size": "-1"}, "measured.curve[1].batch_size"),             # out of range
    ({"itlx": '"3 ms"'}, "measured.curve[1].itlx"),                     # unknown key
    ({"device_power": '{ low = "1 W", high = "2 W" }'}, "measured.curve[1].device_power"),  # a range
    ({"throughput_per_device": None}, "measured.curve[1].throughput_per_device"),            # missing
])
def test_bad_rows_name_the_file_the_row_and_the_key(tmp_path, cli, change, needle):
    second = {**ROW, "batch_size": "8", **change}
    path = workload(tmp_path, [ROW, {k: v for k, v in second.items() if v is not None}])
    run = cli("profiles", "validate", str(path))
    assert run.code == 2
    assert needle in run.err and str(path) in run.err


def test_a_different_precision_or_replica_is_another_curve(tmp_path):
    rows = [ROW, {**ROW, "precision": '"fp8"'}, {**ROW, "devices_per_replica": "2"}]
    assert len(curves_of(P.load_path(workload(tmp_path, rows)))) == 3


def test_resolution_puts_the_bundled_curves_on_inputs():
    inp = resolve(Request(refs={"workload": "llama-3.1-8b", "hardware": "h100-sxm"})).inputs
    assert {(c.hardware, c.devices_per_replica, c.precision) for c in inp.curves} == \
        {("h100-sxm", 1, "bf16"), ("b200", 1, "bf16")}
    assert all("ML.ENERGY Leaderboard v3.0" in c.source and c.source.startswith("workload llama-3.1-8b: ")
               for c in inp.curves)
    assert resolve(Request(refs={"workload": "mixtral-8x7b", "hardware": "h100-sxm"})).inputs.curves == ()


def test_bundled_curves_are_on_known_hardware_and_agree_with_the_scalar_measurement():
    bundled = P.bundled_dir()
    hardware = {e.id for e in P.list_profiles("hardware", [bundled])}
    for wid in ("llama-3.1-8b", "llama-3.1-405b"):
        prof = P.load(wid, "workload", [bundled])
        assert curves_of(prof) and {c.hardware for c in curves_of(prof)} <= hardware
    w8 = P.load("llama-3.1-8b", "workload", [bundled])
    c = select(curves_of(w8), "h100-sxm", 1, "bf16")
    p, _ = at(c, c.points[min(range(len(c.points)), key=lambda i: abs(c.points[i].batch_size - 64))].batch_size)
    assert p.j_per_token == pytest.approx(w8.get("measured.e_tok"), rel=0.02)  # 0.119 vs the cited 0.12 J/token
    w405 = curves_of(P.load("llama-3.1-405b", "workload", [bundled]))
    assert {(c.hardware, c.devices_per_replica, c.precision) for c in w405} == \
        {("b200", 8, "bf16"), ("b200", 4, "fp8"), ("h100-sxm", 8, "fp8")}


# ---------------------------------------------------------------------------
# The importer

def fixture_rows(models, task="lm-arena-chat"):
    doc = json.loads((FIXTURE / f"{task}.json").read_text(encoding="utf-8"))
    return [r for r in doc["configurations"] if r["model_id"] in models]


def converted(r) -> tuple:
    """A leaderboard row as (hardware, devices, precision, batch, token/s, W, s) per device."""
    hw = {"H100": "h100-sxm", "B200": "b200"}[r["gpu_model"]]
    prec = {"bfloat16": "bf16", "fp8": "fp8", "mxfp4": "fp4"}[r["weight_precision"]]
    n = r["num_gpus"]
    return (hw, n, prec, r["avg_batch_size"], r["output_throughput_tokens_per_sec"] / n, r["avg_power_watts"] / n,
            r["median_itl_ms"] / 1000)


def imported(path: Path) -> list[tuple]:
    return sorted((c.hardware, c.devices_per_replica, c.precision, *vars(p).values())
                  for c in curves_of(P.load_path(path)) for p in c.points)


def test_import_round_trip(tmp_path, cli):
    models = ["acme/Tiny-7B-Instruct", "acme/Big-70B-Instruct-FP8", "acme/Nano-1B-Instruct"]
    out = tmp_path / "curves.toml"
    run = cli("profiles", "import-mlenergy", str(FIXTURE), *[a for m in models for a in ("--model", m)], "-o", str(out))
    assert run.code == 0, run.err
    assert cli("profiles", "validate", str(out)).code == 0
    got, want = imported(out), sorted(converted(r) for r in fixture_rows(models))
    assert len(got) == len(want) == 11
    for g, w in zip(got, want):
        assert g[:3] == w[:3] and g[3:] == pytest.approx(w[3:], rel=1e-5)  # six significant figures
    prof = P.load_path(out)
    assert prof.get("measured.e_tok_boundary") == "accelerator" and prof.get("measured.token_basis") == "output"
    assert "ML.ENERGY Leaderboard v3.0" in prof.get("measured.conditions")
    src = prof.source_for("measured.curve.0.itl")
    assert src.title == "ML.ENERGY Leaderboard v3.0" and src.url == "https://ml.energy/leaderboard"
    assert "data dated 2026-01-31" in src.note and "lm-arena-chat" in src.note
    text = out.read_text(encoding="utf-8")
    batches = [float(line.split("=")[1]) for line in text.splitlines() if line.startswith("batch_size")]
    assert batches[:3] == sorted(batches[:3])  # rows of a curve by batch


def test_import_to_stdout_with_gpu_filter_and_other_task(cli):
    run = cli("profiles", "import-mlenergy", str(FIXTURE), "--model", "acme/tiny-7b-instruct", "--gpu", "B200")
    assert run.code == 0 and run.out.count("[[measured.curve]]") == 3 and "h100" not in run.out
    run = cli("profiles", "import-mlenergy", str(FIXTURE), "--model", "acme/Tiny-7B-Instruct", "--task", "gpqa")
    assert run.code == 0 and run.out.count("[[measured.curve]]") == 1


def test_files_are_recognised_by_content_not_by_name(tmp_path, cli):
    for i, f in enumerate(sorted(FIXTURE.glob("*.json"))):
        shutil.copy(f, tmp_path / f"file{i}.json")
    run = cli("profiles", "import-mlenergy", str(tmp_path), "--model", "acme/Tiny-7B-Instruct")
    assert run.code == 0 and run.out.count("[[measured.curve]]") == 7


def one_line_error(run) -> str:
    assert run.code == 2 and run.out == ""
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tokencalc: error: ") and "Traceback" not in run.err
    return lines[0]


def test_import_errors_are_one_line(tmp_path, cli):
    imp = ("profiles", "import-mlenergy")
    assert "not an ML.ENERGY leaderboard" in one_line_error(cli(*imp, str(tmp_path), "--model", "x"))
    assert "not a folder" in one_line_error(cli(*imp, str(FIXTURE / "index.json"), "--model", "x"))
    err = one_line_error(cli(*imp, str(FIXTURE), "--model", "acme/Tiny-7B"))
    assert "did you mean" in err and "acme/Tiny-7B-Instruct" in err
    err = one_line_error(cli(*imp, str(FIXTURE), "--model", "acme/Tiny-7B-Instruct", "--task", "chat"))
    assert "gpqa, lm-arena-chat" in err
    assert "--gpu" in one_line_error(cli(*imp, str(FIXTURE), "--model", "acme/Tiny-7B-Instruct", "--gpu", "A100"))


@pytest.mark.parametrize("key,value", [("avg_power_watts", "SECRET-CONTENT"), ("num_gpus", 0),
                                       ("weight_precision", "SECRET-CONTENT"), ("median_itl_ms", None),
                                       ("energy_per_token_joules", 5.0), ("data_parallel", 2)])
def test_a_malformed_row_names_file_and_key_without_echoing_content(tmp_path, cli, key, value):
    doc = json.loads((FIXTURE / "lm-arena-chat.json").read_text(encoding="utf-8"))
    if value is None:
        del doc["configurations"][2][key]
    else:
        doc["configurations"][2][key] = value
    (tmp_path / "t.json").write_text(json.dumps(doc), encoding="utf-8")
    err = one_line_error(cli("profiles", "import-mlenergy", str(tmp_path), "--model", "acme/Tiny-7B-Instruct"))
    assert f"configurations[2].{key}" in err and "t.json" in err and "SECRET" not in err


def test_broken_json_is_one_line(tmp_path, cli):
    (tmp_path / "x.json").write_text('{"task": "SECRET-CONTENT", ', encoding="utf-8")
    err = one_line_error(cli("profiles", "import-mlenergy", str(tmp_path), "--model", "m"))
    assert "not valid JSON" in err and "SECRET" not in err


def test_no_overwrite_without_force(tmp_path, cli):
    out = tmp_path / "c.toml"
    out.write_text("keep", encoding="utf-8")
    args = ("profiles", "import-mlenergy", str(FIXTURE), "--model", "acme/Tiny-7B-Instruct", "-o", str(out))
    assert "--force" in one_line_error(cli(*args))
    assert out.read_text(encoding="utf-8") == "keep"
    assert cli(*args, "--force").code == 0 and "[[measured.curve]]" in out.read_text(encoding="utf-8")


@pytest.mark.skipif(not REAL.is_dir(), reason="MLENERGY_DATA does not name the ML.ENERGY "
                                              "leaderboard's data folder (only this test reads it)")
def test_bundled_llama_8b_curve_is_what_the_importer_gives(tmp_path, cli):
    out = tmp_path / "real.toml"
    assert cli("profiles", "import-mlenergy", str(REAL), "--model", LLAMA_8B, "-o", str(out)).code == 0
    bundled = P.bundled_dir() / "workloads" / "llama-3.1-8b.toml"
    assert imported(bundled) == imported(out) and len(imported(out)) == 20
    assert P.load_path(bundled).source_for("measured.curve").note == P.load_path(out).source_for("measured.curve").note
