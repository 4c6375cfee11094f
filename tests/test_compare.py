"""`tokencalc compare`: rows equal individual estimates, relative column, sorting, formats, exit codes."""

from __future__ import annotations

import csv
import io

import pytest

HW = "h100-sxm,h200-sxm,b200"
# Compute ceiling from a modeled K_eff (N peak eta), so hardware differs in the compute ceiling too.
MODELED = ["--kernel-efficiency", "0.3"]

LEVER = """kind = "lever"
name = "test lever: halves both intensities"
c_tok_factor = 0.5
e_tok_factor = 0.5
[sources]
default = "test fixture"
"""


def rows_of(cli, *args):
    r = cli("compare", *args, "-f", "json")
    assert r.code == 0, r.err
    return r.json()


def test_rows_equal_individual_estimates(cli):
    rows = rows_of(cli, "--hardware", HW, *MODELED)
    assert [r["label"] for r in rows] == HW.split(",")
    for row, hw in zip(rows, HW.split(",")):
        est = cli("estimate", "--hardware", hw, *MODELED, "-f", "json").json()
        assert row["hardware"] == hw
        for k, v in est.items():
            assert row[k] == v, (hw, k)


def test_product_of_lists_in_order(cli):
    rows = rows_of(cli, "--hardware", "h100-sxm,b200", "--facility", "industry-average,hyperscale-leader")
    assert [r["label"] for r in rows] == ["h100-sxm · industry-average", "h100-sxm · hyperscale-leader",
                                          "b200 · industry-average", "b200 · hyperscale-leader"]
    assert [(r["hardware"], r["facility"]) for r in rows][1] == ("h100-sxm", "hyperscale-leader")


def test_several_scenarios(cli, tmp_path):
    base = (tmp_path / "a.toml")
    base.write_text('kind = "scenario"\nname = "a"\nhardware = "h100-sxm"\ndevices = 512\n'
                    'facility = "industry-average"\nworkload = "dense-65b-fp16"\nutilization = 0.7\n')
    (tmp_path / "b.toml").write_text(base.read_text().replace("512", "2048").replace('"a"', '"b"'))
    rows = rows_of(cli, str(base), str(tmp_path / "b.toml"))
    assert [r["devices"] for r in rows] == [512, 2048]
    assert [r["label"] for r in rows] == [str(base), str(tmp_path / "b.toml")]
    assert rows[1]["token_rate_relative"] == pytest.approx(
        rows[1]["token_rate_tokens_per_s"] / rows[0]["token_rate_tokens_per_s"])


def test_relative_to_first_and_best(cli):
    rows = rows_of(cli, "--hardware", HW, *MODELED)
    rates = [r["token_rate_tokens_per_s"] for r in rows]
    assert [r["token_rate_relative"] for r in rows] == pytest.approx([x / rates[0] for x in rates])
    best = rows_of(cli, "--hardware", HW, *MODELED, "--relative", "best")
    assert max(r["token_rate_relative"] for r in best) == 1.0
    assert [r["relative_to"] for r in best] == ["best"] * 3


def test_sort_best_first_and_reverse(cli):
    rows = rows_of(cli, "--hardware", HW, "--devices", "100", *MODELED, "--sort", "rate")
    rates = [r["token_rate_tokens_per_s"] for r in rows]
    assert rates == sorted(rates, reverse=True)
    rows = rows_of(cli, "--hardware", HW, *MODELED, "--sort", "j_per_token")
    e = [r["e_tok_j_per_token"] for r in rows]
    assert e == sorted(e)
    rows = rows_of(cli, "--hardware", HW, *MODELED, "--sort", "j_per_token", "--reverse")
    assert [r["e_tok_j_per_token"] for r in rows] == sorted(e, reverse=True)
    assert rows_of(cli, "--hardware", HW, "--sort", "k_peak_flop_per_s")[0]["hardware"] == "h100-sxm"


def test_lever_sets(cli, tmp_path):
    (tmp_path / "levers").mkdir()
    (tmp_path / "levers" / "half.toml").write_text(LEVER)
    rows = rows_of(cli, "--profiles", str(tmp_path), "--lever", "none,half", "--bare", "--k-eff", "1e16 FLOP/s",
                   "--c-tok", "1e11 FLOP/token", "--e-tok", "2 J/token", "--p-it", "1 MW")
    assert [r["label"] for r in rows] == ["none", "half"]
    assert rows[1]["compute_ceiling_tokens_per_s"] == pytest.approx(2 * rows[0]["compute_ceiling_tokens_per_s"])
    assert rows[1]["phi_c"] == 2.0 and rows[0]["phi_c"] == 1.0


def test_csv_one_line_per_row_with_estimate_keys(cli):
    r = cli("compare", "--hardware", HW, "-f", "csv")
    assert r.code == 0, r.err
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert len(rows) == 3
    assert {"label", "hardware", "token_rate_relative", "binding", "compute_ceiling_tokens_per_s",
            "e_tok_j_per_token", "tokens_total", "energy_facility_j"} <= set(rows[0])
    assert rows[2]["hardware"] == "b200"


@pytest.mark.parametrize("fmt, marker", [("table", "Rate vs first"), ("markdown", "| Row |"),
                                         ("latex", r"\toprule")])
def test_text_formats(cli, fmt, marker):
    r = cli("compare", "--hardware", HW, "-f", fmt)
    assert r.code == 0, r.err
    assert marker in r.out and "h200-sxm" in r.out


def test_all_expands_to_every_profile_and_skip_errors(cli):
    r = cli("compare", "--hardware", "all", "-f", "json")
    assert r.code == 2 and "row '" in r.err and "precision" in r.err
    r = cli("compare", "--hardware", "all", "--skip-errors", "-f", "json")
    assert r.code == 0 and "skipped row" in r.err
    listed = cli("profiles", "list", "hardware", "-f", "json").json()
    skipped = r.err.count("skipped row")
    assert len(r.json()) + skipped == len(listed)


def test_output_file(cli, tmp_path):
    out = tmp_path / "c.md"
    assert cli("compare", "--hardware", HW, "-f", "markdown", "-o", str(out)).code == 0
    assert out.read_text().count("\n") == 5
    r = cli("compare", "--hardware", HW, "-f", "markdown", "-o", str(out))
    assert r.code == 2 and "exists" in r.err


@pytest.mark.parametrize("args, words", [
    (["--hardware", "h100-sxm,nope"], "row 'nope'"),
    (["--hardware", "h100-sxm,,b200"], "empty item"),
    (["--hardware", HW, "--sort", "rat"], "did you mean 'rate'"),
    (["--hardware", HW, "-o", "x.txt"], "-o needs a file format"),
])
def test_bad_input_exits_2(cli, args, words):
    r = cli("compare", *args)
    assert r.code == 2 and words in r.err


def test_fail_if_any_row(cli):
    # Default scenario: compute-bound under the realized convention on every row.
    assert cli("compare", "--hardware", HW, "-f", "csv", "--fail-if", "compute-bound").code == 3
    assert cli("compare", "--hardware", HW, "-f", "csv", "--fail-if", "power-bound").code == 0


def test_monte_carlo_per_row_equals_estimate_mc(cli):
    rows = rows_of(cli, "default-uncertain", "default", "--mc", "3000", "--seed", "7")
    est = cli("estimate", "default-uncertain", "--mc", "3000", "--seed", "7", "-f", "json").json()
    assert rows[0]["mc"] == est["mc"]                      # same sampling, same seed, same numbers
    assert rows[1]["mc"]["p_power_bound"] == 0.0           # the default has no ranges: a point
    assert "mc" not in rows_of(cli, "default")[0]          # only with --mc
    table = list(csv.reader(io.StringIO(cli("compare", "default-uncertain", "--mc", "500", "-f", "csv").out)))
    head = dict(zip(table[0], table[1]))
    assert 0.0 <= float(head["mc_p_power_bound"]) <= 1.0
    assert float(head["mc_token_rate_tokens_per_s_p5"]) < float(head["mc_token_rate_tokens_per_s_p95"])
