"""Hourly price and carbon series (docs/model.md §8.2): the mean over the horizon for constant-input
commands, an exact hour-by-hour integral in `project`, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tokencalc.units import factor

KWH = factor("kWh", "energy")
HOUR = factor("hour", "time")
FIXTURE = Path(__file__).parent / "data" / "series" / "synthetic_carbon_week.csv"
# A compute-bound point at constant power: 1e15 FLOP/s / 1e12 FLOP/token = 1000 token/s, 3 J/token -> 3 kW.
POINT = ("--bare", "--k-eff", "1e15 FLOP/s", "--c-tok", "1e12 FLOP/token", "--e-tok", "3 J/token", "--p-it", "1 MW",
         "--pue", "1", "--utilization", "1")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def two(tmp_path):
    """0.05 USD/kWh for 12 h, then 0.15 USD/kWh for 12 h (the series spans 24 h)."""
    return write(tmp_path, "two.csv", "# hand-made\ntimestamp,price (USD/MWh)\n2025-01-01T00:00Z,50\n"
                                      "2025-01-01T12:00Z,150\n")


def price(r):
    return r["inputs"]["electricity_price"]["value"] * KWH


def test_estimate_uses_the_mean_over_the_horizon(cli, two):
    day = cli("estimate", *POINT, "--electricity-price-series", str(two), "--horizon", "24 hour", "-f", "json").json()
    assert price(day) == pytest.approx(0.10, rel=1e-12)
    assert day["cost_usd"] == pytest.approx(3e3 * 24 * HOUR / KWH * 0.10, rel=1e-12)
    src = day["inputs"]["electricity_price"]["source"]
    assert src.startswith("derived: mean of the hourly series over the horizon") and str(two) in src
    info = day["input_series"]["electricity_price"]
    assert info["points"] == 2 and info["span_s"] == 24 * HOUR and info["start"] == "2025-01-01T00:00Z"
    assert info["mean_over_horizon"] * KWH == pytest.approx(0.10) and info["repeats"] is False
    half = cli("estimate", *POINT, "--electricity-price-series", str(two), "--horizon", "12 hour", "-f", "json").json()
    assert price(half) == pytest.approx(0.05, rel=1e-12)


def test_the_series_repeats_cyclically_past_its_end(cli, two):
    r = cli("estimate", *POINT, "--electricity-price-series", str(two), "--horizon", "36 hour", "-f", "json").json()
    assert price(r) == pytest.approx((12 * 0.05 + 12 * 0.15 + 12 * 0.05) / 36, rel=1e-12)
    assert r["input_series"]["electricity_price"]["repeats"] is True
    assert any("repeats cyclically" in n for n in r["notes"])


def test_project_integrates_power_times_price_hour_by_hour(cli, two):
    step = "e_tok={ steps = [ { at = \"12 hour\", value = \"6 J/token\" } ] }"
    r = cli("project", *POINT, "--electricity-price-series", str(two), "--horizon", "24 hour", "--trajectory", step,
            "-f", "json", "--no-series").json()
    # 3 kW for 12 h at 0.05 USD/kWh, then 6 kW for 12 h at 0.15 USD/kWh.
    assert r["cost_usd"] == pytest.approx(3 * 12 * 0.05 + 6 * 12 * 0.15, rel=1e-10)
    assert r["input_series"]["electricity_price"]["points"] == 2
    assert any(t["form"] == "series" and t["feeds"] == "electricity_price" for t in r["trajectories"])


def test_project_at_constant_inputs_equals_estimate(cli):
    common = (*POINT, "--carbon-intensity-series", str(FIXTURE), "--horizon", "10 day", "-f", "json")
    est = cli("estimate", *common).json()
    proj = cli("project", *common, "--no-series").json()
    assert proj["emissions_kg_co2e"] == pytest.approx(est["emissions_kg_co2e"], rel=1e-10)
    assert any("repeats cyclically" in n for n in proj["notes"])


def test_start_date_places_t0_in_the_series(cli, tmp_path, two):
    write(tmp_path, "s.toml", 'kind = "scenario"\nname = "s"\nstart_date = 2025-01-01\n'
                              'electricity_price_series = "two.csv"\nhorizon = "12 hour"\n')
    at0 = cli("estimate", str(tmp_path / "s.toml"), *POINT[1:], "-f", "json").json()
    assert price(at0) == pytest.approx(0.05)
    write(tmp_path, "later.csv", "timestamp,price (USD/MWh)\n2024-12-31T12:00Z,50\n2025-01-01T00:00Z,150\n")
    write(tmp_path, "t.toml", 'kind = "scenario"\nname = "t"\nstart_date = 2025-01-01\n'
                              'electricity_price_series = "later.csv"\nhorizon = "12 hour"\n')
    shifted = cli("estimate", str(tmp_path / "t.toml"), *POINT[1:], "-f", "json").json()
    assert price(shifted) == pytest.approx(0.15)
    assert shifted["input_series"]["electricity_price"]["offset_s"] == 12 * HOUR


def test_a_horizon_array_equals_point_estimates(cli, two):
    # A sweep over the horizon evaluates the engine on an array of horizons: the mean is vectorised.
    from tokencalc.core import evaluate, with_values
    from tokencalc.resolve.scenario import Request, resolve

    flags = {"k_eff": "1e15 FLOP/s", "c_tok": "1e12 FLOP/token", "e_tok": "3 J/token", "p_it": "1 MW", "pue": "1",
             "utilization": "1", "electricity_price_series": str(two)}
    inp = resolve(Request(bare=True, flags=flags)).inputs
    hours = (6, 12, 18, 24, 30)
    costs = evaluate(with_values(inp, horizon=np.array(hours, dtype=float) * HOUR))["cost"]
    for h, cost in zip(hours, costs):
        one = cli("estimate", *POINT, "--electricity-price-series", str(two), "--horizon", f"{h} hour", "-f",
                  "json").json()
        assert cost == pytest.approx(one["cost_usd"], rel=1e-12)
    swept = cli("sweep", *POINT, "--electricity-price-series", str(two), "--vary", "horizon=6 hour,30 hour",
                "-f", "json")
    assert swept.code == 0, swept.err


def test_a_scalar_flag_replaces_a_facility_series_and_a_series_replaces_its_layer_scalar(cli, tmp_path, two):
    write(tmp_path, "two.csv", two.read_text())
    fac = write(tmp_path, "site.toml", 'kind = "facility"\nname = "site"\nit_power = "1 MW"\npue = 1.0\n'
                                       'electricity_price = "0.5 USD/kWh"\nelectricity_price_series = "two.csv"\n')
    args = ("estimate", "--bare", "--facility", str(fac), "--k-eff", "1e15 FLOP/s", "--c-tok", "1e12 FLOP/token",
            "--e-tok", "3 J/token", "--horizon", "24 hour", "-f", "json")
    r = cli(*args).json()
    assert price(r) == pytest.approx(0.10)
    assert any("replaced by the hourly series" in n for n in r["notes"])
    flagged = cli(*args, "--electricity-price", "0.2 USD/kWh").json()
    assert price(flagged) == pytest.approx(0.2) and flagged["input_series"] == {}
    both = cli("estimate", *POINT, "--electricity-price", "0.2 USD/kWh", "--electricity-price-series", str(two))
    assert both.code == 2 and "--electricity-price and --electricity-price-series" in both.err


def test_a_facility_series_is_confined_to_its_folder(cli, tmp_path, two):
    site = tmp_path / "site"
    site.mkdir()
    fac = write(site, "site.toml", 'kind = "facility"\nname = "site"\nit_power = "1 MW"\npue = 1.0\n'
                                   'carbon_intensity_series = "../two.csv"\n')
    r = cli("estimate", "--bare", "--facility", str(fac), "--k-eff", "1e15 FLOP/s", "--c-tok", "1e12 FLOP/token",
            "--e-tok", "3 J/token", "-f", "json")
    assert r.code == 2 and "outside the profile's folder" in r.err and "carbon_intensity_series" in r.err
    assert "Traceback" not in r.err


def test_a_trajectory_on_a_series_key_is_an_error(cli, two):
    r = cli("project", *POINT, "--electricity-price-series", str(two), "--horizon", "24 hour",
            "--trajectory", 'electricity_price={ ramp = "0.2 USD/kWh", over = "1 day" }', "-f", "json")
    assert r.code == 2 and "trajectory.electricity_price" in r.err and "hourly series" in r.err


@pytest.mark.parametrize("text, needle, line", [
    ("timestamp,price (USD/kg)\n2025-01-01,1\n2025-01-02,2\n", "expected a price", 1),
    ("timestamp,price\n2025-01-01,1\n2025-01-02,2\n", "gives no unit", 1),
    ("timestamp,price [USD/MWh]\n2025-01-02,1\n2025-01-01,2\n", "strictly increase", 3),
    ("timestamp,price (USD/MWh)\n2025-01-01,1\nyesterday,2\n", "not an ISO 8601", 3),
    ("timestamp,price (USD/MWh)\n2025-01-01,1\n2025-01-02,cheap\n", "not a number", 3),
    ("timestamp,price (USD/MWh)\n2025-01-01,1\n", "at least two data rows", None),
])
def test_bad_files_name_the_file_and_line(cli, tmp_path, text, needle, line):
    bad = write(tmp_path, "bad.csv", text)
    r = cli("estimate", *POINT, "--electricity-price-series", str(bad), "-f", "json")
    assert r.code == 2 and needle in r.err and str(bad) in r.err and "--electricity-price-series" in r.err
    assert line is None or f"line {line}" in r.err
    assert "Traceback" not in r.err and len(r.err.strip().splitlines()) == 1


def test_a_negative_carbon_intensity_and_a_folder_are_refused(cli, tmp_path):
    bad = write(tmp_path, "neg.csv", "timestamp,ci (gCO2e/kWh)\n2025-01-01,1\n2025-01-02,-2\n")
    r = cli("estimate", *POINT, "--carbon-intensity-series", str(bad))
    assert r.code == 2 and "cannot be negative" in r.err and "line 3" in r.err
    r = cli("estimate", *POINT, "--carbon-intensity-series", str(tmp_path))
    assert r.code == 2 and "not a regular file" in r.err


def test_plain_mass_per_kwh_is_co2e_and_offsets_are_read(cli, tmp_path):
    ci = write(tmp_path, "ci.csv", "timestamp,carbon_intensity (g/kWh)\n2025-01-01T01:00+01:00,100\n"
                                   "2025-01-01T01:00:00,300\n")
    r = cli("estimate", *POINT, "--carbon-intensity-series", str(ci), "--horizon", "2 hour", "-f", "json").json()
    # +01:00 is 00:00 UTC; a naive time is UTC: 100 g for the first hour, 300 g for the second.
    assert r["input_series"]["carbon_intensity"]["start"] == "2025-01-01T00:00Z"
    assert r["inputs"]["carbon_intensity"]["value"] * KWH * 1e3 == pytest.approx(200.0)


def test_output_is_deterministic(cli, two):
    args = ("project", *POINT, "--electricity-price-series", str(two), "--carbon-intensity-series", str(FIXTURE),
            "--horizon", "3 day", "-f", "json")
    assert cli(*args).out == cli(*args).out


def test_the_mean_is_vectorised_and_exact():
    from tokencalc.core.series import Series

    s = Series("electricity_price", np.array([0.0, 10.0, 30.0]), np.array([1.0, 2.0, 4.0]), 40.0, "x", "t0", "u")
    ends = np.array([5.0, 10.0, 30.0, 40.0, 80.0, 90.0])
    assert np.allclose(s.mean(0.0, ends), [1.0, 1.0, 50 / 30, 90 / 40, 2.25, (180 + 10) / 90])
    assert s.mean(5.0, 5.0) == 1.0 and s.value_at(41.0) == 1.0
    at, values = s.steps(45.0)
    assert at.tolist() == [0.0, 10.0, 30.0, 40.0] and values.tolist() == [1.0, 2.0, 4.0, 1.0]


def test_the_bundled_gb_sample_is_real_half_hourly_data(capsys):
    # profiles/series/gb-carbon-intensity-2023-03.csv: GB Carbon Intensity API "actual" values (CC BY 4.0)
    from tests.cli_runs import run_json

    d = run_json(capsys, "estimate", "--carbon-intensity-series", "profiles/series/gb-carbon-intensity-2023-03.csv",
                 "--horizon", "5 day")
    s = d["input_series"]["carbon_intensity"]
    assert s["points"] == 278 and s["interval_s"] == 1800 and s["start"].startswith("2023-03-14T01:00")
    g_per_kwh = s["mean_over_horizon"] * 3.6e9  # kg/J -> g/kWh
    assert 58 <= s["min"] * 3.6e9 <= g_per_kwh <= s["max"] * 3.6e9 <= 251
    assert d["emissions_kg_co2e"] == pytest.approx(d["energy_facility_j"] * s["mean_over_horizon"], rel=1e-9)
