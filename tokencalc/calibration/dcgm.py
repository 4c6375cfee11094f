"""The DCGM exporter parser: dcgm-exporter scrapes (Prometheus text exposition), many concatenated."""

from __future__ import annotations

import datetime as _dt
import math
import os
import re

from ..errors import InputError
from .clock import Clock
from .samples import ENERGY, POWER, SM_ACTIVE, Device, PowerLog, append_sample, location, read_text, sha256_of

DCGM_METRICS = {
    "DCGM_FI_DEV_POWER_USAGE": (POWER, 1.0),                 # W
    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": (ENERGY, 1e-3),  # mJ since boot -> J
    "DCGM_FI_PROF_SM_ACTIVE": (SM_ACTIVE, 1.0),              # ratio 0..1
}
_SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+(-?\d+))?\s*$")
_LABEL_RE = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')
_SCRAPE_RE = re.compile(r"^#\s*scrape at\s+(.+?)\s*$", re.IGNORECASE)


def _labels(text: str, path: str, line: int) -> dict[str, str]:
    body = text[1:-1]
    out: dict[str, str] = {}
    pos = 0
    while pos < len(body):
        m = _LABEL_RE.match(body, pos)
        if not m or m.end() == pos:
            raise InputError(f"{location(path, line)}malformed label set {text!r}: expected name=\"value\" pairs")
        out[m.group(1)] = m.group(2).replace('\\"', '"').replace("\\\\", "\\")
        pos = m.end()
    return out


class _Times:
    """How the samples of one log are timed: sample timestamps, `# scrape at` lines, or `--interval`."""

    def __init__(self, path: str, clock: Clock, interval: float | None) -> None:
        self.path, self.clock, self.interval = path, clock, interval
        self.scrape_time: float | None = None
        self.scrape_index = 0
        self.seen_in_scrape: set[tuple[str, str]] = set()
        self.used: set[str] = set()

    def comment(self, row: str, n: int) -> None:
        """A comment line: a ``# scrape at <ISO time>`` line starts a scrape; others are ignored."""
        m = _SCRAPE_RE.match(row)
        if not m:
            return
        try:
            when = _dt.datetime.fromisoformat(m.group(1).replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"{location(self.path, n)}'# scrape at': expected an ISO time, got {m.group(1)!r}") from None
        self.scrape_time = self.clock.seconds(when)
        self.used.add("naive" if when.tzinfo is None else "absolute")
        self.seen_in_scrape = set()

    def of(self, name: str, dev_id: str, ts_text: str | None, n: int) -> float:
        """The time of one sample line."""
        if ts_text is not None:
            self.used.add("absolute")
            try:
                when = _dt.datetime.fromtimestamp(int(ts_text) / 1000.0, _dt.timezone.utc)
            except (OverflowError, ValueError, OSError):  # beyond any calendar (year 1..9999)
                raise InputError(f"{location(self.path, n)}{name}: sample timestamp {ts_text[:30]!r} is not a time a "
                                 "calendar can hold; expected milliseconds since 1970-01-01 (Prometheus)") from None
            return self.clock.seconds(when)
        if self.scrape_time is not None:
            return self.scrape_time
        if self.interval is not None:
            # A new scrape starts when a series repeats.
            key = (name, dev_id)
            if key in self.seen_in_scrape:
                self.scrape_index += 1
                self.seen_in_scrape = set()
            self.seen_in_scrape.add(key)
            self.used.add("relative")
            return self.scrape_index * self.interval
        raise InputError(f"{location(self.path, n)}{name}: sample has no timestamp; scrape with timestamps, precede "
                         "each scrape with a '# scrape at <ISO time>' line, or give --interval")

    def kind(self) -> str:
        """The log's clock ("relative", "absolute" or "naive"); refuses a mix of interval and timestamps."""
        if "relative" in self.used:
            self.clock.note("relative")
            if len(self.used) > 1:
                raise InputError(f"{self.path}: some samples are timed by --interval and others by timestamps; use one")
            return "relative"
        return "absolute" if self.used == {"absolute"} else "naive"


def _device_id(labels: dict[str, str], name: str, path: str, n: int) -> str:
    """Devices are keyed by ``Hostname`` (when present) and the ``gpu`` label."""
    if "gpu" not in labels:
        raise InputError(f"{location(path, n)}{name}: no gpu=\"N\" label; cannot tell the devices apart")
    host = labels.get("Hostname") or labels.get("hostname")
    return f"{host}/{labels['gpu']}" if host else labels["gpu"]


def parse_dcgm(path: str | os.PathLike, clock: Clock, *, interval: float | None = None,
               text: str | None = None) -> PowerLog:
    """Read dcgm-exporter scrapes (Prometheus text format), possibly many concatenated.

    Each sample needs a time. In order of preference:

    1. the Prometheus sample timestamp (milliseconds since the epoch) on the line;
    2. a ``# scrape at <ISO time>`` comment line before the scrape's samples (our
       convention: ``echo "# scrape at $(date -Is)"; curl -s host:9400/metrics``);
    3. ``interval`` seconds: scrape k is at ``k * interval`` (a new scrape starts
       when a series repeats).

    Metrics used: ``DCGM_FI_DEV_POWER_USAGE`` (W), ``DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION``
    (mJ since boot; its delta is preferred to integrating power) and
    ``DCGM_FI_PROF_SM_ACTIVE`` (ratio 0..1); other metrics are ignored. Devices are
    keyed by ``Hostname`` (when present) and the ``gpu`` label.

    Raises:
        InputError: a malformed line, a sample without a time, a missing ``gpu`` label,
            an SM-activity value outside 0..1, time going backwards for one device.
    """
    path = str(path)
    if text is None:
        text, digest = read_text(path)
    else:
        digest = sha256_of(text.encode())
    devices: dict[str, Device] = {}
    times = _Times(path, clock, interval)
    found: set[str] = set()
    bad_values = dups = 0
    for n, raw in enumerate(text.splitlines(), start=1):
        row = raw.strip()
        if not row:
            continue
        if row.startswith("#"):
            times.comment(row, n)
            continue
        m = _SAMPLE_RE.match(row)
        if not m:
            raise InputError(f"{location(path, n)}malformed sample line {row[:80]!r}: expected "
                             "'METRIC{labels} value [timestamp_ms]'")
        name, label_text, value_text, ts_text = m.groups()
        if name not in DCGM_METRICS:
            continue
        labels = _labels(label_text, path, n) if label_text else {}
        dev_id = _device_id(labels, name, path, n)
        try:
            value = float(value_text)
        except ValueError:
            raise InputError(f"{location(path, n)}{name}: expected a number, got {value_text!r}") from None
        t = times.of(name, dev_id, ts_text, n)
        channel, scale = DCGM_METRICS[name]
        if not math.isfinite(value) or (channel != SM_ACTIVE and value < 0):
            bad_values += 1
            continue
        if channel == SM_ACTIVE and not 0 <= value <= 1:
            raise InputError(f"{location(path, n)}{name}: expected a ratio 0..1, got {value_text}"
                             + (" (a percentage? DCGM reports this field as a ratio)" if value <= 100 else ""))
        found.add(name)
        dev = devices.get(dev_id)
        if dev is None:
            dev = devices[dev_id] = Device(dev_id, path, uuid=labels.get("UUID"))
        dups += append_sample(dev.channel(channel), t, value * scale, n, path, dev_id)
    clock_kind = times.kind()
    if not devices:
        raise InputError(f"{path}: no DCGM_FI_DEV_POWER_USAGE, DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION or "
                         "DCGM_FI_PROF_SM_ACTIVE samples")
    warnings = []
    if bad_values:
        warnings.append(f"{path}: {bad_values} non-finite or negative reading(s) skipped")
    if dups:
        warnings.append(f"{path}: {dups} sample(s) repeating the previous time of their series were dropped")
    return PowerLog(path, "dcgm", clock_kind, devices, warnings, digest, sorted(found))
