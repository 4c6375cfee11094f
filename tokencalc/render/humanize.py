"""Human-scale display of SI floats, for tables and reports only.

JSON and CSV never use these: they carry plain SI floats (STYLE.md rule 12).
Pure Python, no pint, so the table path stays fast.
"""

from __future__ import annotations

import math

_PREFIXES = [(1e24, "Y"), (1e21, "Z"), (1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"),
             (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f")]


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


def si(x: float | None, unit: str, digits: int = 3) -> str:
    """`1.28e6, "W"` -> `"1.28 MW"`; None -> `"—"`."""
    if x is None:
        return "—"
    if x == 0 or not math.isfinite(x):
        return f"{sig(x, digits)} {unit}".strip()
    for factor, prefix in _PREFIXES:
        if abs(x) >= factor * 0.9995:
            return f"{sig(x / factor, digits)} {prefix}{unit}".strip()
    return f"{sig(x, digits)} {unit}".strip()


def count(x: float | None, digits: int = 3) -> str:
    """Large counts as `1.83 trillion`-style text (tokens, devices)."""
    if x is None:
        return "—"
    if abs(x) >= 1e21:
        return f"{x:.{digits - 1}e}"
    for factor, word in [(1e18, "quintillion"), (1e15, "quadrillion"), (1e12, "trillion"), (1e9, "billion"),
                         (1e6, "million")]:
        if abs(x) >= factor:
            return f"{sig(x / factor, digits)} {word}"
    return sig(x, digits)


def energy(j: float | None) -> str:
    """Energy in Wh multiples (kWh, MWh, GWh), the unit planners use."""
    return "—" if j is None else si(j / 3600.0, "Wh")


def rate(tokens_per_s: float | None) -> str:
    """Token rate as token/s and token/day."""
    if tokens_per_s is None:
        return "—"
    return f"{si(tokens_per_s, 'token/s')}  ({count(tokens_per_s * 86400)} token/day)"


def duration(seconds: float | None) -> str:
    """A horizon in days or years."""
    if seconds is None:
        return "—"
    days = seconds / 86400.0
    if days >= 365.25 * 2 - 1e-9:
        return f"{sig(days / 365.25)} years"
    return f"{sig(days)} days"


def money(usd: float | None) -> str:
    """USD with thousands separators."""
    if usd is None:
        return "—"
    if abs(usd) >= 1e6:
        return f"${sig(usd / 1e6)} M"
    return f"${usd:,.2f}" if abs(usd) >= 1 else f"${sig(usd)}"


def mass_co2e(kg: float | None) -> str:
    """Emissions in kg or tonnes CO2e."""
    if kg is None:
        return "—"
    if abs(kg) >= 1e6:
        return si(kg / 1000.0, "tCO2e")  # kt, Mt, Gt
    return f"{sig(kg / 1000.0)} tCO2e" if abs(kg) >= 1000 else f"{sig(kg)} kgCO2e"


def percent(x: float | None) -> str:
    """A fraction as a percentage."""
    return "—" if x is None else f"{sig(x * 100.0)} %"


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
