"""Time handling of a calibration: one convention for zone-less times, window bounds.

Times are float seconds. Timestamps without a zone (nvidia-smi writes local wall
time, vLLM's ``date`` too) are read in the zone ``utc_offset`` names (UTC when not
given); mixing them with absolute times (Prometheus sample timestamps, ISO times
with an offset) needs that offset stated, otherwise it is an error rather than a
silent shift.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

from ..errors import InputError
from ..units import parse


@dataclass(frozen=True)
class Window:
    """The interval integrated over, and where it came from ("cli", "bench", "log", "measure", "idle")."""

    start: float
    end: float
    source: str

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


class Clock:
    """Turns datetimes into float seconds under one convention for zone-less times."""

    def __init__(self, utc_offset: str | None = None) -> None:
        self.offset_given = utc_offset is not None
        self.tz = parse_utc_offset(utc_offset) if utc_offset is not None else _dt.timezone.utc
        self.kinds: set[str] = set()

    def seconds(self, when: _dt.datetime) -> float:
        """Seconds since the epoch; zone-less times are read in the configured zone."""
        if when.tzinfo is None:
            self.kinds.add("naive")
            return when.replace(tzinfo=self.tz).timestamp()
        self.kinds.add("absolute")
        return when.timestamp()

    def note(self, kind: str) -> None:
        """Record that times of `kind` (naive / absolute / relative) take part."""
        self.kinds.add(kind)

    def check(self) -> None:
        """Refuse to compare zone-less with absolute times unless the offset was stated."""
        if "relative" in self.kinds and len(self.kinds) > 1:
            raise InputError("a DCGM log timed by --interval (relative seconds) cannot be combined with "
                             "timestamped logs or ISO --start/--end; give offsets such as --start \"10 s\"")
        if {"naive", "absolute"} <= self.kinds and not self.offset_given:
            raise InputError("some times have no zone (nvidia-smi timestamps, vLLM 'date', ISO times without an offset) "
                             "and others are absolute (Prometheus sample timestamps, ISO times with an offset); "
                             "state the zone of the first with --utc-offset, e.g. --utc-offset +02:00")

    def show(self, t: float) -> str:
        """ISO text of `t`: zone-less when every time was zone-less and no offset was given."""
        if "relative" in self.kinds:
            return f"{t:.3f} s"
        try:
            when = _dt.datetime.fromtimestamp(t, self.tz)
        except (OverflowError, ValueError, OSError):  # far outside any calendar: show the number
            return f"{t:.6g} s after 1970-01-01"
        if self.kinds <= {"naive"} and not self.offset_given:
            when = when.replace(tzinfo=None)
        return when.isoformat(timespec="milliseconds")


def parse_utc_offset(text: str) -> _dt.timezone:
    """Parse `+02:00`, `-0500`, `Z` or `UTC` into a fixed-offset zone.

    Raises:
        InputError: any other text, or an offset beyond 14 hours.
    """
    s = text.strip()
    if s.upper() in ("Z", "UTC"):
        return _dt.timezone.utc
    m = re.fullmatch(r"([+-])(\d{1,2}):?(\d{2})?", s)
    if not m:
        raise InputError(f"--utc-offset: expected an offset like +02:00, -05:00 or Z, got {text!r}")
    sign = 1 if m.group(1) == "+" else -1
    delta = _dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0))
    if delta > _dt.timedelta(hours=14):
        raise InputError(f"--utc-offset: expected at most 14 hours, got {text!r}")
    return _dt.timezone(sign * delta)


def parse_time(text: str, clock: Clock, *, what: str) -> tuple[str, float]:
    """A window bound: an absolute time or an offset.

    Args:
        text: the bound as the user wrote it.
        clock: reads zone-less ISO times.
        what: the flag, for messages (`--start`).

    Returns:
        ("abs", seconds) for ISO / nvidia-smi style times, ("tod", seconds after
        midnight) for a bare time of day ("12:00:05", on the date of the first
        sample), ("offset", seconds) for a time quantity ("30 s", "+2 min";
        negative counts back from the end of the log).

    Raises:
        InputError, UnitError: none of these shapes.
    """
    s = text.strip()
    for candidate in (s, s.replace("/", "-")):
        try:
            when = _dt.datetime.fromisoformat(candidate.replace("Z", "+00:00"))
        except ValueError:
            continue
        return "abs", clock.seconds(when)
    m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?", s)
    if m:
        h, mi, sec, frac = m.groups()
        if int(h) > 23 or int(mi) > 59 or int(sec or 0) > 59:
            raise InputError(f"{what}: {text!r} is not a time of day")
        return "tod", int(h) * 3600 + int(mi) * 60 + int(sec or 0) + float(frac or 0)
    if re.match(r"^\d{4}[-/]\d{2}[-/]\d{2}", s):
        raise InputError(f"{what}: could not read {text!r} as a time; expected ISO 8601 such as 2024-05-01T12:00:05")
    return "offset", parse(s.lstrip("+"), "time", key=what)
