"""Leaf values, valid-looking and hostile: numbers, quantities with units, counts, text.

Every strategy here draws what a user could type in a profile or on the command line
for one schema field (`tokencalc.resolve.schema.Field`): mostly values the field
accepts (so a case gets past validation and exercises the model), often values it
must refuse with a one-line error (wrong units, huge, tiny, negative, NaN, unicode,
control characters, unit expressions pint evaluates at any cost).
"""

from __future__ import annotations

import math

from functools import lru_cache

from hypothesis import strategies as st

cache = lru_cache(maxsize=None)  # strategies are built once per argument set: drawing is the cost

from tokencalc.resolve import schema as S

# Units a user would write for each dimension (the SI unit first).
UNITS: dict[str, list[str]] = {
    "dimensionless": ["", "%", "percent"],
    "time": ["s", "ms", "min", "h", "hour", "day", "days", "week", "month", "year", "yr"],
    "power": ["W", "kW", "MW", "GW", "mW", "watt", "kilowatt"],
    "energy": ["J", "kJ", "kWh", "MWh", "Wh"],
    "compute_rate": ["FLOP/s", "GFLOP/s", "TFLOP/s", "PFLOP/s", "EFLOP/s", "TFLOPS"],
    "compute_intensity": ["FLOP/token", "GFLOP/token", "TFLOP/token", "FLOP/tok"],
    "energy_intensity": ["J/token", "mJ/token", "kJ/token", "Wh/token", "J/tok"],
    "token_rate": ["token/s", "ktoken/s", "token/h", "tokens/day", "tok/s"],
    "tokens": ["token", "Mtoken", "Gtoken"],
    "bytes": ["B", "kB", "MB", "GB", "GiB", "TB"],
    "bandwidth": ["B/s", "GB/s", "TB/s", "GiB/s"],
    "bytes_per_token": ["B/token", "kB/token", "MB/token"],
    "price": ["USD/kWh", "USD/MWh", "cent/kWh", "USD/J", "dollar/GWh"],
    "carbon_intensity": ["kg/kWh", "g/kWh", "kgCO2e/kWh", "tCO2e/MWh", "gCO2e/kWh"],
    "rate": ["percent/year", "percent/month", "%/year", "1/s", "percent/(6 month)"],
    "currency": ["USD", "dollar", "cent"],
    "carbon": ["kgCO2e", "tCO2e", "kg", "t", "gCO2e"],
    "currency_rate": ["USD/s", "USD/hour", "USD/h", "cent/hour", "USD/day"],
    "price_per_power": ["USD/W", "USD/kW", "USD/MW"],
    "volume": ["L", "mL", "m**3"],
    "water_intensity": ["L/J", "L/kWh", "mL/kWh", "L/MWh"],
}

# Units pint knows that are a trap: offset, logarithmic, angles, odd powers, look-alikes.
STRANGE_UNITS = ["degC", "delta_degC", "degF", "kelvin", "dB", "dBm", "decibel", "octave", "neper", "radian",
                 "rpm", "ppm", "bit", "hartley", "W^2", "W**0.5", "W^(1/2)", "W^-1", "W**99", "J/token/token",
                 "/s", "W/W", "W W", "kg*m^2/s^3", "µW", "ｋW", "W\u200b", "Ｗ", "W;", "W)", "(W", "W[", "W{",
                 "J/(token", "token^0", "s**-1**2", "1/0", "0 W/", "%%", "percent percent", "USD", "kgCO2e",
                 "FLOP", "s/token", "token/FLOP", "m", "lightyear", "planck_time", "eV", "Btu/h", "hp", "ton_TNT",
                 "cal/s", "erg/s", "statwatt", "e", "pi", "E", "Infinity", "nan"]

EDGE_NUMBERS = ["nan", "NaN", "inf", "-inf", "Infinity", "1e309", "-1e309", "-0", "0", "0.0", "-1", "-1e-9",
                "1e60", "1e61", "1e-60", "1e-61", "1e-300", "4.9e-324", "1.7976931348623157e308", "1e308",
                "0x10", "1_000", "١٢", "１２", "12.5.3", "--1", "+", ".", "e5", "1e", "1/0", "0/0", "(1)",
                "2**1000", "9**9**9", "1e5**3", "10^300", "1e-5^-200", "2^-1074", "1 000", "1,5", "  ", "",
                "999999999999999999999999999999", "0.000000000000000000000000000000001"]

HOSTILE_TEXT = ["<script>alert(1)</script>", "{{ 7*7 }}", "{% for x in y %}", "$(touch pwned)", "`id`",
                "\x1b[2J\x1b]0;pwned\x07", "\u202eevil", "\x00", "\ud7ff\ufffd", "a" * 5000, "\\", "\"'",
                "../../etc/passwd", "/dev/zero", "CON", "%s%s%n", "\r\n\r\n", "\t", "é" * 300, "𝕏" * 50]


# Whether hostile values may be drawn: each case decides once (commands.case), so about half the
# cases are valid-looking throughout and reach the model, and the other half mix hostile values in.
HOSTILE = [True]


@st.composite
def _mixed(draw, good: st.SearchStrategy, bad: st.SearchStrategy, odds: int) -> object:
    if HOSTILE[0] and draw(st.integers(0, odds)) == 0:
        return draw(bad)
    return draw(good)


@cache
def mixed(good: st.SearchStrategy, bad: st.SearchStrategy, odds: int = 4) -> st.SearchStrategy:
    """`good`, or in a hostile case `bad` one time in `odds + 1`."""
    return _mixed(good, bad, odds)


def hostile_case() -> bool:
    """True while drawing a case that may contain hostile values."""
    return HOSTILE[0]


# Typical SI magnitudes (log10 low, high) by dimension, and by key where one dimension spans several scales.
TYPICAL: dict[str, tuple[float, float]] = {
    "time": (3, 8.5), "power": (2, 9), "energy": (3, 15), "compute_rate": (12, 21), "compute_intensity": (9, 13),
    "energy_intensity": (-2, 2), "token_rate": (0, 5), "tokens": (3, 15), "bytes": (9, 12), "bandwidth": (11, 13),
    "bytes_per_token": (3, 7), "price": (-8.5, -6.8), "carbon_intensity": (-8.5, -6.5), "rate": (-10, -7),
    "dimensionless": (-2, 2), "currency": (2, 6), "carbon": (1, 4), "currency_rate": (-4, -2.5),
    "price_per_power": (0, 1.5), "volume": (0, 6), "water_intensity": (-7.5, -6),
}
BY_KEY: dict[str, tuple[float, float]] = {
    "active_params": (9, 12), "total_params": (9, 12.5), "bytes_per_param": (-0.4, 0.6), "tdp": (2, 3.2),
    "server_power_per_device": (2.5, 3.5), "device_power": (2, 3.2), "peak_flops": (13, 16),
    "tpot": (-3, -0.5), "ttft": (-2, 0.5), "score": (0, 2), "tolerance": (-1, 0.7), "input_output_ratio": (-1, 1),
    "pue": (-2, -0.2), "it_overhead": (-2, -0.2), "c_tok_factor": (-1, 0.2), "e_tok_factor": (-1, 0.2), "latency_factor": (-0.3, 0.3), "hbm_capacity": (10, 11.5),
}
EXTREME = (-50.0, 50.0)


@cache
def _fmt(x: float) -> st.SearchStrategy[str]:
    """Ways of writing one number: repr, %g, scientific, fixed, with a plus sign."""
    return st.sampled_from([repr(x), f"{x:g}", f"{x:.3e}", f"{x:.6f}".rstrip("0").rstrip(".") or "0", f"+{x!r}"])


@cache
def magnitudes(lo: float = -3.0, hi: float = 7.0) -> st.SearchStrategy[float]:
    """Positive numbers spread over decades, 10^lo .. 10^hi, rounded to 4 significant digits."""
    return st.floats(lo, hi, allow_nan=False).map(lambda e: float(f"{10 ** e:.4g}"))


@cache
def number_text(lo: float = -3.0, hi: float = 7.0) -> st.SearchStrategy[str]:
    """A number as text: mostly ordinary, sometimes an edge case."""
    return mixed(magnitudes(lo, hi).flatmap(_fmt), st.sampled_from(EDGE_NUMBERS), 3)


@cache
def wrong_unit(dim: str) -> st.SearchStrategy[str]:
    """A unit of another dimension, or a strange one."""
    others = [u for d, us in UNITS.items() if d != dim for u in us if u]
    return st.one_of(st.sampled_from(others), st.sampled_from(STRANGE_UNITS))


def _bounds(spec: S.Field, name: str) -> tuple[float, float]:
    lo, hi = BY_KEY.get(name, TYPICAL[spec.dim])
    return lo, hi


@cache
def _dimensionless(spec: S.Field, name: str) -> st.SearchStrategy[float]:
    """A plain number inside the field's bounds: uniform when bounded above, else over decades."""
    if spec.max is not None:  # uniform on a grid of 10^6 steps: no subnormal "nasty" floats in valid values
        lo, hi = (spec.min if spec.min is not None else 0.0), spec.max
        steps = st.integers(1 if spec.min_open else 0, 10**6 - (1 if spec.max_open else 0))
        return steps.map(lambda k: lo + (hi - lo) * k / 10**6)
    lo, hi = _bounds(spec, name)
    base = spec.min if spec.min is not None and spec.min > 0 else 0.0
    return magnitudes(lo, hi).map(lambda x: base + x)


@cache
def valid_quantity(spec: S.Field, name: str = "") -> st.SearchStrategy[str]:
    """`<number> <unit>` text a field accepts: a typical magnitude (sometimes an extreme one) in a unit of its dimension."""
    if spec.dim == "dimensionless":
        return _dimensionless(spec, name).map(lambda x: f"{x:.6g}")
    from tokencalc.units import factor

    lo, hi = _bounds(spec, name)
    exps = st.one_of(st.floats(lo, hi), st.floats(lo, hi), st.floats(lo, hi), st.floats(lo, hi), st.floats(*EXTREME))

    def text(pair: tuple[float, str]) -> str:
        e, unit = pair
        return f"{10 ** e / factor(unit, spec.dim):.5g} {unit}"

    return st.tuples(exps, st.sampled_from(UNITS[spec.dim][:5])).map(text)


@cache
def hostile_quantity(spec: S.Field) -> st.SearchStrategy[str]:
    """Text a quantity field must refuse or read with care: edge numbers, wrong or strange units, no unit, junk."""
    units = UNITS[spec.dim] if spec.dim != "dimensionless" else ["", "%"]
    edge = st.tuples(st.sampled_from(EDGE_NUMBERS), st.sampled_from(units)).map(lambda t: f"{t[0]} {t[1]}".strip())
    wrong = st.tuples(number_text(), wrong_unit(spec.dim)).map(lambda t: f"{t[0]} {t[1]}")
    negative = st.tuples(magnitudes(), st.sampled_from(units)).map(lambda t: f"-{t[0]} {t[1]}".strip())
    return st.one_of(edge, wrong, negative, st.sampled_from(HOSTILE_TEXT[:10]), st.text(max_size=12),
                     st.sampled_from(units).map(lambda u: f"1 {u}" * 60))


@cache
def quantity_text(spec: S.Field, name: str = "") -> st.SearchStrategy[str]:
    """Mostly valid, sometimes hostile text for a quantity field."""
    return mixed(valid_quantity(spec, name), hostile_quantity(spec))


@cache
def valid_quantity_toml(spec: S.Field, name: str = "") -> st.SearchStrategy[object]:
    """A valid TOML value: text, a plain number (dimensionless), or a valid-looking range."""
    good = valid_quantity(spec, name)
    if spec.dim == "dimensionless":
        good = st.one_of(good, _dimensionless(spec, name))
    return st.one_of(good, good, good, good, range_table(spec, name, valid=True))


@cache
def hostile_quantity_toml(spec: S.Field, name: str = "") -> st.SearchStrategy[object]:
    """A TOML value a quantity field must refuse or survive: bare numbers with units missing, NaN, other types."""
    bare = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2**63, 2**63 - 1))
    other = st.one_of(st.booleans(), st.lists(st.integers(), max_size=2), st.dates(), st.just({}))
    return st.one_of(hostile_quantity(spec), bare, other, range_table(spec, name, valid=False))


@cache
def range_table(spec: S.Field, name: str = "", valid: bool = True) -> st.SearchStrategy[dict]:
    """`{ low, mode, high }` or `{ value, rel }`; valid-looking (ordered ends) or not."""
    if valid:
        lo, hi = _bounds(spec, name)
        if spec.dim == "dimensionless":
            ends = st.lists(_dimensionless(spec, name), min_size=3, max_size=3).map(sorted)
            fmt = lambda x: x  # noqa: E731
        else:
            from tokencalc.units import factor

            unit = UNITS[spec.dim][0]
            ends = st.lists(st.floats(lo, hi), min_size=3, max_size=3).map(sorted)
            fmt = lambda e: f"{10 ** e / factor(unit, spec.dim):.5g} {unit}"  # noqa: E731
        tri = ends.map(lambda v: {"low": fmt(v[0]), "mode": fmt(v[1]), "high": fmt(v[2])})
        rel = st.tuples(valid_quantity(spec, name), st.floats(0, 0.9)).map(lambda t: {"value": t[0], "rel": t[1]})
        return st.one_of(tri, tri, rel)
    end = st.one_of(quantity_text(spec, name), st.floats(allow_nan=True))
    tri = st.fixed_dictionaries({"low": end, "high": end}, optional={"mode": end})
    rel = st.fixed_dictionaries({"value": end, "rel": st.one_of(st.floats(-0.5, 1.5), st.just(float("nan")),
                                                                  st.text(max_size=3), st.booleans())})
    odd = st.dictionaries(st.sampled_from(["low", "mode", "high", "value", "rel", "sigma", ""]), end, max_size=4)
    return st.one_of(tri, rel, odd)


@cache
def valid_count(name: str = "") -> st.SearchStrategy[int]:
    """A whole number a count field accepts: small mostly, sometimes large."""
    small = st.integers(1, 4096) if name != "context_length" else st.integers(128, 200_000)
    return st.one_of(small, small, small, st.integers(1, 10**15))


@cache
def hostile_count() -> st.SearchStrategy[object]:
    """Around the limits (0, 1e15, 2^63) and things that are not whole numbers."""
    return st.one_of(st.sampled_from([0, -1, 10**15 + 1, 2**63 - 1, -2**63]),
                     st.sampled_from([1.0, 1.5, float("nan"), float("inf"), 1e300]), st.text(max_size=4),
                     st.booleans(), st.just([1]))


@cache
def count_text() -> st.SearchStrategy[str]:
    """A whole number on the command line (typer parses it as int)."""
    return mixed(valid_count().map(str), st.sampled_from(["0", "-1", "1000000000000000", "1000000000000001", "9223372036854775807",
                                      "99999999999999999999999999", "1e3", "1.5", "abc", "", "٣", "0x10", "1_0"]), 3)


@cache
def plain_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Names, notes, descriptions: ordinary words, any unicode (control characters too) or hostile snippets."""
    return st.one_of(st.text(st.characters(codec="utf-8"), max_size=max_size),
                     st.from_regex(r"[A-Za-z0-9 .,()-]{1,30}", fullmatch=True), st.sampled_from(HOSTILE_TEXT))


@cache
def choice_value(choices: tuple[str, ...] | None) -> st.SearchStrategy[str]:
    """One of the choices, a near miss (case, whitespace, typo), or something else."""
    if not choices:
        return st.sampled_from(["bf16", "fp16", "fp8", "fp4", "int8", "tf32", "fp32", "FP16", "nope", ""])
    pick = st.sampled_from(list(choices))
    near = pick.flatmap(lambda c: st.sampled_from([c.upper(), f" {c}", c[:-1], c + "s", c.replace("-", "_")]))
    return mixed(pick, st.one_of(near, plain_text(10)), 3)


@cache
def field_text(spec: S.Field, name: str = "") -> st.SearchStrategy[str]:
    """Command-line text for any schema field (flags and `--set` values): mostly valid, sometimes hostile."""
    if spec.type == "quantity":
        return quantity_text(spec, name)
    if spec.type == "int":
        return count_text()
    if spec.type == "bool":
        return mixed(st.sampled_from(["true", "false", "1", "0", "yes", "no", "True"]), st.sampled_from(["maybe", "", "2"]))
    if spec.type == "date":
        return mixed(st.dates().map(str), st.sampled_from(["2024-02-30", "0000-01-01", "2024-1-1", "x"]))
    return choice_value(spec.choices)


def finite(x: object) -> bool:
    """True for a finite int or float (bools excluded)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
