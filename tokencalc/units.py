"""The one unit registry of tokencalc, and the unit-checked boundary.

Everything that turns user text into numbers goes through :func:`parse`, which
checks the dimension and returns a plain SI float. The engine then computes on
floats (fast, and vectorizable with numpy), and every output carries an
explicit SI unit name.
"""

from __future__ import annotations

import math
import re
import sys
from functools import lru_cache
from importlib import resources

from .errors import UnitError, where

# SI unit (as shown in JSON/CSV and used in error messages) for each dimension
# the tool knows. Keys are the names used by the profile schema.
DIMENSIONS: dict[str, tuple[str, str]] = {
    # name: (pint dimensionality string, SI unit we report in)
    "dimensionless": ("", "1"),
    "time": ("[time]", "s"),
    "power": ("[mass] * [length] ** 2 / [time] ** 3", "W"),
    "energy": ("[mass] * [length] ** 2 / [time] ** 2", "J"),
    "compute": ("[compute]", "FLOP"),
    "compute_rate": ("[compute] / [time]", "FLOP/s"),
    "compute_intensity": ("[compute] / [token]", "FLOP/token"),
    "energy_intensity": ("[mass] * [length] ** 2 / [time] ** 2 / [token]", "J/token"),
    "token_rate": ("[token] / [time]", "token/s"),
    "tokens": ("[token]", "token"),
    "bytes": ("[information]", "B"),
    "bandwidth": ("[information] / [time]", "B/s"),
    "bytes_per_token": ("[information] / [token]", "B/token"),
    "price": ("[currency] * [time] ** 2 / [mass] / [length] ** 2", "USD/J"),
    "carbon_intensity": ("[carbon] * [time] ** 2 / [mass] / [length] ** 2", "kgCO2e/J"),
    "currency": ("[currency]", "USD"),
    "carbon": ("[carbon]", "kgCO2e"),
    "rate": ("1 / [time]", "1/s"),
    "currency_rate": ("[currency] / [time]", "USD/s"),
    "price_per_power": ("[currency] * [time] ** 3 / [mass] / [length] ** 2", "USD/W"),
    "volume": ("[length] ** 3", "L"),
    "water_intensity": ("[length] * [time] ** 2 / [mass]", "L/J"),
}

# How users usually write each dimension, for "expected ..." in error messages.
EXAMPLES: dict[str, str] = {
    "dimensionless": "a plain number",
    "time": '"365 day"',
    "power": '"700 W"',
    "energy": '"1 MWh"',
    "compute": '"1e15 FLOP"',
    "compute_rate": '"989 TFLOP/s"',
    "compute_intensity": '"1.3e11 FLOP/token"',
    "energy_intensity": '"3 J/token"',
    "token_rate": '"900 token/s"',
    "tokens": '"1e9 token"',
    "bytes": '"80 GB"',
    "bandwidth": '"3.35 TB/s"',
    "bytes_per_token": '"70.272 kB/token"',
    "price": '"0.08 USD/kWh"',
    "carbon_intensity": '"0.4 kg/kWh"',
    "currency": '"1000 USD"',
    "carbon": '"1 tCO2e"',
    "rate": '"30 percent/year"',
    "currency_rate": '"2.99 USD/hour"',
    "price_per_power": '"10000 USD/kW"',
    "volume": '"1000 L"',
    "water_intensity": '"1.8 L/kWh"',
}


@lru_cache(maxsize=1)
def registry():
    """Build (once) the pint registry from tokencalc's own definitions file.

    Returns:
        The process-wide `pint.UnitRegistry`.
    """
    # pint imports numpy eagerly if it is installed (~90 ms) although the
    # boundary only ever handles scalars; hide it during pint's import.
    hidden = "numpy" not in sys.modules
    if hidden:
        sys.modules["numpy"] = None  # type: ignore[assignment]
    try:
        import pint
    finally:
        if hidden:
            del sys.modules["numpy"]
    defs = resources.files("tokencalc").joinpath("units.txt")
    with resources.as_file(defs) as path:
        ureg = pint.UnitRegistry(str(path), autoconvert_offset_to_baseunit=False, on_redefinition="raise")
    return ureg


@lru_cache(maxsize=None)
def _dimensionality(dim: str):
    return registry().get_dimensionality(DIMENSIONS[dim][0]) if DIMENSIONS[dim][0] else registry().get_dimensionality("")


def _describe(dimensionality) -> str:
    text = str(dimensionality)
    return "dimensionless" if text in ("", "dimensionless") else text


@lru_cache(maxsize=4096)
def _parse_text(text: str):
    ureg = registry()
    return ureg.Quantity(text)


def to_si(quantity, dim: str, *, file: str | None = None, key: str | None = None) -> float:
    """Convert a pint quantity to a plain float in the SI unit of `dim`, checking dimension."""
    ureg = registry()
    want = _dimensionality(dim)
    if dim == "carbon_intensity" and quantity.dimensionality == ureg.get_dimensionality("[mass]/[mass]/[length]**2*[time]**2"):
        # "0.4 kg/kWh" is the usual way to write grid intensity: read the mass as CO2e.
        quantity = quantity * ureg.Quantity(1, "gram_CO2e / gram")
    elif dim == "carbon" and quantity.dimensionality == ureg.get_dimensionality("[mass]"):
        quantity = quantity * ureg.Quantity(1, "gram_CO2e / gram")  # "1500 kg" of emissions: CO2e, likewise
    if quantity.dimensionality != want:
        got_unit = f"{quantity.units:~}" or "no unit"
        raise UnitError(
            f"{where(file, key)}expected {_article(dim)} ({DIMENSIONS[dim][1]}, e.g. {EXAMPLES[dim]}), "
            f"got '{quantity:~}' ({got_unit}: {_describe(quantity.dimensionality)})"
        )
    target = DIMENSIONS[dim][1]
    if dim == "carbon_intensity":
        target = "kgCO2e/J"
    elif dim == "carbon":
        target = "kgCO2e"
    value = float(quantity.to(target).magnitude) if target != "1" else float(quantity.to("").magnitude)
    if not math.isfinite(value):
        raise UnitError(f"{where(file, key)}expected a finite number, got {value}")
    return value


# Inputs beyond these SI magnitudes are outside any physical range, and products of a
# handful of them would overflow a float: refused where they are read.
MAX_MAGNITUDE = 1e60
MIN_MAGNITUDE = 1e-60
MAX_TEXT = 200
# A power in a unit expression: `**` or `^` with a small integer exponent (m^2, s**-1).
_POWER = re.compile(r"\*\*|\^")
_EXPONENT = re.compile(r"\s*\(?\s*[+-]?\d{1,2}(?:\.\d+)?\s*\)?")
# A number written after a number or a unit with only a space between ("1 500 kW", "2 MW 3"): pint reads
# juxtaposition as multiplication (500 kW, 6 MW), never what was meant.
_JUXTAPOSED = re.compile(r"[\w)\]%]\s+\(?\s*[+-]?\.?\d")


def check_magnitude(value: float, *, file: str | None = None, key: str | None = None, shown: object = None) -> float:
    """Refuse a value outside any physical range (|x| > 1e60 or 0 < |x| < 1e-60, in SI)."""
    if not math.isfinite(value):
        raise UnitError(f"{where(file, key)}expected a finite number, got {shown if shown is not None else value}")
    if abs(value) > MAX_MAGNITUDE or 0 < abs(value) < MIN_MAGNITUDE:
        raise UnitError(f"{where(file, key)}{shown if shown is not None else value!r} is {value:.3g} in SI units, "
                        f"outside any physical range (|x| from {MIN_MAGNITUDE:g} to {MAX_MAGNITUDE:g})")
    return value


def _check_expression(text: str, dim: str, file: str | None, key: str | None) -> None:
    """Refuse text pint would evaluate at any cost: very long text, or powers beyond small integers."""
    if len(text) > MAX_TEXT:
        raise UnitError(f"{where(file, key)}expected {_expected(dim)}, got {len(text)} characters of text "
                        f"(at most {MAX_TEXT})")
    if _JUXTAPOSED.search(text):
        raise UnitError(f"{where(file, key)}could not read '{text}' as a quantity: a number follows another value with "
                        f"only a space between (no thousands separators; write 1500 kW, not 1 500 kW); "
                        f"expected {_expected(dim)}")
    for m in _POWER.finditer(text):
        exp = _EXPONENT.match(text, m.end())
        if exp is None or _POWER.match(text, exp.end()):
            raise UnitError(f"{where(file, key)}could not read '{text}' as a quantity: powers are allowed only "
                            f"with a small whole exponent (m^2, s**-1); expected {_expected(dim)}")


def parse(value, dim: str, *, file: str | None = None, key: str | None = None) -> float:
    """Parse a user value (a string with a unit, or a bare number) to an SI float.

    Args:
        value: `"3 J/token"`, `"1 MW"`, `0.7`, ... A bare number is accepted only
            for dimensionless quantities.
        dim: a key of :data:`DIMENSIONS`.
        file: the file the value came from, for error messages.
        key: the key path of the value, for error messages.

    Returns:
        The magnitude in the SI unit `DIMENSIONS[dim][1]`.

    Raises:
        UnitError: unparseable text, a missing unit, or the wrong dimension.
    """
    if isinstance(value, bool):
        raise UnitError(f"{where(file, key)}expected {_expected(dim)}, got a boolean ({str(value).lower()})")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise UnitError(f"{where(file, key)}expected a finite number, got {value}")
        if dim == "dimensionless":
            return check_magnitude(float(value), file=file, key=key, shown=value)
        raise UnitError(f"{where(file, key)}expected {_expected(dim)}, got the bare number {value!r} (no unit)")
    if not isinstance(value, str):
        raise UnitError(f"{where(file, key)}expected {_expected(dim)}, got {type(value).__name__} {value!r}")
    text = value.strip()
    if not text:
        raise UnitError(f"{where(file, key)}expected {_expected(dim)}, got an empty string")
    _check_expression(text, dim, file, key)
    fast = _fast(text, dim)
    if fast is not None:
        return check_magnitude(fast, file=file, key=key, shown=text)
    registry()  # a missing or broken pint is an install problem, not the user's text
    try:
        quantity = _parse_text(text)
        if not hasattr(quantity, "dimensionality"):  # "0.7" parses to a plain number
            return parse(float(quantity), dim, file=file, key=key)
        return check_magnitude(to_si(quantity, dim, file=file, key=key), file=file, key=key, shown=text)
    except UnitError:
        raise
    except Exception as exc:  # pint raises several unrelated types for bad text (and overflows)
        raise UnitError(f"{where(file, key)}could not read '{text}' as a quantity ({_short(exc)}); expected {_expected(dim)}") from None


_NUMBER = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*)$")


def _fast(text: str, dim: str) -> float | None:
    """The common case without importing pint (~100 ms): `<number> <unit>` with
    a unit string whose conversion pint itself computed into `unit_table`
    (a test re-derives every entry with pint). None means: ask pint."""
    m = _NUMBER.match(text)
    if m is None:
        return None
    from .unit_table import UNITS

    entry = UNITS.get(m.group(2))
    if entry is None or dim not in entry:
        return None  # unknown unit, or a dimension error: pint words the message
    value = float(m.group(1)) * entry[dim]
    return value if math.isfinite(value) else None


def fast_units() -> list[str]:
    """The unit strings the fast path knows, to (re)generate `unit_table.py` with pint."""
    prefixed = lambda units, prefixes: [p + u for u in units for p in prefixes]  # noqa: E731
    si = ["", "k", "M", "G", "T", "P"]
    small = ["m", "µ", "u"]
    per = lambda nums, dens: [f"{n}/{d}" for n in nums for d in dens]  # noqa: E731
    names = (
        [""] + ["%", "percent"]
        + prefixed(["W"], si + small) + ["watt", "watts", "kilowatt", "megawatt", "gigawatt"]
        + prefixed(["J", "Wh"], si + small) + ["joule", "joules"]
        + per(prefixed(["J", "Wh"], si + small), ["token", "tok", "tokens"])
        + per(prefixed(["FLOP", "flop"], si + ["E"]), ["s", "token", "tok"]) + prefixed(["FLOPS"], si + ["E"])
        + prefixed(["FLOP", "FLOPs"], si + ["E"])
        + per(prefixed(["token", "tokens", "tok"], si), ["s", "h", "day", "second", "hour"])
        + prefixed(["token", "tokens"], si)
        + prefixed(["B", "bit"], si) + prefixed(["B"], ["Ki", "Mi", "Gi", "Ti"])
        + per(prefixed(["B", "bit"], si) + prefixed(["B"], ["Ki", "Mi", "Gi", "Ti"]), ["s", "token", "tok"])
        + per(["USD", "cent", "dollar"], prefixed(["Wh"], si) + ["J", "MJ", "GJ"])
        + per(["kg", "g", "t", "gCO2e", "kgCO2e", "tCO2e"], prefixed(["Wh"], si) + ["J", "MJ", "GJ"])
        + ["USD", "kgCO2e", "tCO2e", "gCO2e"]
        + ["s", "ms", "us", "µs", "ns", "second", "seconds", "min", "minute", "minutes", "h", "hr", "hour", "hours",
           "d", "day", "days", "week", "weeks", "month", "months", "year", "years", "yr", "a"]
        + per(["percent", "%", "1"], ["year", "yr", "a", "month", "day", "s"])
    )
    return sorted(set(names))


def build_table() -> dict[str, dict[str, float]]:
    """Ask pint for the SI factor of every fast unit string, per matching dimension."""
    ureg = registry()
    table: dict[str, dict[str, float]] = {}
    for unit in fast_units():
        q = ureg.Quantity(1.0, unit) if unit else ureg.Quantity(1.0)
        entry = {}
        for dim in DIMENSIONS:
            try:
                entry[dim] = to_si(q, dim)
            except UnitError:
                continue
        if entry:
            table[unit] = entry
    return table


def write_table(path: str) -> None:
    """Regenerate tokencalc/unit_table.py (run `python -m tokencalc.units`)."""
    lines = ['"""Unit conversions computed by pint from units.txt, so the common case needs no pint import.',
             "", "Generated by `python -m tokencalc.units`; do not edit. tests/test_units.py checks every entry.", '"""',
             "", "UNITS: dict[str, dict[str, float]] = {"]
    for unit, entry in sorted(build_table().items()):
        lines.append(f"    {unit!r}: {{" + ", ".join(f"{d!r}: {v!r}" for d, v in sorted(entry.items())) + "},")
    lines.append("}")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


def _expected(dim: str) -> str:
    if dim == "dimensionless":
        return "a plain number"
    return f"{_article(dim)} in {DIMENSIONS[dim][1]} or compatible units (e.g. {EXAMPLES[dim]})"


def _article(dim: str) -> str:
    words = dim.replace("_", " ")
    return ("an " if words[0] in "aeiou" else "a ") + words


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


def factor(unit: str, dim: str) -> float:
    """SI value of one `unit` of dimension `dim` ("kWh", "energy" -> 3.6e6), for display conversions.

    Answered from the pint-derived table without importing pint; other units ask pint.
    """
    from .unit_table import UNITS

    entry = UNITS.get(unit)
    if entry is not None and dim in entry:
        return entry[dim]
    return parse(f"1 {unit}", dim)


def convert(value_si: float, dim: str, unit: str) -> float:
    """Convert an SI float of dimension `dim` to `unit` (for display and reports)."""
    ureg = registry()
    si = DIMENSIONS[dim][1]
    if dim == "carbon_intensity":
        si = "kgCO2e/J"
    elif dim == "carbon":
        si = "kgCO2e"
    return float(ureg.Quantity(value_si, si).to(unit).magnitude)


if __name__ == "__main__":
    from pathlib import Path

    write_table(str(Path(__file__).with_name("unit_table.py")))
