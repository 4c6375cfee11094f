"""Cost and impact: capital, operating and energy cost, embodied carbon and water, against hand arithmetic."""

import pytest

from tests.cli_runs import run, run_json
from tokencalc.core import Inputs, estimate

YEAR = 365.25 * 86400.0
KWH = 3.6e6
# 100 devices at 1,000 token/s each, 2 J/token at IT, PUE 1.25, P_IT 1 MW, U = 1: rate 1e5 token/s, 200 kW IT.
BASE = dict(devices=100, throughput_per_device=1000.0, c_tok=1e11, peak_flops=1e15, e_tok=2.0, p_it=1e6, pue=1.25,
            electricity_price=0.1 / KWH, horizon=YEAR)
RATE, IT_W, FAC_W = 1e5, 2e5, 2.5e5


def values(**kw):
    return estimate(Inputs(**{**BASE, **kw})).values


def test_without_capex_or_opex_cost_is_the_electricity_bill():
    r = values()
    assert r["cost_usd"] == pytest.approx(FAC_W * YEAR / KWH * 0.1, rel=1e-12)
    assert r["energy_cost_usd"] == pytest.approx(r["cost_usd"], rel=1e-12)
    assert r["capex_usd"] is None and r["opex_usd"] is None
    assert r["cost_usd_per_million_tokens"] == pytest.approx(2.0 * 1.25 / KWH * 0.1 * 1e6, rel=1e-12)


def test_owned_devices_amortise_straight_line():
    r = values(device_price=30000.0, lifetime=5 * YEAR)
    capex = 100 * 30000.0 / 5                       # one year of a five-year life
    assert r["ownership"] == "owned"
    assert r["capex_usd"] == pytest.approx(capex, rel=1e-12)
    assert r["cost_usd"] == pytest.approx(r["energy_cost_usd"] + capex, rel=1e-12)
    per_m = r["cost_usd_per_million_tokens"]
    assert per_m == pytest.approx(r["cost_usd"] / (RATE * YEAR) * 1e6, rel=1e-12)
    split = sum(r[f"cost_usd_per_million_tokens_{k}"] or 0.0 for k in ("energy", "capex", "opex"))
    assert split == pytest.approx(per_m, rel=1e-12)


def test_rented_devices_pay_by_the_hour():
    r = values(device_hourly_price=2.5 / 3600)
    assert r["ownership"] == "rented"
    assert r["opex_usd"] == pytest.approx(100 * 2.5 * YEAR / 3600, rel=1e-12)
    assert r["capex_usd"] is None
    # all-in: the provider's power and building are in the rental, so the bill is shown but not added
    assert r["cost_usd"] == pytest.approx(r["opex_usd"], rel=1e-12)
    assert r["energy_cost_usd"] > 0
    assert r["cost_usd_per_million_tokens"] == pytest.approx(100 * 2.5 / 3600 / RATE * 1e6, rel=1e-12)


def test_a_listed_hourly_price_alone_does_not_rent(capsys):
    d = run_json(capsys, "estimate", "--hardware", "h100-sxm")
    assert d["inputs"]["device_hourly_price"]["source"].startswith("hardware h100-sxm")
    assert d["ownership"] is None and d["cost_usd"] == pytest.approx(d["energy_cost_usd"])
    rented = run_json(capsys, "estimate", "--ownership", "rented")
    hours = 365 * 24
    assert rented["cost_usd"] == pytest.approx(1000 * hours * d["inputs"]["device_hourly_price"]["value"] * 3600,
                                               rel=1e-9)


def test_ownership_chooses_between_a_price_and_an_hourly_price():
    both = dict(device_price=30000.0, lifetime=5 * YEAR, device_hourly_price=2.5 / 3600)
    assert values(**both)["ownership"] == "owned"
    rented = values(**both, ownership="rented")
    assert rented["capex_usd"] is None
    assert rented["opex_usd"] == pytest.approx(100 * 2.5 * YEAR / 3600, rel=1e-12)


def test_facility_capital_and_operating_cost_scale_with_it_capacity():
    r = values(capex_per_it_power=10.0, facility_lifetime=20 * YEAR, opex_per_it_power=500.0 / 1000 / YEAR)
    assert r["capex_usd"] == pytest.approx(10.0 * 1e6 / 20, rel=1e-12)     # $10/W x 1 MW over 20 years
    assert r["opex_usd"] == pytest.approx(500.0 * 1000, rel=1e-12)          # $500/kW/year x 1,000 kW


def test_embodied_carbon_amortised_over_the_lifetime():
    r = values(embodied_carbon=2000.0, lifetime=4 * YEAR, carbon_intensity=0.4 / KWH)
    assert r["embodied_kg_co2e"] == pytest.approx(100 * 2000.0 / 4, rel=1e-12)
    assert r["embodied_g_co2e_per_token"] == pytest.approx(100 * 2000.0 / (4 * YEAR) / RATE * 1e3, rel=1e-12)
    assert r["emissions_kg_co2e"] == pytest.approx(FAC_W * YEAR / KWH * 0.4, rel=1e-12)  # operational, unchanged


def test_water_from_wue_and_the_grid():
    r = values(wue=1.8 / KWH, grid_water_intensity=3.0 / KWH, output_tokens=400)
    litres = IT_W * YEAR / KWH * 1.8 + FAC_W * YEAR / KWH * 3.0
    assert r["water_l"] == pytest.approx(litres, rel=1e-12)
    per_token_ml = (IT_W * 1.8 + FAC_W * 3.0) / KWH / RATE * 1e3
    assert r["water_ml_per_token"] == pytest.approx(per_token_ml, rel=1e-12)
    assert r["water_ml_per_request"] == pytest.approx(per_token_ml * 400, rel=1e-12)


def test_missing_lifetime_is_a_note_not_a_silent_zero():
    res = estimate(Inputs(**BASE, device_price=30000.0))
    assert res.values["capex_usd"] is None
    assert any("no lifetime" in n for n in res.notes)


def test_arrays_match_points():
    import numpy as np

    from tokencalc.core.engine import evaluate

    life = np.array([3 * YEAR, 5 * YEAR])
    arr = evaluate(Inputs(**BASE, device_price=30000.0, lifetime=life))
    for i, x in enumerate(life):
        one = evaluate(Inputs(**BASE, device_price=30000.0, lifetime=float(x)))
        assert arr["cost"][i] == pytest.approx(one["cost"], rel=1e-12)


def test_cli_cost_flags_and_units(capsys):
    d = run_json(capsys, "estimate", "--device-price", "25000 USD", "--lifetime", "5 year",
                 "--wue", "1.8 L/kWh", "--embodied-carbon", "1.5 tCO2e")
    assert d["capex_usd"] == pytest.approx(1000 * 25000 / 5 * 365 / 365.25, rel=1e-9)
    assert d["embodied_kg_co2e"] == pytest.approx(1000 * 1500 / 5 * 365 / 365.25, rel=1e-9)
    assert d["water_l"] == pytest.approx(d["energy_it_j"] / KWH * 1.8, rel=1e-9)
    code, _, err = run(capsys, "estimate", "--device-hourly-price", "2.5 USD")
    assert code == 2 and "device-hourly-price" in err and "USD/hour" in err


def test_project_integrates_capex_like_estimate(capsys):
    est = run_json(capsys, "estimate", "--device-price", "25000 USD", "--lifetime", "5 year")
    proj = run_json(capsys, "project", "--device-price", "25000 USD", "--lifetime", "5 year")
    assert proj["cost_usd"] == pytest.approx(est["cost_usd"], rel=1e-6)
