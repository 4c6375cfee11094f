"""The unit registry and the unit-checked boundary."""

import math

import pytest

from tokencalc import units
from tokencalc.errors import UnitError


@pytest.mark.parametrize("text,dim,si", [
    ("3 J/token", "energy_intensity", 3.0),
    ("3 kJ/token", "energy_intensity", 3000.0),
    ("1.3e11 FLOP/token", "compute_intensity", 1.3e11),
    ("989.4 TFLOP/s", "compute_rate", 9.894e14),
    ("5 TFLOPS", "compute_rate", 5e12),
    ("2 PFLOP/s", "compute_rate", 2e15),
    ("0.08 USD/kWh", "price", 0.08 / 3.6e6),
    ("8 cent/kWh", "price", 0.08 / 3.6e6),
    ("0.4 kg/kWh", "carbon_intensity", 0.4 / 3.6e6),
    ("400 gCO2e/kWh", "carbon_intensity", 0.4 / 3.6e6),
    ("3.35 TB/s", "bandwidth", 3.35e12),
    ("80 GB", "bytes", 8e10),
    ("80 GiB", "bytes", 80 * 2**30),
    ("70.272 kB/token", "bytes_per_token", 70272.0),
    ("1 MW", "power", 1e6),
    ("945 TWh", "energy", 945e12 * 3600),
    ("365 day", "time", 365 * 86400.0),
    ("1 year", "time", 365.25 * 86400.0),
    ("900 token/s", "token_rate", 900.0),
    ("70 %", "dimensionless", 0.7),
    ("1.2", "dimensionless", 1.2),
])
def test_parse_to_si(text, dim, si):
    assert units.parse(text, dim) == pytest.approx(si, rel=1e-12)


def test_percent_per_year_is_a_rate():
    assert units.parse("30 percent/year", "rate") == pytest.approx(0.3 / (365.25 * 86400), rel=1e-12)


def test_bare_numbers_only_for_dimensionless():
    assert units.parse(0.7, "dimensionless") == 0.7
    with pytest.raises(UnitError, match="no unit"):
        units.parse(700, "power", file="h.toml", key="tdp")


@pytest.mark.parametrize("text,dim", [
    ("1/s", "bandwidth"),          # bytes are a real dimension: GB/s is not 1/s
    ("3 W", "energy_intensity"),
    ("3 J", "energy_intensity"),   # token is a real dimension
    ("1e15 FLOP", "compute_rate"),
    ("1 USD", "price"),
    ("0.4 kg", "carbon_intensity"),
])
def test_wrong_dimension_is_an_error_naming_file_key_found_expected(text, dim):
    with pytest.raises(UnitError) as exc:
        units.parse(text, dim, file="w.toml", key="measured.e_tok")
    msg = str(exc.value)
    assert "measured.e_tok in w.toml" in msg
    assert "expected" in msg and "got" in msg
    assert units.DIMENSIONS[dim][1] in msg


@pytest.mark.parametrize("bad", ["", "abc", "3 parsecs/token", "nan W", "inf W", "1e400 W", True, [1]])
def test_garbage_is_a_unit_error(bad):
    with pytest.raises(UnitError):
        units.parse(bad, "power", key="k")


def test_convert_round_trip():
    assert units.convert(3.6e6, "energy", "kWh") == pytest.approx(1.0)
    assert units.convert(units.parse("0.4 kg/kWh", "carbon_intensity"), "carbon_intensity", "g/kWh".replace("g", "gCO2e")) == pytest.approx(400)


def test_one_registry():
    assert units.registry() is units.registry()
    assert not math.isnan(units.parse("1 W", "power"))


def test_fast_table_is_what_pint_computes():
    # unit_table.py is a memo of pint's answers (start-up speed); it must match pint exactly
    from tokencalc.unit_table import UNITS

    assert UNITS == units.build_table(), "regenerate with: python -m tokencalc.units"


@pytest.mark.parametrize("text,dim", [("3 J/token", "energy_intensity"), ("0.4 kg/kWh", "carbon_intensity"),
                                      ("989.4 TFLOP/s", "compute_rate"), ("30 percent/year", "rate"),
                                      ("2.5e3 kW", "power"), ("-1 MW", "power"), (".5 day", "time")])
def test_fast_path_agrees_with_pint(text, dim):
    fast = units._fast(text, dim)
    assert fast is not None
    assert fast == pytest.approx(units.to_si(units._parse_text(text), dim), rel=1e-12)


def test_fast_path_defers_dimension_errors_to_pint():
    assert units._fast("3 W", "energy_intensity") is None
    assert units._fast("3 parsec", "time") is None


@pytest.mark.parametrize("text,dim", [("1 500 kW", "power"), ("1 2", "dimensionless"), ("2 MW 3", "power"),
                                      ("10 % 5", "dimensionless"), ("4 (6 month)", "time"), ("1\x0c2", "dimensionless")])
def test_numbers_next_to_each_other_are_refused_not_multiplied(text, dim):
    # Found while reading the fuzz harness's cases: pint multiplies juxtaposed values, so "1 500 kW"
    # read as 500 kW and "1 2" as 2 (a silently wrong number).
    with pytest.raises(UnitError, match="a number follows another value"):
        units.parse(text, dim, key="--x")


@pytest.mark.parametrize("text,dim,si", [("30 percent/(6 month)", "rate", 0.3 / (6 * 2629800.0)),
                                         ("1e5 percent/day", "rate", 1000.0 / 86400.0), ("2 W", "power", 2.0)])
def test_ordinary_quantities_still_parse(text, dim, si):
    assert units.parse(text, dim) == pytest.approx(si, rel=1e-12)
