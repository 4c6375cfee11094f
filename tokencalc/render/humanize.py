"""Human-scale display of SI floats, for tables, charts and reports only.

One humanizer: :func:`quantity` picks the form from the SI unit (Wh multiples
for energy, days or years for horizons, USD/kWh for prices, kt CO₂e for large
emissions, an SI prefix otherwise), so a quantity looks the same in every
command. Conversion factors come from the unit registry's table
(`units.factor`), not hand-written constants. JSON and CSV never use these:
they carry plain SI floats. Pure Python, no pint import.
"""

from __future__ import annotations

import math
from typing import Any

from ..units import factor

# The one SI-prefix ladder.
PREFIXES = ((1e24, "Y"), (1e21, "Z"), (1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"),
            (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f"))
COUNT_WORDS = ((1e18, "quintillion"), (1e15, "quadrillion"), (1e12, "trillion"), (1e9, "billion"), (1e6, "million"))
DASH = "—"


def sig(x: float, digits: int = 3) -> str:
    """`x` to `digits` significant figures, without exponent for moderate values."""
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return str(x)
    mag = math.floor(math.log10(abs(x)))
    if -4 <= mag < 6:
        decimals = max(digits - 1 - mag, 0)
        return f"{x:,.{decimals}f}"
    return f"{x:.{digits - 1}e}"


def prefix(x: float) -> tuple[float, str]:
    """(scale, prefix) of the SI prefix that puts |x| in [1, 1000)."""
    if x == 0 or not math.isfinite(x):
        return 1.0, ""
    for scale, p in PREFIXES:
        if abs(x) >= scale * 0.9995:
            return scale, p
    return PREFIXES[-1]


def si(x: float | None, unit: str, digits: int = 3) -> str:
    """`1.28e6, "W"` -> `"1.28 MW"`; None -> `"—"`."""
    if x is None:
        return DASH
    scale, p = prefix(x)
    return f"{sig(x / scale, digits)} {p}{unit}".strip()


def count(x: float | None, digits: int = 3) -> str:
    """Large counts as `1.83 trillion`-style text (tokens, devices)."""
    if x is None:
        return DASH
    if abs(x) >= 1e21:
        return f"{x:.{digits - 1}e}"
    for scale, word in COUNT_WORDS:
        if abs(x) >= scale:
            return f"{sig(x / scale, digits)} {word}"
    return sig(x, digits)


def energy(j: float | None, digits: int = 3) -> str:
    """Energy in Wh multiples (kWh, MWh, GWh), the unit planners use."""
    return DASH if j is None else si(j / factor("Wh", "energy"), "Wh", digits)


def rate(tokens_per_s: float | None) -> str:
    """Token rate as token/s and token/day."""
    if tokens_per_s is None:
        return DASH
    return f"{si(tokens_per_s, 'token/s')}  ({count(tokens_per_s * factor('day', 'time'))} token/day)"


def duration(seconds: float | None, digits: int = 3) -> str:
    """A horizon in days or years (seconds below a day)."""
    if seconds is None:
        return DASH
    day, year = factor("day", "time"), factor("year", "time")
    if seconds < day:
        return si(seconds, "s", digits)
    if seconds >= 2 * year - 1e-6:
        return f"{sig(seconds / year, digits)} years"
    return f"{sig(seconds / day, digits)} days"


def money(usd: float | None, digits: int = 3) -> str:
    """USD: $1.23 M / $4.56 B for large sums, whole dollars from $1,000, cents below."""
    if usd is None:
        return DASH
    a = abs(usd)
    if a >= 1e9:
        return f"${sig(usd / 1e9, digits)} B"
    if a >= 1e6:
        return f"${sig(usd / 1e6, digits)} M"
    if a >= 1e3:
        return f"${usd:,.0f}"
    return f"${usd:,.2f}" if a >= 1 else f"${sig(usd, digits)}"


def mass_co2e(kg: float | None, digits: int = 3) -> str:
    """Emissions in kg, t, kt, Mt CO2e."""
    if kg is None:
        return DASH
    if abs(kg) >= 1000:
        return si(kg / factor("tCO2e", "carbon"), "tCO2e", digits)  # t, kt, Mt, Gt
    return f"{sig(kg, digits)} kgCO2e"


def percent(x: float | None) -> str:
    """A fraction as a percentage."""
    return DASH if x is None else f"{sig(x * 100.0)} %"


def per_kwh(x: float, what: str, digits: int = 3) -> str:
    """A price or intensity per joule shown per kWh ("0.08 USD/kWh")."""
    return f"{sig(x * factor('kWh', 'energy'), digits)} {what}/kWh"


def quantity(x: Any, unit: str, digits: int = 3) -> str:
    """The one humanizer: an SI value of `unit` as people read it."""
    if x is None:
        return DASH
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, str) or unit == "":
        return str(x)
    x = float(x)
    if unit == "1":
        return sig(x, digits)
    special = {"s": duration, "J": energy, "USD": money, "kgCO2e": mass_co2e, "token": count,
               "mL": lambda v, n: f"{sig(v, n)} mL",  # per token or request: millilitres, as published
               "USD/s": lambda v, n: f"{money(v * factor('hour', 'time'), n)}/hour"}  # rentals are quoted per hour
    if unit in special:
        return special[unit](x, digits)
    if unit == "USD/J":
        return per_kwh(x, "USD", digits)
    if unit == "kgCO2e/J":
        return per_kwh(x, "kgCO2e", digits)
    return si(x, unit, digits)


def ms(seconds: float | None) -> str:
    """A latency in milliseconds."""
    return DASH if seconds is None else f"{sig(seconds / factor('ms', 'time'))} ms"


def latex_number(x: float | None, digits: int = 3) -> str:
    """A number that typesets well in LaTeX math: `1.28\\times10^{6}`."""
    if x is None:
        return "---"
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    if -3 <= mag < 5:
        return sig(x, digits).replace(",", "{,}")
    mant = x / 10**mag
    m = f"{mant:.{digits - 1}f}"
    if m.startswith("10"):
        mag += 1
        m = f"{mant / 10:.{digits - 1}f}"
    return rf"{m}\times10^{{{mag}}}"
