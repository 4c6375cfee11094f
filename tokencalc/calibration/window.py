"""The run window: `--start/--end`, the bench file, or the span every device covers; and the idle window."""

from __future__ import annotations

import datetime as _dt

from ..errors import InputError, TokencalcError
from .bench import Bench
from .clock import Clock, Window, parse_time
from .samples import ENERGY, POWER, Device


def data_span(devices: dict[str, Device]) -> tuple[float, float]:
    """The span every device covers: (latest first sample, earliest last sample).

    Raises:
        InputError: a device without power or energy samples.
    """
    starts, ends = [], []
    for dev in devices.values():
        chans = [c for name, c in dev.channels.items() if name in (POWER, ENERGY) and c.t]
        if not chans:
            raise InputError(f"{dev.source}: GPU {dev.id} has no power or energy samples")
        starts.append(min(c.t[0] for c in chans))
        ends.append(max(c.t[-1] for c in chans))
    return max(starts), min(ends)


def _bound(text: str, what: str, clock: Clock, first: float, last: float) -> float:
    """A `--start`/`--end` value in seconds: offsets count from the first sample, negative ones from the last."""
    kind, x = parse_time(text, clock, what=what)
    if kind == "abs":
        return x
    if kind == "tod":
        if "relative" in clock.kinds:
            raise InputError(f"{what}: a time of day needs timestamped logs; give an offset such as \"10 s\"")
        day = _dt.datetime.fromtimestamp(first, clock.tz).replace(hour=0, minute=0, second=0, microsecond=0)
        return day.timestamp() + x
    return (last + x) if x < 0 else (first + x)


def resolve_window(devices: dict[str, Device], clock: Clock, *, start: str | None = None,
                   end: str | None = None, bench: Bench | None = None,
                   warnings: list[str] | None = None) -> Window:
    """Pick the integration window.

    `--start/--end` win (offsets count from the first sample, negative ones from the
    last); else a bench file with a ``date`` gives ``[date - duration, date]``; else
    the span every device covers.

    Args:
        devices: device id -> samples.
        clock: the time convention (checked here, once every time is known).
        start, end: the bounds as the user wrote them.
        bench: the benchmark result, for its date and duration.
        warnings: where a window taken from the bench file is noted.

    Raises:
        InputError: an empty or inverted window, or one outside the data.
    """
    warnings = warnings if warnings is not None else []
    lo, hi = data_span(devices)
    if hi <= lo:
        raise InputError("the devices' logs do not overlap in time; nothing to integrate")
    first = min(min(c.t[0] for c in d.channels.values() if c.t) for d in devices.values())
    last = max(max(c.t[-1] for c in d.channels.values() if c.t) for d in devices.values())
    if start is not None or end is not None:
        a = _bound(start, "--start", clock, first, last) if start is not None else lo
        b = _bound(end, "--end", clock, first, last) if end is not None else hi
        source = "cli"
    elif bench is not None and bench.end is not None:
        a, b = bench.end - bench.duration_s, bench.end
        source = "bench"
        warnings.append(f"{bench.path}: window taken from 'date' (1 s resolution, written when the result was saved) "
                        f"and 'duration'; give --start/--end for a tighter window")
    else:
        a, b = lo, hi
        source = "log"
    clock.check()
    if not b > a:
        raise InputError(f"the run window is empty or inverted: start {clock.show(a)}, end {clock.show(b)}")
    if b <= first or a >= last:
        raise InputError(f"the run window {clock.show(a)} .. {clock.show(b)} lies outside the logs "
                         f"({clock.show(first)} .. {clock.show(last)})"
                         + (" — are the clocks in the same zone? see --utc-offset" if source == "bench" else ""))
    return Window(a, b, source)


def parse_idle_window(text: str, devices: dict[str, Device], clock: Clock) -> Window:
    """Parse `--idle-window` START:END or START..END (ISO times or offsets) into a Window inside the logs.

    The colon form is ambiguous with times of day ("11:59:55:11:59:59"): every
    split is tried and the first that reads as a window inside the logs wins.

    Raises:
        InputError: no split reads as a window inside the logs.
    """
    candidates = ([text.split("..", 1)] if ".." in text
                  else [[text[:i], text[i + 1:]] for i, ch in enumerate(text) if ch == ":"])
    for a_text, b_text in candidates:
        if not a_text.strip() or not b_text.strip():
            continue
        try:
            win = resolve_window(devices, clock, start=a_text, end=b_text)
        except TokencalcError:
            continue
        return Window(win.start, win.end, "idle")
    raise InputError(f"--idle-window: expected START:END or START..END (ISO times or offsets such as '0 s..20 s') "
                     f"inside the logs, got {text!r}")
