"""`tokencalc sweep`: --vary parsing, the vectorized engine against `estimate`, streaming, formatting, exit codes."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest

from tokencalc.analysis import sweep as W
from tokencalc.core import LABELS
from tokencalc.render import stream
from tokencalc.render.sweep import summary_lines
from tokencalc.errors import InputError
from tokencalc.core import estimate
from tokencalc.resolve.scenario import Request, flag_text, resolve

# Without --p-it: the CLI tests vary it.
BARE = ["--bare", "--k-eff", "1.3e16 FLOP/s", "--c-tok", "1.3e11 FLOP/token", "--e-tok", "3 J/token"]
# The same scenario as a Request (flags as the CLI would pass them).
BARE_FLAGS = {"k_eff": "1.3e16 FLOP/s", "c_tok": "1.3e11 FLOP/token", "e_tok": "3 J/token", "p_it": "800 kW"}


def plan_for(specs: list[str], request: Request | None = None) -> W.Plan:
    """Resolve like the command does: each varied key set as a flag at its first value
    (a flag the request gives for a varied key, or for one answering the same question, gives way)."""
    from dataclasses import replace

    from tokencalc.resolve.fields import partners

    req = request or Request()
    varied = {o for s in specs for o in partners(W.parse_vary(s).key)}
    return W.plan_request(replace(req, flags={k: v for k, v in req.flags.items() if k not in varied}), specs)


# ---------------------------------------------------------------------------
# --vary


def test_linear_range_includes_both_ends_in_si():
    a = W.parse_vary("p_it=100 kW:10 MW:5")
    assert a.key == "p_it" and a.kind == "linear" and a.column == "p_it_w" and a.unit == "W"
    assert a.values.tolist() == pytest.approx([1e5, 2.575e6, 5.05e6, 7.525e6, 1e7])


def test_log_range_is_geometric():
    a = W.parse_vary("p_facility=log:1 MW:1 GW:4")
    assert a.kind == "log"
    assert a.values.tolist() == pytest.approx([1e6, 1e7, 1e8, 1e9])


def test_list_keeps_the_given_order_and_units():
    a = W.parse_vary("e_tok=3 J/token, 1 J/token,0.5 kJ/token")
    assert a.kind == "list"
    assert a.values.tolist() == pytest.approx([3.0, 1.0, 500.0])
    assert W.parse_vary("pue=1.3").values.tolist() == [1.3]


def test_dashes_in_the_key_and_integer_keys_are_rounded():
    a = W.parse_vary("devices=log:1:1000:4")
    assert a.values.tolist() == [1.0, 10.0, 100.0, 1000.0]
    assert W.parse_vary("kernel-efficiency=0.1:0.5:3").key == "kernel_efficiency"


@pytest.mark.parametrize("spec, words", [
    ("pue=1.6:1.1:6", "reversed range"),
    ("pue=1.1:1.1:3", "empty range"),
    ("pue=1.1:1.6:0", "must be >= 1"),
    ("pue=1.1:1.6:1", "N >= 2"),
    ("pue=1.1:1.6:x", "whole number"),
    ("pue=0.9:1.6:3", "must be >= 1"),
    ("utilization=0.5:1.5:3", "must be <= 1"),
    ("pu=1.1:1.6:3", "did you mean 'pue'"),
    ("precision=1,2", "cannot be varied"),
    ("input_output_ratio=1,2", "cannot be varied"),
    ("p_it=1:2:3", "expected a power"),
    ("p_it=1 kW:2 s:3", "expected a power"),
    ("p_it=log:0 W:1 MW:3", "START > 0"),
    ("pue=1.1,,1.2", "empty item"),
    ("pue", "expected KEY="),
    ("pue=1:2", "expected START:STOP:N"),
])
def test_bad_vary_is_a_clear_input_error(spec, words):
    with pytest.raises(Exception) as exc:
        W.parse_vary(spec)
    assert exc.type.__name__ in ("InputError", "UnitError")
    assert words in str(exc.value)


def test_conflicting_keys_are_refused():
    with pytest.raises(InputError, match="twice"):
        W.conflicts(["pue", "pue"], {})
    with pytest.raises(InputError, match="same question"):
        W.conflicts(["p_it", "p_facility"], {})
    with pytest.raises(InputError, match="--p-facility"):
        W.conflicts(["p_it"], {"p_facility": "1 MW"})


# ---------------------------------------------------------------------------
# The engine against estimate


def _estimate_at(values: dict[str, float], request: Request | None = None):
    req = request or Request()
    flags = {**req.flags, **{k: flag_text(k, v) for k, v in values.items()}}
    from dataclasses import replace

    return estimate(resolve(replace(req, flags=flags)).inputs).values


@pytest.mark.parametrize("specs", [
    ["p_facility=log:100 kW:20 MW:7", "devices=250,1000,4000"],
    ["pue=1.05:2:4", "utilization=0.2:1:3"],
    ["kernel_efficiency=0.01:0.6:5", "e_tok=1 J/token,4 J/token,9 J/token"],
])
def test_sweep_values_equal_estimate_at_every_point(specs):
    plan = plan_for(specs)
    cols, _ = W.evaluate_all(plan)
    names = W.columns(plan)
    for i in range(plan.size):
        at = {a.key: float(cols[a.column][i]) for a in plan.axes}
        ref = _estimate_at(at)
        for name in names:
            if name in (a.column for a in plan.axes):
                continue
            got = cols[name]
            if name.startswith("binding"):
                assert LABELS[int(got[i])] == ref[name], (at, name)
            else:
                assert float(got[i]) == pytest.approx(ref[name], rel=1e-12), (at, name)


def test_csv_cells_equal_estimate_at_sampled_points():
    plan = plan_for(["p_facility=log:100 kW:50 MW:300", "devices=100:8000:40"])
    buf = io.BytesIO()
    stream.write(buf, plan, "csv")
    rows = list(csv.DictReader(io.StringIO(buf.getvalue().decode())))
    assert len(rows) == plan.size == 12_000
    for i in np.random.default_rng(7).integers(0, plan.size, 25).tolist():
        row = rows[i]
        ref = _estimate_at({"p_facility": float(row["p_facility_w"]), "devices": float(row["devices"])})
        assert row["binding"] == ref["binding"] and row["binding_peak"] == ref["binding_peak"]
        for k in ("compute_ceiling_tokens_per_s", "power_ceiling_tokens_per_s", "token_rate_tokens_per_s",
                  "gamma_j_per_flop", "gamma_star_j_per_flop", "tokens_total", "energy_facility_j"):
            assert float(row[k]) == pytest.approx(ref[k], rel=2e-14), k


def test_first_key_varies_slowest():
    plan = plan_for(["pue=1.1,1.2", "utilization=0.5,0.6,0.7"])
    cols, _ = W.evaluate_all(plan)
    assert cols["pue"].tolist() == [1.1, 1.1, 1.1, 1.2, 1.2, 1.2]
    assert cols["utilization"].tolist() == [0.5, 0.6, 0.7, 0.5, 0.6, 0.7]


def test_doubling_delivered_power_doubles_the_rate_when_power_bound():
    plan = plan_for(["p_it=50 kW,100 kW,200 kW"], Request(bare=True, flags=BARE_FLAGS))
    cols, _ = W.evaluate_all(plan)
    assert [LABELS[c] for c in cols["binding"]] == ["power"] * 3
    rate = cols["token_rate_tokens_per_s"]
    assert rate[1] == pytest.approx(2 * rate[0], rel=1e-15) and rate[2] == pytest.approx(2 * rate[1], rel=1e-15)
    assert rate[0] == pytest.approx(50e3 / 3)  # P_IT / e_tok, U = 1


def test_crossover_of_a_p_it_sweep_is_the_closed_form():
    # K_eff e_tok / c_tok = 1.3e16 x 3 / 1.3e11 = 300 kW
    plan = plan_for(["p_it=100 kW:1 MW:1000"], Request(bare=True, flags=BARE_FLAGS))
    cols, summary = W.evaluate_all(plan)
    p = cols["p_it_w"]
    b = np.array([LABELS[c] for c in cols["binding"]])
    assert set(b[p < 300e3 * 0.99]) == {"power"} and set(b[p > 300e3 / 0.99]) == {"compute"}
    (c,) = summary.crossings
    assert c["p_it_w"] == pytest.approx(300e3, rel=1e-6)
    assert (c["from"], c["to"]) == ("power", "compute")
    assert summary.to_json()["share_power_bound"] == pytest.approx(np.mean(b == "power"))


def test_grid_summary_gives_the_boundary_per_value_of_the_first_key():
    req = Request(bare=True, flags={**BARE_FLAGS})
    plan = plan_for(["e_tok=1 J/token,3 J/token", "p_it=log:10 kW:10 MW:301"], req)
    _, summary = W.evaluate_all(plan)
    got = {c["e_tok_j_per_token"]: c["p_it_w"] for c in summary.crossings}
    assert got[1.0] == pytest.approx(100e3, rel=1e-9)   # log-ratio is linear in log P: exact
    assert got[3.0] == pytest.approx(300e3, rel=1e-9)
    text = "\n".join(summary_lines(summary))
    assert "e_tok = 1.000 J/token" in text and "compute-bound beyond p_it = 100.0 kW" in text


# ---------------------------------------------------------------------------
# Streaming


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_output_does_not_depend_on_the_chunk_size(fmt):
    plan = plan_for(["p_facility=log:100 kW:20 MW:37", "devices=100:5000:29"])
    outs = []
    for chunk in (97, 1000, W.CHUNK):
        buf = io.BytesIO()
        s = stream.write(buf, plan, fmt, chunk=chunk, scenario="default")
        outs.append((buf.getvalue(), json.dumps(s.to_json(), sort_keys=True)))
    assert outs[0] == outs[1] == outs[2]


def test_streaming_a_grid_larger_than_one_chunk_writes_every_line():
    plan = plan_for(["p_it=10 kW:10 MW:150001"])
    assert plan.size > 2 * W.CHUNK
    buf = io.BytesIO()
    done = []
    stream.write(buf, plan, "jsonl", progress=done.append)
    lines = buf.getvalue().splitlines()
    assert len(lines) == plan.size
    assert done[-1] == plan.size and len(done) == math.ceil(plan.size / W.CHUNK)
    first, last = json.loads(lines[0]), json.loads(lines[-1])
    assert first["p_it_w"] == 10e3 and last["p_it_w"] == 10e6
    buf = io.BytesIO()
    stream.write(buf, plan, "csv", chunk=4096)
    assert buf.getvalue().count(b"\n") == plan.size + 1


def test_json_document_holds_rows_and_summary():
    plan = plan_for(["pue=1.1:1.6:6"])
    buf = io.BytesIO()
    stream.write(buf, plan, "json", scenario="default")
    doc = json.loads(buf.getvalue())
    assert doc["schema"] == "tokencalc.sweep/1" and doc["points"] == 6
    assert doc["vary"][0]["key"] == "pue" and doc["columns"][0] == "pue"
    assert [r["pue"] for r in doc["rows"]] == [1.1, 1.2, 1.3, 1.4, 1.5, 1.6]
    assert doc["summary"]["points"] == 6


def test_unknown_outputs_are_empty_cells_and_nulls():
    # P_IT given, no PUE: no facility energy.
    req = Request(bare=True, flags=BARE_FLAGS)
    plan = plan_for(["e_tok=1 J/token,2 J/token"], req)
    buf = io.BytesIO()
    stream.write(buf, plan, "csv")
    rows = list(csv.DictReader(io.StringIO(buf.getvalue().decode())))
    assert rows[0]["energy_facility_j"] == "" and rows[0]["power_ceiling_tokens_per_s"] == "800000"
    buf = io.BytesIO()
    stream.write(buf, plan, "jsonl")
    assert json.loads(buf.getvalue().splitlines()[0])["energy_facility_j"] is None


# ---------------------------------------------------------------------------
# Number formatting


def test_numbers_format_like_printf_15g():
    xs = [0.0, 1.0, 0.7, 1.1, 1.56, 83000.0, 1e6, 1e15, 1e14, 123456789012345.0, 0.0001, 0.00001, -2.5,
          1e100, 1e-100, 4.1e-11, 1832241600000.0, 2.5e-7, 999999999999999.9, 12.5, 1e300, 1e-300]
    got = stream.format_numbers(np.array(xs))
    assert [bytes(r[r != 0]).decode() for r in got] == ["%.15g" % x for x in xs]


def test_numbers_are_within_half_a_unit_of_the_15th_digit():
    rng = np.random.default_rng(3)
    x = rng.random(20000) * 10.0 ** rng.integers(-30, 30, 20000) * rng.choice([-1, 1], 20000)
    got = [float(bytes(r[r != 0])) for r in stream.format_numbers(x)]
    rel = np.abs(np.array(got) - x) / np.abs(x)
    assert rel.max() <= 6e-15
    same = np.mean([bytes(r[r != 0]).decode() == "%.15g" % v for r, v in zip(stream.format_numbers(x), x.tolist())])
    assert same > 0.9


def test_non_finite_numbers():
    x = np.array([float("nan"), float("inf"), -float("inf"), 2.0])
    assert [bytes(r[r != 0]) for r in stream.format_numbers(x)] == [b"nan", b"inf", b"-inf", b"2"]
    assert [bytes(r[r != 0]) for r in stream.format_numbers(x, (b"null",) * 3)] == [b"null"] * 3 + [b"2"]


# ---------------------------------------------------------------------------
# The command


def test_cli_csv_to_stdout_and_summary_on_stderr(cli):
    r = cli("sweep", *BARE, "--vary", "p_it=100 kW:1 MW:10", "-f", "csv")
    assert r.code == 0, r.err
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert len(rows) == 10 and rows[0]["p_it_w"] == "100000"
    assert "power-bound" in r.err and "crossover at p_it = 300.0 kW" in r.err
    assert cli("sweep", *BARE, "--vary", "p_it=100 kW:1 MW:10", "-f", "csv", "-q").err == ""


def test_cli_table(cli):
    r = cli("sweep", "--vary", "pue=1.1:1.6:6")
    assert r.code == 0, r.err
    assert "1.100" in r.out and "compute" in r.out and "100 % compute-bound" in r.err


def test_cli_output_file_is_atomic_and_not_clobbered(cli, tmp_path):
    out = tmp_path / "s.csv"
    r = cli("sweep", "--vary", "pue=1.1:1.6:6", "-f", "csv", "-o", str(out))
    assert r.code == 0 and r.out == ""
    assert out.read_text().count("\n") == 7
    r = cli("sweep", "--vary", "pue=1.1:1.6:3", "-f", "csv", "-o", str(out))
    assert r.code == 2 and "exists" in r.err and "--force" in r.err
    assert out.read_text().count("\n") == 7
    r = cli("sweep", "--vary", "pue=1.1:1.6:3", "-f", "csv", "-o", str(out), "--force")
    assert r.code == 0 and out.read_text().count("\n") == 4
    assert [p.name for p in tmp_path.iterdir()] == ["s.csv"]  # no temporary file left behind


@pytest.mark.parametrize("args, words", [
    (["--vary", "p_it=1 kW:1 MW:1000"], "too many for a table"),
    (["--vary", "p_it=1 kW:1 MW:2000000", "-f", "json"], "use --format jsonl"),
    (["--vary", "p_it=1 kW:1 MW:10", "--p-facility", "1 MW"], "same question"),
    (["--vary", "pue=1.6:1.1:6"], "reversed range"),
    (["--vary", "pue=1:2:0"], ">= 1"),
    (["--vary", "foo=1,2"], "not a core input"),
    ([], "at least one --vary"),
])
def test_cli_bad_input_exits_2(cli, args, words):
    r = cli("sweep", *args)
    assert r.code == 2 and words in r.err and "Traceback" not in r.err


def test_cli_fail_if(cli):
    assert cli("sweep", *BARE, "--vary", "p_it=100 kW:1 MW:10", "-f", "csv", "--fail-if", "power-bound").code == 3
    assert cli("sweep", *BARE, "--vary", "p_it=400 kW:1 MW:10", "-f", "csv", "--fail-if", "power-bound").code == 0


@pytest.mark.parametrize("spec,msg", [("pue=1:inf:3", "expected a finite number"),
                                      ("pue=1:2:1000000000000", "at most 10,000,000"),
                                      ("pue=nan,1.2", "finite")])
def test_absurd_axes_are_refused_before_anything_is_allocated(cli, spec, msg):
    r = cli("sweep", "--vary", spec)
    assert r.code == 2 and msg in r.err and "--pue" not in r.err and "Warning" not in r.err


def test_a_varied_binding_tolerance_is_a_number_column_not_a_label(cli):
    # Found by the fuzz harness: columns were told apart by the prefix "binding", so
    # binding_tolerance was formatted as a label and CSV/JSON output crashed (exit 1).
    r = cli("sweep", *BARE, "--p-it", "800 kW", "--vary", "binding_tolerance=0.1,0.2", "-f", "csv", "-q")
    assert r.code == 0, r.err
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert [float(row["binding_tolerance"]) for row in rows] == [0.1, 0.2]
    assert {row["binding"] for row in rows} <= set(LABELS)
    r = cli("sweep", *BARE, "--p-it", "800 kW", "--vary", "binding_tolerance=0.1,0.2", "-f", "jsonl", "-q")
    assert r.code == 0 and [json.loads(x)["binding_tolerance"] for x in r.out.splitlines()] == [0.1, 0.2]
    import tokencalc

    cols = tokencalc.sweep(vary="binding_tolerance=0.1,0.2", bare=True, k_eff="1.3e16 FLOP/s", c_tok="1.3e11 FLOP/token",
                           e_tok="3 J/token", p_it="800 kW").columns
    assert cols["binding_tolerance"].tolist() == [0.1, 0.2] and set(cols["binding"]) <= set(LABELS)
