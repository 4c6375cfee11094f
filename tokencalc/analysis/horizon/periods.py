"""Periods of the projection's table (calendar months, quarters, years with a start date) and defaults."""

from __future__ import annotations

import datetime as _dt
import math

import numpy as np

from ...units import factor

DAY = factor("day", "time")
YEAR = factor("year", "time")
HOUR = factor("h", "time")


def date_of(start_date: str | None, t_s: float) -> str | None:
    """ISO date of an offset from the start date (None without one)."""
    if start_date is None:
        return None
    return (_dt.datetime.fromisoformat(start_date) + _dt.timedelta(seconds=float(t_s))).date().isoformat()


def _add_months(d: _dt.date, months: int) -> _dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    return _dt.date(d.year + y, m + 1, 1)


def period_edges(horizon_s: float, start_date: str | None, unit: str) -> tuple[np.ndarray, list[str]]:
    """Edges (s) and labels of the resampling periods: calendar ones with a start date, fixed lengths without."""
    if start_date is not None and unit in ("month", "quarter", "year"):
        start = _dt.date.fromisoformat(start_date)
        step = {"month": 1, "quarter": 3, "year": 12}[unit]
        first = _dt.date(start.year, 1, 1) if unit == "year" else \
            _dt.date(start.year, ((start.month - 1) // step) * step + 1, 1)
        edges, labels, d = [0.0], [], first
        while True:
            nxt = _add_months(d, step)
            labels.append(d.strftime("%Y") if unit == "year" else
                          (f"{d.year}-Q{(d.month - 1) // 3 + 1}" if unit == "quarter" else d.strftime("%Y-%m")))
            t = (nxt - start).days * DAY
            if t >= horizon_s - 1e-6:
                edges.append(horizon_s)
                break
            edges.append(t)
            d = nxt
        return np.array(edges), labels
    length = {"day": DAY, "week": 7 * DAY, "month": YEAR / 12, "quarter": YEAR / 4, "year": YEAR}[unit]
    n = max(1, int(math.ceil(horizon_s / length - 1e-9)))
    edges = np.minimum(np.arange(n + 1) * length, horizon_s)
    if start_date is not None:
        start = _dt.datetime.fromisoformat(start_date)
        labels = [(start + _dt.timedelta(seconds=float(e))).date().isoformat() for e in edges[:-1]]
    else:
        labels = [f"{unit[0].upper()}{i + 1}" for i in range(n)]
    return edges, labels


def default_period(horizon_s: float) -> str:
    """Resampling unit by horizon length: days up to 45 days, months up to 2 years, quarters up to 6, else years."""
    if horizon_s <= 45 * DAY:
        return "day"
    if horizon_s <= 2 * YEAR + DAY:
        return "month"
    if horizon_s <= 6 * YEAR + DAY:
        return "quarter"
    return "year"


def default_resolution(horizon_s: float) -> float:
    """Series resolution when none is given: hourly up to 60 days, daily beyond."""
    return HOUR if horizon_s <= 60 * DAY else DAY


