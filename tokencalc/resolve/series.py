"""Read an hourly series (electricity price, carbon intensity) from a CSV file (docs/model.md §8.2).

The file has a header row `timestamp,<name> (<unit>)` (or `<name> [<unit>]`), then one row per
value: an ISO 8601 date or date-time (UTC unless it carries `Z` or an offset; a naive time is UTC)
and a number in the header's unit. Timestamps strictly increase; each value holds until the next.
Blank lines and lines starting with `#` are skipped. Every error names the file and the line.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..core.series import Series
from ..errors import ProfileError, TokencalcError
from ..fileio import read_text
from ..units import check_magnitude, parse

SERIES_BYTES = 16 * 1024 * 1024   # a year of hourly rows is ~0.3 MB
DIMS = {"electricity_price_series": ("electricity_price", "price", "USD/MWh"),
        "carbon_intensity_series": ("carbon_intensity", "carbon_intensity", "gCO2e/kWh")}
_HEADER = re.compile(r"^\s*([^()\[\]]*?)\s*(?:\((.*)\)|\[(.*)\])\s*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def series_path(ref: Any, where: str, base_dir: Path | None, confined: bool) -> Path:
    """The file a series key names: relative to `base_dir` (the profile's folder), and inside it when `confined`."""
    rel = Path(str(ref)).expanduser()
    if base_dir is None:
        return rel
    path = rel if rel.is_absolute() else base_dir / rel
    if confined:
        try:
            path.resolve().relative_to(base_dir.resolve())
        except ValueError:
            raise ProfileError(f"{where}: '{ref}' is outside the profile's folder {base_dir}; a profile reads only "
                               "series beside it (give other files with the flag, e.g. "
                               "--electricity-price-series FILE.csv)") from None
    return path


def epoch(text: str) -> float:
    """Seconds since 1970-01-01T00:00Z of an ISO 8601 date or date-time (naive = UTC).

    Raises:
        ValueError: not an ISO 8601 date or date-time.
    """
    t = text.strip()
    if _DATE.match(t):
        d = _dt.date.fromisoformat(t)
        moment = _dt.datetime(d.year, d.month, d.day, tzinfo=_dt.timezone.utc)
    else:
        if t.endswith(("Z", "z")):
            t = t[:-1] + "+00:00"
        moment = _dt.datetime.fromisoformat(t)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_dt.timezone.utc)
    return moment.timestamp()


def iso(seconds: float) -> str:
    """An epoch time as ISO 8601 in UTC (`2024-01-01T00:00Z`)."""
    moment = _dt.datetime.fromtimestamp(seconds, tz=_dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ" if moment.second else "%Y-%m-%dT%H:%MZ")


def _rows(text: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    out = []
    for row in reader:
        if row and any(c.strip() for c in row) and not row[0].lstrip().startswith("#"):
            out.append((reader.line_num, [c.strip() for c in row]))
    return out


def _unit(key: str, header: list[str], loc: str) -> tuple[float, str]:
    """SI factor of one unit of the value column, and the unit as written."""
    _, dim, example = DIMS[key]
    if len(header) != 2:
        raise ProfileError(f"{loc}: expected a header of two columns, timestamp and the value with its unit "
                           f"(e.g. timestamp,value ({example})); got {len(header)} column(s)")
    m = _HEADER.match(header[1])
    unit = (m.group(2) if m.group(2) is not None else m.group(3)).strip() if m else ""
    if not unit:
        raise ProfileError(f"{loc}: the value column's header {header[1]!r} gives no unit; write it as "
                           f"'{header[1] or 'value'} ({example})' or '{header[1] or 'value'} [{example}]'")
    try:
        return parse(f"1 {unit}", dim), unit
    except TokencalcError as exc:
        raise ProfileError(f"{loc}: the unit {unit!r} of the value column: {exc}") from None


def _point(key: str, row: list[str], scale: float, loc: str, last: float | None) -> tuple[float, float]:
    if len(row) != 2:
        raise ProfileError(f"{loc}: expected two fields (timestamp, value), got {len(row)}")
    try:
        t = epoch(row[0])
    except (ValueError, OverflowError, OSError):
        raise ProfileError(f"{loc}: timestamp {row[0]!r} is not an ISO 8601 date or date-time "
                           "(e.g. 2024-01-01T00:00Z)") from None
    if last is not None and t <= last:
        raise ProfileError(f"{loc}: timestamps must strictly increase; {row[0]!r} is not after the previous row")
    try:
        x = float(row[1])
    except ValueError:
        raise ProfileError(f"{loc}: value {row[1]!r} is not a number (the unit is in the header)") from None
    if not math.isfinite(x):
        raise ProfileError(f"{loc}: value {row[1]!r} is not a finite number")
    if x < 0 and key == "carbon_intensity_series":
        raise ProfileError(f"{loc}: a carbon intensity cannot be negative, got {row[1]}")
    try:
        return t, check_magnitude(x * scale, shown=row[1]) if x else 0.0
    except TokencalcError as exc:
        raise ProfileError(f"{loc}: {exc}") from None


def read_series(key: str, ref: Any, *, where: str, base_dir: Path | None, confined: bool, source: str,
                start_date: str | None = None) -> Series:
    """Read one series file.

    Args:
        key: `electricity_price_series` or `carbon_intensity_series`.
        ref: the path as written.
        where: the key and file (or flag) that named it, for messages.
        base_dir: folder a relative path is read from (None: the working folder).
        confined: refuse a path outside `base_dir` (a path given in a profile).
        source: the provenance text of the key.
        start_date: the scenario's start date (ISO): placed at t = 0 when it lies inside the series.

    Returns:
        The series, its `offset` placing the start date at t = 0 (its `note` says when it cannot).

    Raises:
        ProfileError: an unreadable file, a bad header, unit, timestamp or value (naming file and line).
    """
    import numpy as np  # only when a series is read: an estimate without one never loads numpy

    path = series_path(ref, where, base_dir, confined)
    try:
        text = read_text(path, what="hourly series", limit=SERIES_BYTES)
    except TokencalcError as exc:
        raise ProfileError(f"{where}: {exc}") from None
    rows = _rows(text)
    if len(rows) < 3:
        raise ProfileError(f"{where}: '{path}' needs a header row and at least two data rows")
    scale, unit = _unit(key, rows[0][1], f"{where}: {path} line {rows[0][0]}")
    ts, vs = [], []
    for n, row in rows[1:]:
        t, v = _point(key, row, scale, f"{where}: {path} line {n}", ts[-1] if ts else None)
        ts.append(t)
        vs.append(v)
    times = np.array(ts) - ts[0]
    period = float(times[-1] + np.median(np.diff(times)))
    series = Series(DIMS[key][0], times, np.array(vs), period, str(path), iso(ts[0]), unit, source)
    return _placed(series, ts[0], start_date)


def _placed(series: Series, t0: float, start_date: str | None) -> Series:
    """The series with the scenario's start date at t = 0 (when the series covers it)."""
    if start_date is None:
        return series
    offset = epoch(start_date) - t0
    if 0.0 <= offset < series.period:
        return replace(series, offset=offset)
    return replace(series, note=f"The scenario's start_date {start_date} is outside the hourly series {series.path} "
                                f"(from {series.origin}, {series.points:,} values); t = 0 is placed at its first "
                                "timestamp.")

