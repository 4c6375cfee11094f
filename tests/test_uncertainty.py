"""Ranges, seeded Monte Carlo and the tornado: analytic cases, determinism, bad ranges through the CLI."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest

from tokencalc.analysis import uncertainty as U
from tokencalc.render import uncertainty as RU
from tokencalc.core import estimate
from tokencalc.resolve.scenario import Request, resolve

P_IT = 1.0e6          # W
K_EFF = 1.0e17        # FLOP/s
C_TOK = 1.0e11        # FLOP/token -> compute ceiling 1e6 token/s


def scenario(tmp_path: Path, body: str, name: str = "s.toml") -> Path:
    """Write a scenario file; `body` holds its keys and tables."""
    p = tmp_path / name
    p.write_text('kind = "scenario"\nname = "test"\n' + body, encoding="utf-8")
    return p


def point_scenario(tmp_path: Path, e_tok: str, extra: str = "") -> Path:
    """Compute and power given directly (no profiles), e_tok as written."""
    return scenario(tmp_path, f'''k_eff = "{K_EFF} FLOP/s"
c_tok = "{C_TOK} FLOP/token"
p_it = "{P_IT} W"
utilization = 1
horizon = "1 day"
binding_tolerance = 0
e_tok = {e_tok}
{extra}''')


def tri_ppf(p: float, a: float, c: float, b: float) -> float:
    """Triangular quantile in closed form (independent of the code under test)."""
    if p < (c - a) / (b - a):
        return a + math.sqrt(p * (b - a) * (c - a))
    return b - math.sqrt((1 - p) * (b - a) * (b - c))


def tri_cdf(x: float, a: float, c: float, b: float) -> float:
    if x <= c:
        return (x - a) ** 2 / ((b - a) * (c - a))
    return 1 - (b - x) ** 2 / ((b - a) * (b - c))


# ---------------------------------------------------------------------------
# Analytic checks

def test_power_ceiling_percentiles_match_the_inverse_of_a_triangular_e_tok(tmp_path):
    # Units carried through the range: mJ and kJ per token parse to J/token.
    path = point_scenario(tmp_path, '{ low = "1000 mJ/token", mode = "2 J/token", high = "0.005 kJ/token" }')
    resolved = resolve(Request(scenario=str(path)))
    (r,) = U.collect(resolved).inputs
    assert (r.key, r.low, r.mode, r.high, r.unit) == ("e_tok", 1.0, 2.0, 5.0, "J/token")
    mc = U.monte_carlo(resolved, 400_000, seed=11)
    q = mc.percentiles["power_ceiling_tokens_per_s"]
    for name, p in (("p5", 0.05), ("p50", 0.50), ("p95", 0.95)):
        # the p-quantile of P/e is P / (the (1-p)-quantile of e)
        exact = P_IT / tri_ppf(1 - p, 1.0, 2.0, 5.0)
        assert q[name] == pytest.approx(exact, rel=0.01), name
    e = mc.percentiles["e_tok_j_per_token"]
    assert e["p50"] == pytest.approx(tri_ppf(0.5, 1.0, 2.0, 5.0), rel=0.01)


def test_p_power_bound_equals_the_triangular_tail_beyond_the_crossover(tmp_path):
    # Compute ceiling 1e6 token/s, power ceiling 1e6/e: power-bound iff e > e* = 1 J/token... shift it inside:
    # with P_IT = 2.5 MW the crossover is e* = 2.5 J/token, inside (1, 2, 5).
    path = point_scenario(tmp_path, '{ low = "1 J/token", mode = "2 J/token", high = "5 J/token" }')
    text = path.read_text().replace(f'p_it = "{P_IT} W"', 'p_it = "2.5 MW"')
    path.write_text(text)
    mc = U.monte_carlo(resolve(Request(scenario=str(path))), 400_000, seed=3)
    exact = 1 - tri_cdf(2.5, 1.0, 2.0, 5.0)
    assert mc.p_power_bound == pytest.approx(exact, abs=0.004)
    assert mc.p_compute_bound == pytest.approx(1 - exact, abs=0.004)
    assert mc.p_balanced == 0.0


def test_triangular_ppf_inverts_the_cdf():
    import numpy as np

    u = np.linspace(0.0, 0.999, 41)
    x = U.triangular_ppf(u, 1.0, 2.0, 5.0)
    assert [U.triangular_cdf(float(v), 1.0, 2.0, 5.0) for v in x] == pytest.approx(list(u), abs=1e-12)
    assert U.triangular_ppf(0.3, 4.0, 4.0, 4.0) == 4.0


def test_a_degenerate_range_equals_the_point_estimate_exactly(tmp_path):
    # Bundled profiles underneath (accelerator-boundary e_tok converted to IT, PUE, utilization).
    path = scenario(tmp_path, '''hardware = "h100-sxm"
devices = 1000
facility = "industry-average"
workload = "dense-65b-fp16"
utilization = { low = 0.7, mode = 0.7, high = 0.7 }
horizon = "365 day"
electricity_price = "0.0806 USD/kWh"
carbon_intensity = "0.384 kg/kWh"
[override]
"facility.pue" = { low = 1.56, mode = 1.56, high = 1.56 }
"workload.measured.e_tok" = { value = "3 J/token", rel = 0 }
''')
    resolved = resolve(Request(scenario=str(path)))
    assert len(U.collect(resolved).inputs) == 3
    point = estimate(resolved.inputs).values
    mc = U.monte_carlo(resolved, 1000, seed=1)
    for key, q in mc.percentiles.items():
        assert q == {"p5": point[key], "p50": point[key], "p95": point[key]}, key
    assert mc.p_compute_bound == (1.0 if point["binding"] == "compute" else 0.0)
    # ... and the degenerate swings are zero, at the point estimate
    for s in U.tornado(resolved):
        assert (s.at_low, s.at_high, s.swing) == (point["token_rate_tokens_per_s"],) * 2 + (0.0,)


def test_the_uncertain_default_has_the_default_point_estimate():
    a = estimate(resolve(Request(scenario="default")).inputs).to_json()
    b = estimate(resolve(Request(scenario="default-uncertain")).inputs).to_json()
    for key in ("token_rate_tokens_per_s", "power_ceiling_tokens_per_s", "cost_usd", "binding"):
        assert a[key] == b[key]


# ---------------------------------------------------------------------------
# Which ranges are sampled

def test_override_ranges_survive_resolution():
    ranges = U.collect(resolve(Request(scenario="default-uncertain")))
    got = {r.key: (r.low, r.mode, r.high) for r in ranges.inputs}
    assert got == {"facility.pue": (1.2, 1.56, 1.6), "utilization": (0.5, 0.7, 0.85),
                   "workload.measured.e_tok": (2.3, 3.0, 9.0),
                   "workload.measured.throughput_per_device": pytest.approx((62.25, 83.0, 103.75))}
    assert not ranges.not_sampled
    src = {r.key: r.source for r in ranges.inputs}
    assert "Samsi" in src["workload.measured.e_tok"] and "Uptime" in src["facility.pue"]


def test_a_flag_replaces_a_range_and_says_so(cli):
    run = cli("estimate", "default-uncertain", "--pue", "1.3", "--mc", "1000", "-f", "json")
    assert run.code == 0, run.err
    mc = run.json()["mc"]
    assert "facility.pue" not in [r["key"] for r in mc["ranges"]]
    (ns,) = mc["not_sampled"]
    assert ns["key"] == "facility.pue" and "flag --pue" in ns["reason"]


def test_hardware_power_ranges_reach_the_derived_it_overhead(tmp_path):
    # e_tok(IT) = e_tok(accelerator) x server power per device / board power = 3 x 1275 / tdp
    path = scenario(tmp_path, '''hardware = "h100-sxm"
devices = 1000
facility = "industry-average"
workload = "dense-65b-fp16"
[override]
"hardware.tdp" = { low = "600 W", mode = "700 W", high = "800 W" }
''')
    (s,) = U.tornado(resolve(Request(scenario=str(path))), "e_tok_j_per_token")
    assert s.key == "hardware.tdp"
    assert s.at_low == pytest.approx(3 * 1275 / 600) and s.at_high == pytest.approx(3 * 1275 / 800)
    assert s.base == pytest.approx(3 * 1275 / 700)


def test_a_lever_factor_range_is_sampled_when_the_lever_counts(tmp_path):
    (tmp_path / "lv.toml").write_text('kind = "lever"\nname = "test lever"\nphase = "both"\n'
                                      'e_tok_factor = { low = 0.5, mode = 0.6, high = 0.8 }\n', encoding="utf-8")
    path = point_scenario(tmp_path, '"4 J/token"', 'levers = ["lv.toml"]')
    (s,) = U.tornado(resolve(Request(scenario=str(path))))
    assert s.key == "levers.lv.e_tok_factor"
    assert (s.at_low, s.at_high) == (pytest.approx(P_IT / (4 * 0.5)), pytest.approx(P_IT / (4 * 0.8)))


# ---------------------------------------------------------------------------
# Tornado

def test_tornado_ranks_by_swing_and_unranged_inputs_have_no_bar(tmp_path):
    # Power-bound everywhere: rate = U * P_IT / e_tok.
    path = point_scenario(tmp_path, '{ low = "2 J/token", mode = "4 J/token", high = "8 J/token" }')
    text = path.read_text().replace("utilization = 1", "utilization = { low = 0.6, mode = 0.8, high = 0.9 }")
    text = text.replace('horizon = "1 day"', 'horizon = { low = "1 day", mode = "2 day", high = "3 day" }')
    path.write_text(text)
    swings = U.tornado(resolve(Request(scenario=str(path))))
    assert [s.key for s in swings] == ["e_tok", "utilization", "horizon"]
    e, u, h = swings
    assert (e.at_low, e.at_high) == (pytest.approx(0.8 * P_IT / 2), pytest.approx(0.8 * P_IT / 8))
    assert u.swing == pytest.approx(0.3 * P_IT / 4)
    assert h.swing == 0.0  # ranged, but the rate does not depend on the horizon
    assert {s.key for s in swings} == {"e_tok", "utilization", "horizon"}  # p_it, k_eff, c_tok: no range, no bar
    tokens = U.tornado(resolve(Request(scenario=str(path))), "tokens_total")
    assert tokens[0].key == "e_tok" and {s.key for s in tokens} == {"e_tok", "utilization", "horizon"}
    assert next(s for s in tokens if s.key == "horizon").swing == pytest.approx(0.8 * P_IT / 4 * 2 * 86400)


def test_undefined_ceilings_are_null_not_numbers(tmp_path, cli):
    path = scenario(tmp_path, '''k_eff = "1e17 FLOP/s"
c_tok = "1e11 FLOP/token"
e_tok = { low = "1 J/token", mode = "2 J/token", high = "3 J/token" }
''')
    mc = U.monte_carlo(resolve(Request(scenario=str(path))), 1000, seed=0)
    assert mc.p_power_bound is None
    assert mc.percentiles["power_ceiling_tokens_per_s"] == {"p5": None, "p50": None, "p95": None}
    assert mc.percentiles["compute_ceiling_tokens_per_s"]["p50"] == pytest.approx(1e6)
    run = cli("estimate", str(path), "--mc", "500", "-f", "json")
    assert run.code == 0 and run.json()["mc"]["p_power_bound"] is None
    (s,) = U.tornado(resolve(Request(scenario=str(path))))
    assert s.swing is None
    run = cli("sensitivity", str(path), "--chart", str(tmp_path / "t.svg"))
    assert run.code == 2 and "no tornado chart" in run.err
    assert not (tmp_path / "t.svg").exists()


# ---------------------------------------------------------------------------
# CLI: determinism, formats, errors

def test_same_seed_gives_byte_identical_json_and_different_seeds_differ(cli):
    args = ("estimate", "default-uncertain", "--mc", "20000", "-f", "json")
    a, b = cli(*args, "--seed", "5"), cli(*args, "--seed", "5")
    assert a.code == b.code == 0
    assert a.out == b.out
    c = cli(*args, "--seed", "6")
    assert c.out != a.out
    mc = a.json()["mc"]
    assert (mc["samples"], mc["seed"]) == (20000, 5)
    assert set(mc["percentiles"]) >= {"token_rate_tokens_per_s", "tokens_total", "e_tok_j_per_token",
                                      "energy_facility_j", "cost_usd"}
    q = mc["percentiles"]["token_rate_tokens_per_s"]
    assert q["p5"] < q["p50"] < q["p95"]
    assert 0.0 <= mc["p_power_bound"] <= 1.0
    assert cli(*args).json()["mc"]["seed"] == 0


def test_mc_without_ranges_says_so(cli):
    run = cli("estimate", "--mc", "100", "-f", "json")
    point, mc = run.json(), run.json()["mc"]
    assert "no input has a range" in mc["note"]
    assert mc["ranges"] == []
    assert mc["percentiles"]["tokens_total"]["p5"] == point["tokens_total"]
    table = cli("estimate", "--mc", "100")
    assert table.code == 0 and "No input has a range" in table.out


def test_mc_table_shows_the_band_and_p_power_bound(cli):
    run = cli("estimate", "default-uncertain", "--mc", "5000", "--seed", "2")
    assert run.code == 0, run.err
    assert "P5" in run.out and "P95" in run.out and "P(power-bound)" in run.out
    assert "workload.measured.e_tok" in run.out


def test_mc_csv_and_markdown_carry_the_band(cli):
    run = cli("estimate", "default-uncertain", "--mc", "1000", "-f", "csv")
    header, row = csv.reader(io.StringIO(run.out))
    assert len(header) == len(row)
    cols = dict(zip(header, row))
    assert float(cols["mc_token_rate_tokens_per_s_p5"]) < float(cols["mc_token_rate_tokens_per_s_p95"])
    assert cols["mc_samples"] == "1000"
    md = cli("estimate", "default-uncertain", "--mc", "1000", "-f", "markdown")
    assert "P(power-bound)" in md.out and "| token_rate_tokens_per_s |" in md.out


@pytest.mark.parametrize("args, message", [
    (("--seed", "3"), "--seed needs --mc"),
    (("--mc", "0"), "--mc"),
    (("--mc", "10", "--seed", "-1"), "--seed"),
])
def test_bad_mc_options_exit_2(cli, args, message):
    run = cli("estimate", "default-uncertain", *args)
    assert run.code == 2 and message in run.err and "Traceback" not in run.err


@pytest.mark.parametrize("line, key", [
    ("utilization = { low = 0.9, high = 0.5 }", "utilization"),                            # low > high
    ("utilization = { low = 0.5, mode = 0.95, high = 0.9 }", "utilization"),               # mode outside
    ('e_tok = { low = "2 J/token", mode = "3 J/token", high = "4 W" }', "e_tok.high"),     # other dimension
    ("pue = { value = 1.3, rel = -0.1 }", "pue.rel"),                                      # rel < 0
    ('p_it = { value = "1 MW", rel = 1 }', "p_it.rel"),                                    # rel >= 1
    ("utilization = { value = 0.9, rel = 0.2 }", "utilization"),                           # crosses U <= 1
    ('[override]\n"facility.pue" = { low = 1.6, mode = 1.3, high = 1.2 }', "pue"),         # via [override]
])
def test_bad_ranges_exit_2_naming_the_key(tmp_path, cli, line, key):
    path = scenario(tmp_path, 'facility = "industry-average"\n' + line + "\n")
    for args in (("estimate", str(path), "--mc", "100"), ("sensitivity", str(path))):
        run = cli(*args)
        assert run.code == 2, run.out
        assert key in run.err and "Traceback" not in run.err


def test_sensitivity_json_csv_and_table(cli):
    run = cli("sensitivity", "default-uncertain", "-f", "json")
    assert run.code == 0, run.err
    doc = run.json()
    assert doc["schema"] == "tokencalc.sensitivity/1" and doc["metric"] == "token_rate_tokens_per_s"
    swings = [s["swing"] for s in doc["swings"]]
    assert swings == sorted(swings, reverse=True)
    assert [s["rank"] for s in doc["swings"]] == [1, 2, 3, 4]
    cost = cli("sensitivity", "default-uncertain", "--metric", "cost_usd", "-f", "json").json()
    assert cost["swings"][0]["key"] == "workload.measured.e_tok"
    csv_out = cli("sensitivity", "default-uncertain", "-f", "csv").out.splitlines()
    assert csv_out[0].startswith("rank,key,unit,low,mode,high") and len(csv_out) == 5
    table = cli("sensitivity", "default-uncertain")
    assert "utilization" in table.out and "█" in table.out
    empty = cli("sensitivity", "-f", "json")
    assert empty.code == 0 and empty.json()["swings"] == [] and "nothing to rank" in empty.json()["note"]


def test_tornado_chart_is_deterministic_and_never_overwritten_without_force(tmp_path, cli):
    out = tmp_path / "tornado.svg"
    assert cli("sensitivity", "default-uncertain", "--chart", str(out)).code == 0
    first = out.read_bytes()
    assert first.startswith(b"<?xml") and b"<svg" in first and b"dc:date" not in first
    again = cli("sensitivity", "default-uncertain", "--chart", str(out))
    assert again.code == 2 and "--force" in again.err
    assert cli("sensitivity", "default-uncertain", "--chart", str(out), "--force").code == 0
    assert out.read_bytes() == first
    assert [p.name for p in tmp_path.iterdir()] == ["tornado.svg"]  # no temporary files left
    bad = cli("sensitivity", "default-uncertain", "--chart", str(tmp_path / "t.png"))
    assert bad.code == 2 and ".svg" in bad.err


def test_tornado_svg_function_is_deterministic():
    swings = U.tornado(resolve(Request(scenario="default-uncertain")))
    assert RU.tornado_svg(swings) == RU.tornado_svg(swings)


def test_mc_json_is_plain_json():
    mc = U.monte_carlo(resolve(Request(scenario="default-uncertain")), 2000, seed=9)
    text = json.dumps(mc.to_json(), allow_nan=False)
    assert json.loads(text)["ranges"][0]["unit"] == "1"


def test_a_token_basis_ratio_range_moves_the_converted_e_tok_and_throughput(tmp_path):
    # Measured on input+output tokens, counted on output tokens: e_out = e_total (1 + r), rate_out = rate_total / (1 + r).
    (tmp_path / "wl.toml").write_text('''kind = "workload"
name = "w"
[operating_point]
token_basis = "output"
input_output_ratio = { low = 1, mode = 2, high = 3 }
[measured]
e_tok = "1 J/token"
token_basis = "total"
e_tok_boundary = "it"
throughput_per_device = "100 token/s"
''', encoding="utf-8")
    path = scenario(tmp_path, 'workload = "wl.toml"\ndevices = 10\nc_tok = "1e11 FLOP/token"\np_it = "1 kW"\n')
    resolved = resolve(Request(scenario=str(path)))
    (e,) = U.tornado(resolved, "e_tok_j_per_token")
    assert (e.base, e.at_low, e.at_high) == (pytest.approx(3.0), pytest.approx(2.0), pytest.approx(4.0))
    (k,) = U.tornado(resolved, "compute_ceiling_tokens_per_s")
    assert (k.at_low, k.at_high) == (pytest.approx(10 * 100 / 2), pytest.approx(10 * 100 / 4))


def test_tornado_svg_is_empty_when_nothing_can_be_drawn():
    assert RU.tornado_svg(U.tornado(resolve(Request(scenario="default")))) == ""
