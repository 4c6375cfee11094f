"""`project` and tokencalc.analysis.horizon: analytic cases, bookkeeping identities, malformed trajectories."""

import json
import math

import pytest

from tokencalc.analysis import horizon as HZ
from tokencalc.analysis.horizon import parse_flag as parse_trajectory_flag
from tokencalc.render.project import chart_text
from tokencalc.resolve.scenario import Request, resolve

DAY = 86400.0
YEAR = 365.25 * DAY
BASE = {"k_eff": "1.3e16 FLOP/s", "c_tok": "1.3e11 FLOP/token", "e_tok": "3 J/token", "utilization": "0.7"}
QK = 1.3e16 / 1.3e11  # 1e5 token/s


def run(flags=None, trajs=(), resolution=None, **kw):
    res = resolve(Request(bare=True, flags={**BASE, **(flags or {})}))
    extra = dict(parse_trajectory_flag(t) for t in trajs)
    return HZ.project(res, resolution_s=resolution, trajectories=HZ.from_resolved(res, extra), **kw)


def test_constant_inputs_give_rate_times_horizon():
    p = run({"p_it": "800 kW", "horizon": "100 day"})
    rate = 0.7 * min(QK, 8e5 / 3.0)
    assert p.totals["tokens_total"] == pytest.approx(rate * 100 * DAY, rel=1e-12)
    assert p.totals["energy_it_j"] == pytest.approx(rate * 3.0 * 100 * DAY, rel=1e-12)
    assert p.switches == [] and p.totals["power_bound_share"] == 0.0
    assert set(p.binding.tolist()) == {"compute"}


def test_exponential_power_growth_into_fixed_compute_ceiling():
    g, p0, e, u, T = 0.30, 1.5e5, 3.0, 0.7, 5 * YEAR      # power ceiling 5e4 -> crosses 1e5
    p = run({"p_it": f"{p0} W", "horizon": "5 year"}, ['p_it={ growth = "30 percent/year" }'])
    b = math.log(1 + g) / YEAR
    t_star = math.log(QK * e / p0) / b
    expected = u * ((p0 / e) * math.expm1(b * t_star) / b + QK * (T - t_star))
    assert [(s.from_, s.to) for s in p.switches] == [("power", "compute")]
    assert p.switches[0].t_s == pytest.approx(t_star, rel=1e-9)
    assert p.totals["tokens_total"] == pytest.approx(expected, rel=1e-9)
    # Shares follow the one classifier with its 1 % band, like the series labels.
    t_power = math.log(0.99 * QK * e / p0) / b          # power-bound while P_IT/e < 0.99 Q̇_K
    t_compute = math.log(QK * e / (0.99 * p0)) / b      # compute-bound once Q̇_K < 0.99 P_IT/e
    assert p.totals["power_bound_share"] == pytest.approx(t_power / T, rel=1e-9)
    assert p.totals["balanced_share"] == pytest.approx((t_compute - t_power) / T, rel=1e-9)
    assert p.totals["compute_bound_share"] == pytest.approx(1 - t_compute / T, rel=1e-9)
    assert p.integration["closed_form"] > 0


def test_series_labels_and_shares_use_the_same_classifier():
    # Q̇_K = 1e5, Q̇_P = 99,500: within the 1 % band at every time (the bug: every point "balanced"
    # but power_bound_share 1.0).
    p = run({"k_eff": "1.3e16 FLOP/s", "p_it": "298500 W", "horizon": "100 day"})
    assert set(p.binding.tolist()) == {"balanced"}
    assert p.totals["balanced_share"] == 1.0 and p.totals["power_bound_share"] == 0.0
    assert p.totals["compute_bound_share"] == 0.0 and p.switches == []


def test_growth_compounds_per_period_of_its_unit():
    yearly = run({"p_it": "100 kW", "horizon": "365.25 day"}, ['p_it={ growth = "12 percent/year" }'])
    monthly = run({"p_it": "100 kW", "horizon": "365.25 day"}, ['p_it={ growth = "1 percent/month" }'])
    assert yearly.end["p_it_w"] == pytest.approx(1.12e5, rel=1e-12)
    assert monthly.end["p_it_w"] == pytest.approx(1e5 * 1.01 ** 12, rel=1e-12)


@pytest.mark.parametrize("spec,per_year", [
    ("30 percent/(6 month)", 1.3 ** 2),        # the period is read by the unit registry, number included
    ("30 percent / 6 month", 1.3 ** 2),
    ("69 percent/(12 month)", 1.69),
    ("0.1/(3 month)", 1.1 ** 4),
    ("72 %/yr", 1.72),
])
def test_growth_periods_with_a_number_compound_over_that_period(spec, per_year):
    p = run({"p_it": "100 kW", "horizon": "365.25 day"}, [f'p_it={{ growth = "{spec}" }}'])
    assert p.end["p_it_w"] == pytest.approx(1e5 * per_year, rel=1e-12)


@pytest.mark.parametrize("spec", ["30 percent/(6 parsecs)", "30 percent/", "thirty percent/year", "30 percent/(6 month"])
def test_a_growth_that_cannot_be_read_is_an_error_naming_the_text(cli, spec):
    r = cli("project", "--bare", *sum((["--" + k.replace("_", "-"), v] for k, v in BASE.items()), []),
            "--p-it", "100 kW", "--trajectory", f'p_it={{ growth = "{spec}" }}')
    assert r.code == 2 and spec in r.err and "Traceback" not in r.err


def test_steps_are_piecewise_constant_and_a_step_can_flip_the_regime():
    # 150 kW -> power-bound (5e4 token/s); at day 40 450 kW -> compute-bound (1e5 token/s)
    p = run({"p_it": "150 kW", "horizon": "100 day"},
            ['p_it={ steps = [ { at = "40 day", value = "450 kW" } ] }'])
    assert p.totals["tokens_total"] == pytest.approx(0.7 * (5e4 * 40 + 1e5 * 60) * DAY, rel=1e-12)
    assert len(p.switches) == 1 and p.switches[0].t_s == 40 * DAY
    assert (p.switches[0].from_, p.switches[0].to) == ("power", "compute")
    assert p.totals["power_bound_share"] == pytest.approx(0.4, rel=1e-12)


def test_dated_steps_need_and_use_the_start_date(tmp_path):
    scen = tmp_path / "s.toml"
    scen.write_text('kind = "scenario"\nname = "s"\nstart_date = 2026-01-01\nhorizon = "90 day"\n'
                    'k_eff = "1.3e16 FLOP/s"\nc_tok = "1.3e11 FLOP/token"\ne_tok = "3 J/token"\np_it = "150 kW"\n'
                    '[trajectory]\np_it = { steps = [ { at = 2026-01-31, value = "450 kW" } ] }\n')
    p = HZ.project(resolve(Request(scenario=str(scen))))
    assert p.switches[0].t_s == 30 * DAY and p.switches[0].date == "2026-01-31"
    assert p.totals["tokens_total"] == pytest.approx((5e4 * 30 + 1e5 * 60) * DAY, rel=1e-12)
    assert [r["period"] for r in p.periods] == ["2026-01", "2026-02", "2026-03"]


def test_ramp_utilization_and_ramp_power_through_the_crossover():
    p = run({"p_it": "800 kW", "horizon": "200 day"}, ['utilization={ ramp = 0.9, over = "100 day" }'])
    assert p.totals["tokens_total"] == pytest.approx(QK * (0.8 * 100 + 0.9 * 100) * DAY, rel=1e-12)
    # P_IT ramps 150 kW -> 450 kW over 100 days: power ceiling meets 1e5 token/s at t* = 50 days
    q = run({"p_it": "150 kW", "horizon": "100 day"}, ['p_it={ ramp = "450 kW", over = "100 day" }'])
    t_star = 50 * DAY
    power_part = (1.5e5 * t_star + 0.5 * 3e5 / (100 * DAY) * t_star ** 2) / 3.0
    assert q.switches[0].t_s == pytest.approx(t_star, rel=1e-9)
    assert q.totals["tokens_total"] == pytest.approx(0.7 * (power_part + QK * 50 * DAY), rel=1e-9)


def test_facility_energy_is_pue_times_it_energy_and_follows_a_pue_trajectory():
    flags = {"p_facility": "300 kW", "pue": "1.5", "horizon": "120 day",
             "electricity_price": "0.1 USD/kWh", "carbon_intensity": "0.4 kg/kWh"}
    p = run(flags, ['devices={ steps = [ { at = "0 day", value = 8 } ] }'])
    t = p.totals
    assert t["energy_facility_j"] == pytest.approx(1.5 * t["energy_it_j"], rel=1e-12)
    assert t["cost_usd"] == pytest.approx(t["energy_facility_j"] / 3.6e6 * 0.1, rel=1e-12)
    assert t["emissions_kg_co2e"] == pytest.approx(t["energy_facility_j"] / 3.6e6 * 0.4, rel=1e-12)
    # PUE 1.5 -> 1.2 over 120 days at fixed P_IT: E_facility = U·P_IT·∫PUE dt
    q = run({"p_it": "200 kW", "pue": "1.5", "horizon": "120 day"}, ['pue={ ramp = 1.2, over = "120 day" }'])
    assert q.totals["energy_facility_j"] == pytest.approx(0.7 * 2e5 * 1.35 * 120 * DAY, rel=1e-12)


def test_csv_time_series_interpolates_linearly(tmp_path):
    data = tmp_path / "p.csv"
    data.write_text("day,p_it\n0,150\n50,450\n100,450\n")
    p = run({"p_it": "1 W", "horizon": "100 day"},
            [f'p_it={{ csv = "{data}", column = "p_it", unit = "kW", time_unit = "day" }}'])
    power = (150e3 * 25 + 0.5 * 6e3 * 25 ** 2) * DAY / 3.0 + 1e5 * 75 * DAY   # crosses 300 kW at day 25
    assert p.switches[0].t_s == pytest.approx(25 * DAY, rel=1e-9)
    assert p.totals["tokens_total"] == pytest.approx(0.7 * power, rel=1e-10)


def test_time_to_target_tokens():
    p = run({"p_it": "800 kW", "horizon": "100 day"}, target_tokens=0.7 * QK * 10 * DAY)
    assert p.time_to_target_s == pytest.approx(10 * DAY, rel=1e-10)
    g = run({"p_it": "150 kW", "horizon": "1 year"}, ['p_it={ growth = "50 percent/year" }'],
            target_tokens=1e12)
    b = math.log(1.5) / YEAR
    assert g.time_to_target_s == pytest.approx(math.log1p(1e12 * b / (0.7 * 5e4)) / b, rel=1e-9)
    assert run({"p_it": "800 kW", "horizon": "1 day"}, target_tokens=1e15).time_to_target_s is None


def test_periods_sum_to_totals_and_series_has_the_resolution():
    p = run({"p_it": "150 kW", "horizon": "3 year"}, ['p_it={ growth = "40 percent/year" }'], resolution=3600)
    assert p.period_unit == "quarter" and len(p.periods) == 12
    assert sum(r["tokens_total"] for r in p.periods) == pytest.approx(p.totals["tokens_total"], rel=1e-12)
    assert p.t_s.size == int(3 * YEAR / 3600) + 1
    assert p.t_s[1] - p.t_s[0] == 3600


def test_dotted_keys_feed_the_quantity_they_feed():
    flat = HZ.project(resolve(Request(flags={"horizon": "2 year"})))
    grown = HZ.project(resolve(Request(flags={"horizon": "2 year"})),
                       trajectories=HZ.parse_table({"facility": {"power": {"growth": "100 percent/year"}}},
                                                   file="t", start_date=None, base_dir=None))
    assert grown.end["p_it_w"] == pytest.approx(4 * flat.end["p_it_w"], rel=1e-12)
    res = resolve(Request(flags={"horizon": "1 year"}))
    more = HZ.project(res, trajectories=HZ.from_resolved(res, {"devices": {"ramp": 2000, "over": "1 year"}}))
    assert more.end["compute_ceiling_tokens_per_s"] == pytest.approx(2 * more.start["compute_ceiling_tokens_per_s"])
    # the scenario's own e_tok masks the workload's measured one: said, not silently ignored
    masked = resolve(Request(flags={"horizon": "1 year", "e_tok": "3 J/token"}))
    m = HZ.project(masked, trajectories=HZ.from_resolved(masked, {"workload.measured.e_tok": {"ramp": "1 J/token",
                                                                                             "over": "30 day"}}))
    assert any("workload.measured.e_tok has no effect" in n for n in m.notes)


def test_iea_scenario_switches_to_power_bound_before_2030(cli):
    r = cli("project", "iea-energy-and-ai", "-f", "json")
    assert r.code == 0, r.err
    d = r.json()
    for key in ("tokens_total", "energy_it_j", "energy_facility_j", "cost_usd", "emissions_kg_co2e", "switches", "series"):
        assert key in d
    assert [(s["from"], s["to"]) for s in d["switches"]] == [("compute", "power")]
    assert "2028-01-01" <= d["switches"][0]["date"] <= "2029-12-31"
    assert [p["period"] for p in d["periods"]] == [str(y) for y in range(2024, 2031)]
    # the envelope follows the IEA path: 44.07 GW x 1.147^(t/yr) at the end of 2030
    assert d["end"]["p_facility_w"] == pytest.approx(44.07e9 * 1.147 ** (2557 / 365.25), rel=1e-9)
    row = d["series"][0]
    assert set(row) >= {"t_s", "token_rate_tokens_per_s", "compute_ceiling_tokens_per_s",
                        "power_ceiling_tokens_per_s", "binding"}
    assert len(d["series"]) == 2558


def test_cli_table_csv_and_chart(cli):
    r = cli("project", "iea-energy-and-ai")
    assert r.code == 0, r.err
    assert "switches compute → power on 2028" in r.out and "By year" in r.out and "compute ceiling" in r.out
    c = cli("project", "--bare", "--k-eff", "1e16 FLOP/s", "--c-tok", "1e11 FLOP/token", "--e-tok", "2 J/token",
            "--p-it", "100 kW", "--horizon", "10 day", "-f", "csv", "--resolution", "1 day")
    assert c.code == 0, c.err
    lines = c.out.splitlines()
    assert lines[0].startswith("t_s,token_rate_tokens_per_s,compute_ceiling_tokens_per_s,power_ceiling_tokens_per_s")
    assert len(lines) == 12
    pcsv = cli("project", "iea-energy-and-ai", "-f", "csv", "--csv-table", "periods")
    assert pcsv.out.splitlines()[0].startswith("period,t_start_s,t_end_s,tokens_total")


def test_chart_marks_the_switch_and_both_ceilings():
    p = run({"p_it": "150 kW", "horizon": "1 year"}, ['p_it={ growth = "200 percent/year" }'])
    text = chart_text(p, width=60, height=10)
    assert "│" in text and "c" in text and "p" in text and "•" in text
    assert len(text.splitlines()) == 10 + 3


def test_json_is_deterministic(cli):
    a = cli("project", "iea-energy-and-ai", "-f", "json", "--no-series").out
    b = cli("project", "iea-energy-and-ai", "-f", "json", "--no-series").out
    assert a == b and "series" not in json.loads(a)


BAD = [
    ('p_it={ growth = "-150 percent/year" }', "above -100 %"),
    ('p_it={ growth = "30 percent" }', "expected a growth per period"),
    ('p_it={ growth = 0.3 }', "no unit"),
    ('p_it={ ramp = "3 J/token", over = "10 day" }', "trajectory.p_it.ramp"),
    ('p_it={ ramp = "1 MW", over = "10 kg" }', "trajectory.p_it.over"),
    ('p_it={ ramp = "1 MW" }', "needs `over`"),
    ('p_it={ steps = [ { at = "20 day", value = "1 MW" }, { at = "10 day", value = "2 MW" } ] }', "time order"),
    ('p_it={ steps = [ { at = "20 day", value = "1 kg" } ] }', "trajectory.p_it.steps[0].value"),
    ('p_it={ steps = [ { at = 2026-01-01, value = "1 MW" } ] }', "needs the scenario's start_date"),
    ('p_it={ growth = "1 percent/year", ramp = "1 MW" }', "exactly one of"),
    ('p_itt={ growth = "1 percent/year" }', "did you mean 'p_it'"),
    ('precision={ steps = [ { at = "1 day", value = "fp8" } ] }', "cannot vary over time"),
    ('utilization={ growth = "50 percent/year" }', "out of range within the horizon"),
    ('p_it={ grow = "1 percent/year" }', "expected exactly one of"),
    ('p_it={ csv = "missing.csv", column = "x" }', "cannot read"),
]


@pytest.mark.parametrize("spec,message", BAD)
def test_malformed_trajectories_exit_2_with_a_clear_message(cli, spec, message):
    r = cli("project", "--bare", "--k-eff", "1e16 FLOP/s", "--c-tok", "1e11 FLOP/token", "--e-tok", "2 J/token",
            "--p-it", "100 kW", "--utilization", "0.8", "--horizon", "2 year", "--trajectory", spec)
    assert r.code == 2, r.out + r.err
    assert message in r.err and "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_dates_before_the_start_are_errors(tmp_path, cli):
    scen = tmp_path / "s.toml"
    scen.write_text('kind = "scenario"\nname = "s"\nstart_date = 2026-01-01\nhorizon = "90 day"\n'
                    'k_eff = "1e16 FLOP/s"\nc_tok = "1e11 FLOP/token"\ne_tok = "2 J/token"\np_it = "100 kW"\n'
                    '[trajectory]\np_it = { steps = [ { at = 2025-06-01, value = "450 kW" } ] }\n')
    r = cli("project", str(scen))
    assert r.code == 2 and "before the scenario's start_date 2026-01-01" in r.err and "s.toml" in r.err


def test_csv_errors_name_the_line(tmp_path, cli):
    data = tmp_path / "p.csv"
    data.write_text("t,p\n10 day,1 MW\n5 day,2 MW\n")
    r = cli("project", "--bare", "--k-eff", "1e16 FLOP/s", "--c-tok", "1e11 FLOP/token", "--e-tok", "2 J/token",
            "--p-it", "100 kW", "--horizon", "20 day", "--trajectory", f'p_it={{ csv = "{data}", column = "p" }}')
    assert r.code == 2 and "line 3" in r.err and "times must increase" in r.err
    data.write_text("t,p\n0 day,1 kg\n")
    r = cli("project", "--bare", "--k-eff", "1e16 FLOP/s", "--c-tok", "1e11 FLOP/token", "--e-tok", "2 J/token",
            "--p-it", "100 kW", "--horizon", "20 day", "--trajectory", f'p_it={{ csv = "{data}", column = "p" }}')
    assert r.code == 2 and "expected a power" in r.err and "line 2" in r.err


def test_project_tables_fit_80_columns(cli, monkeypatch):
    """At 80 columns no header or cell is cut short (the periods table once printed "power-bou…")."""
    monkeypatch.setenv("COLUMNS", "80")
    run = cli("project", "iea-energy-and-ai", "--no-chart")
    assert run.code == 0, run.err
    assert "…" not in run.out
    assert "power-" in run.out and "$953 M" in run.out
