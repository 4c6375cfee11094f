"""Calibration from measurements: power logs + token counts -> measured inputs.

Pure functions, no printing. The pieces, in the order `tokencalc calibrate` uses them:

1. parsers: :func:`parse_nvidia_smi` (``nvidia-smi --query-gpu=... --format=csv``,
   with or without ``nounits``), :func:`parse_dcgm` (dcgm-exporter Prometheus
   text, many scrapes concatenated), :func:`read_bench` (vLLM
   ``benchmark_serving.py`` / ``vllm bench serve`` result JSON);
2. :func:`resolve_window` picks the run window (``--start/--end``, the bench file,
   or the span every device covers);
3. :func:`integrate_device` integrates each device over the window: the DCGM energy
   counter delta when the device has one, else the trapezoid rule on power;
4. :func:`calibrate` sums devices, subtracts idle power if asked (reported
   separately), and derives ``e_tok``, realized ``K_eff``, ``eta_K``, ``eta_E`` and
   ``U`` (MODEL.md section 5);
5. :func:`profile_fragment` / :func:`write_profile` turn the result into a workload
   profile with a ``[measured]`` table and provenance.

Times are float seconds. Timestamps without a zone (nvidia-smi writes local wall
time, vLLM's ``date`` too) are read in the zone ``utc_offset`` names (UTC when not
given); mixing them with absolute times (Prometheus sample timestamps, ISO times
with an offset) needs that offset stated, otherwise it is an error rather than a
silent shift.

Recoverable oddities (``[N/A]`` readings, duplicate timestamps, gaps, a window the
data does not fully cover, counter resets) become warnings that are counted and
returned; malformed input raises :class:`~tokencalc.errors.InputError` naming the
file and line.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import difflib
import hashlib
import json
import math
import os
import re
import statistics
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from ..errors import InputError

SCHEMA = "tokencalc.calibrate/1"
GAP_FACTOR = 5.0  # an interval longer than this many median intervals is a gap

# Channels a device series can carry, with their SI meaning.
POWER, ENERGY, SM_ACTIVE, GPU_UTIL = "power_w", "energy_j", "sm_active", "gpu_util"


# ---------------------------------------------------------------------------
# Data


@dataclass
class Channel:
    """One measured quantity of one device over time (SI values, line numbers for messages)."""

    t: list[float] = field(default_factory=list)
    v: list[float] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


@dataclass
class Device:
    """The samples of one accelerator, by channel."""

    id: str
    source: str
    uuid: str | None = None
    channels: dict[str, Channel] = field(default_factory=dict)

    def channel(self, name: str) -> Channel:
        """The channel `name`, created empty on first use."""
        return self.channels.setdefault(name, Channel())

    def has(self, name: str) -> bool:
        """True when the channel has at least two samples (enough to integrate)."""
        ch = self.channels.get(name)
        return ch is not None and len(ch.t) >= 2


@dataclass
class PowerLog:
    """A parsed power log.

    Attributes:
        path: the file as given.
        format: "nvidia-smi" or "dcgm".
        clock: "naive" (wall time without a zone), "absolute" (epoch-based) or
            "relative" (seconds from the first scrape, from `--interval`).
        devices: device id -> Device.
        warnings: recoverable oddities found while reading.
        sha256: hash of the file's bytes.
        columns: the power column used (nvidia-smi) or the metrics found (DCGM).
    """

    path: str
    format: str
    clock: str
    devices: dict[str, Device]
    warnings: list[str]
    sha256: str
    columns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Bench:
    """Token counts and timing from a benchmark result file."""

    path: str
    sha256: str
    output_tokens: int
    input_tokens: int | None
    completed: int | None
    duration_s: float
    end: float | None  # from `date` (written when the result was saved), naive wall time
    model_id: str | None

    def tokens(self, basis: str) -> int:
        """Tokens on `basis` ("output" or "total")."""
        if basis == "output":
            return self.output_tokens
        if self.input_tokens is None:
            raise InputError(f"total_input_tokens in {self.path}: needed for --token-basis total, not found")
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class Window:
    """The interval integrated over, and where it came from ("cli", "bench", "log", "measure")."""

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
        when = _dt.datetime.fromtimestamp(t, self.tz)
        if self.kinds <= {"naive"} and not self.offset_given:
            when = when.replace(tzinfo=None)
        return when.isoformat(timespec="milliseconds")


def parse_utc_offset(text: str) -> _dt.timezone:
    """Parse `+02:00`, `-0500`, `Z` or `UTC` into a fixed-offset zone."""
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


def sha256_of(data: bytes) -> str:
    """SHA-256 hex digest of `data`."""
    return hashlib.sha256(data).hexdigest()


def _read(path: str | os.PathLike) -> tuple[str, str]:
    """Text and SHA-256 of a file (BOM and CRLF tolerated)."""
    try:
        blob = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read '{path}': {exc.strerror or exc}") from None
    try:
        text = blob.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    return text, sha256_of(blob)


def _at(path: str, line: int) -> str:
    return f"line {line} in {path}: "


# ---------------------------------------------------------------------------
# nvidia-smi CSV

# First segment of every `nvidia-smi --query-gpu` field (`nvidia-smi --help-query-gpu`).
_NVSMI_GROUPS = {
    "timestamp", "driver_version", "count", "name", "gpu_name", "serial", "gpu_serial", "uuid", "gpu_uuid",
    "pci", "pcie", "index", "display_mode", "display_active", "display_attached", "persistence_mode",
    "addressing_mode", "accounting", "driver_model", "vbios_version", "inforom", "gom", "fan", "pstate",
    "clocks_throttle_reasons", "clocks_event_reasons", "clocks_event_reasons_counters", "memory", "compute_mode",
    "compute_cap", "utilization", "encoder", "ecc", "retired_pages", "remapped_rows", "temperature", "power",
    "enforced", "module", "clocks", "mig", "protected_memory", "fabric", "reset_status", "platform",
    "gpu_bus_id", "vgpu_device_capability", "c2c", "gpu_recovery_action", "vgpu_driver_capability",
    "gsp", "sram", "drain_and_reset_recommended", "dramencryption", "conf_compute",
}
_POWER_COLUMNS = ("power.draw", "power.draw.average", "power.draw.instant")
_USED = {"timestamp": None, "index": None, "uuid": None, "pci.bus_id": None,
         "power.draw": "W", "power.draw.average": "W", "power.draw.instant": "W",
         "utilization.gpu": "%"}
_FIELD_RE = re.compile(r"^([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*)(?:\s*\[([^\]]+)\])?$")
_NA = {"[N/A]", "N/A", "[Not Supported]", "[Unknown Error]", "[Insufficient Permissions]", "[GPU is lost]",
       "[Requested functionality has been deprecated]", "[Not Available]"}
_TS_RE = re.compile(r"^(\d{4})/(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$")


def parse_nvsmi_timestamp(text: str) -> _dt.datetime:
    """Parse nvidia-smi's `YYYY/MM/DD HH:MM:SS.mmm` (zone-less local time).

    Raises:
        ValueError: any other shape.
    """
    m = _TS_RE.match(text)
    if not m:
        raise ValueError(text)
    y, mo, d, h, mi, s, frac = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    return _dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro)


def _header(cells: list[str], path: str, line: int) -> list[tuple[str, str | None]]:
    cols = []
    for cell in cells:
        m = _FIELD_RE.match(cell)
        name = m.group(1) if m else None
        if name is None or name.split(".")[0] not in _NVSMI_GROUPS:
            near = difflib.get_close_matches(name or cell.lower(), list(_USED), n=1, cutoff=0.6)
            hint = f"; did you mean '{near[0]}'?" if near else ""
            raise InputError(f"{_at(path, line)}unknown column {cell!r}: expected nvidia-smi --query-gpu field "
                             f"names such as 'timestamp', 'index', 'power.draw [W]'{hint}")
        if name not in _USED:
            near = difflib.get_close_matches(name, [k for k in _USED if "." in k], n=1, cutoff=0.85)
            if near:
                raise InputError(f"{_at(path, line)}unknown column {cell!r}; did you mean '{near[0]}'?")
        unit = m.group(2).strip() if m.group(2) else None
        want = _USED.get(name)
        if want is not None and unit != want:
            raise InputError(f"{_at(path, line)}column {cell!r}: expected the unit [{want}] "
                             f"(as nvidia-smi writes '{name} [{want}]'), got {('[' + unit + ']') if unit else 'no unit'}")
        cols.append((name, unit))
    names = [c[0] for c in cols]
    if len(set(names)) != len(names):
        raise InputError(f"{_at(path, line)}a column appears twice: {', '.join(cells)}")
    if "timestamp" not in names:
        raise InputError(f"{_at(path, line)}no 'timestamp' column: log with "
                         "nvidia-smi --query-gpu=timestamp,index,power.draw --format=csv -lms 100")
    if not any(p in names for p in _POWER_COLUMNS):
        raise InputError(f"{_at(path, line)}no power column: expected one of "
                         f"{', '.join(p + ' [W]' for p in _POWER_COLUMNS)}")
    return cols


def _split_value(text: str, unit: str | None, path: str, line: int, col: str,
                 mode: dict[str, bool]) -> float | None:
    """A numeric cell -> float (None for [N/A]-style readings); checks unit consistency."""
    if text in _NA:
        return None
    has_unit = False
    if unit is not None and text.endswith(unit):
        number = text[: -len(unit)].strip()
        has_unit = True
    else:
        number = text
    try:
        value = float(number)
    except ValueError:
        raise InputError(f"{_at(path, line)}{col}: expected a number{(' in ' + unit) if unit else ''}, "
                         f"got {text!r}") from None
    if unit is not None:
        seen = mode.setdefault("units", has_unit)
        if seen != has_unit:
            raise InputError(f"{_at(path, line)}{col}: mixed units: earlier rows "
                             f"{'carry' if seen else 'omit'} the unit '{unit}', this one {'omits' if seen else 'carries'} it "
                             f"(got {text!r})")
    return value


def parse_nvidia_smi(path: str | os.PathLike, clock: Clock, text: str | None = None) -> PowerLog:
    """Read an ``nvidia-smi --query-gpu=... --format=csv[,nounits]`` log.

    The header names the columns (``timestamp, index, power.draw [W], ...``); rows of
    several GPUs may be interleaved. Values carry units (``312.45 W``, ``87 %``)
    unless ``nounits`` was used, but one file must not mix the two. A repeated
    identical header (logs concatenated) is skipped.

    Args:
        path: the log file.
        clock: converts the zone-less timestamps to seconds.
        text: the file's text, if already read.

    Raises:
        InputError: no header, unknown column, wrong or mixed units, a malformed row,
            timestamps going backwards for one device.
    """
    path = str(path)
    if text is None:
        text, digest = _read(path)
    else:
        digest = sha256_of(text.encode())
    cols: list[tuple[str, str | None]] | None = None
    header_cells: list[str] | None = None
    devices: dict[str, Device] = {}
    warnings: list[str] = []
    mode: dict[str, bool] = {}
    na_count = 0
    dup_count = 0
    neg_count = 0
    power_col = None
    last_stamp, t = None, 0.0
    for n, raw in enumerate(text.splitlines(), start=1):
        row = raw.strip()
        if not row or row.startswith("#"):
            continue
        cells = [c.strip() for c in row.split(",")]
        if cols is None:
            if _TS_RE.match(cells[0]):
                raise InputError(f"{_at(path, n)}no header line: log with --format=csv (not csv,noheader) so the "
                                 "columns are named")
            cols = _header(cells, path, n)
            header_cells = cells
            names = [c[0] for c in cols]
            power_col = next(p for p in _POWER_COLUMNS if p in names)
            idx = {name: i for i, name in enumerate(names)}
            i_ts = idx["timestamp"]
            i_id = next((idx[k] for k in ("index", "uuid", "pci.bus_id") if k in idx), None)
            id_is_index = "index" in idx
            i_uuid = idx.get("uuid")
            # (column index, unit, channel, scale) of the values kept
            wanted = [(idx[power_col], "W", POWER, 1.0)]
            if "utilization.gpu" in idx:
                wanted.append((idx["utilization.gpu"], "%", GPU_UTIL, 0.01))
            continue
        if len(cells) != len(cols):
            if cells == header_cells:
                continue
            raise InputError(f"{_at(path, n)}expected {len(cols)} comma-separated values "
                             f"({', '.join(header_cells or [])}), got {len(cells)}: {row!r}")
        stamp = cells[i_ts]
        if stamp != last_stamp:
            if cells == header_cells:
                continue  # logs concatenated
            if "timestamp" in cells:
                raise InputError(f"{_at(path, n)}the header changed within the file (got {row!r}); split the log")
            try:
                t = clock.seconds(parse_nvsmi_timestamp(stamp))
            except ValueError:
                raise InputError(f"{_at(path, n)}timestamp: expected 'YYYY/MM/DD HH:MM:SS.mmm' as nvidia-smi "
                                 f"writes it, got {stamp!r}") from None
            last_stamp = stamp
        dev_id = cells[i_id] if i_id is not None else "0"
        dev = devices.get(dev_id)
        if dev is None:
            if id_is_index and not dev_id.isdigit():
                raise InputError(f"{_at(path, n)}index: expected a GPU index (0, 1, ...), got {dev_id!r}")
            dev = devices[dev_id] = Device(dev_id, path, uuid=cells[i_uuid] if i_uuid is not None else None)
        for i, unit, channel, scale in wanted:
            value = _split_value(cells[i], unit, path, n, cols[i][0], mode)
            if value is None or not math.isfinite(value):
                na_count += 1
                continue
            if channel == POWER:
                if value < 0:
                    neg_count += 1
                    continue
            elif not 0 <= value <= 100:
                raise InputError(f"{_at(path, n)}utilization.gpu: expected 0..100 %, got {cells[i]!r}")
            ch = dev.channels.get(channel) or dev.channel(channel)
            dup_count += _append(ch, t, value * scale, n, path, dev_id)
    if cols is None:
        raise InputError(f"{path}: empty log (no header, no samples)")
    if not devices:
        raise InputError(f"{path}: a header but no samples")
    if na_count:
        warnings.append(f"{path}: {na_count} reading(s) were [N/A] / [Not Supported] or not finite and were skipped")
    if neg_count:
        warnings.append(f"{path}: {neg_count} negative power reading(s) skipped")
    if dup_count:
        warnings.append(f"{path}: {dup_count} sample(s) repeating the previous timestamp of their GPU were dropped")
    return PowerLog(path, "nvidia-smi", "naive", devices, warnings, digest, [power_col])


def _append(ch: Channel, t: float, v: float, line: int, path: str, dev: str) -> int:
    """Add a sample; 1 if it duplicated the previous timestamp (dropped), 0 otherwise."""
    if ch.t:
        if t < ch.t[-1]:
            raise InputError(f"{_at(path, line)}timestamps go backwards for GPU {dev} "
                             f"(line {ch.lines[-1]} is later); expected time order per GPU")
        if t == ch.t[-1]:
            return 1
    ch.t.append(t)
    ch.v.append(v)
    ch.lines.append(line)
    return 0


# ---------------------------------------------------------------------------
# DCGM exporter (Prometheus text exposition)

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
            raise InputError(f"{_at(path, line)}malformed label set {text!r}: expected name=\"value\" pairs")
        out[m.group(1)] = m.group(2).replace('\\"', '"').replace("\\\\", "\\")
        pos = m.end()
    return out


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
        text, digest = _read(path)
    else:
        digest = sha256_of(text.encode())
    devices: dict[str, Device] = {}
    warnings: list[str] = []
    scrape_time: float | None = None
    scrape_index = 0
    seen_in_scrape: set[tuple[str, str]] = set()
    found: set[str] = set()
    clocks_used: set[str] = set()
    bad_values = 0
    dups = 0
    for n, raw in enumerate(text.splitlines(), start=1):
        row = raw.strip()
        if not row:
            continue
        if row.startswith("#"):
            m = _SCRAPE_RE.match(row)
            if m:
                try:
                    when = _dt.datetime.fromisoformat(m.group(1).replace("Z", "+00:00"))
                except ValueError:
                    raise InputError(f"{_at(path, n)}'# scrape at': expected an ISO time, got {m.group(1)!r}") from None
                scrape_time = clock.seconds(when)
                clocks_used.add("naive" if when.tzinfo is None else "absolute")
                seen_in_scrape = set()
            continue
        m = _SAMPLE_RE.match(row)
        if not m:
            raise InputError(f"{_at(path, n)}malformed sample line {row[:80]!r}: expected "
                             "'METRIC{labels} value [timestamp_ms]'")
        name, label_text, value_text, ts_text = m.groups()
        if name not in DCGM_METRICS:
            continue
        labels = _labels(label_text, path, n) if label_text else {}
        if "gpu" not in labels:
            raise InputError(f"{_at(path, n)}{name}: no gpu=\"N\" label; cannot tell the devices apart")
        host = labels.get("Hostname") or labels.get("hostname")
        dev_id = f"{host}/{labels['gpu']}" if host else labels["gpu"]
        try:
            value = float(value_text)
        except ValueError:
            raise InputError(f"{_at(path, n)}{name}: expected a number, got {value_text!r}") from None
        if ts_text is not None:
            t = clock.seconds(_dt.datetime.fromtimestamp(int(ts_text) / 1000.0, _dt.timezone.utc))
            clocks_used.add("absolute")
        elif scrape_time is not None:
            t = scrape_time
        elif interval is not None:
            key = (name, dev_id)
            if key in seen_in_scrape:
                scrape_index += 1
                seen_in_scrape = set()
            seen_in_scrape.add(key)
            t = scrape_index * interval
            clocks_used.add("relative")
        else:
            raise InputError(f"{_at(path, n)}{name}: sample has no timestamp; scrape with timestamps, precede each "
                             "scrape with a '# scrape at <ISO time>' line, or give --interval")
        channel, scale = DCGM_METRICS[name]
        if not math.isfinite(value) or (channel != SM_ACTIVE and value < 0):
            bad_values += 1
            continue
        if channel == SM_ACTIVE and not 0 <= value <= 1:
            raise InputError(f"{_at(path, n)}{name}: expected a ratio 0..1, got {value_text}"
                             + (" (a percentage? DCGM reports this field as a ratio)" if value <= 100 else ""))
        found.add(name)
        dev = devices.get(dev_id)
        if dev is None:
            dev = devices[dev_id] = Device(dev_id, path, uuid=labels.get("UUID"))
        dups += _append(dev.channel(channel), t, value * scale, n, path, dev_id)
    if "relative" in clocks_used:
        clock.note("relative")
        if len(clocks_used) > 1:
            raise InputError(f"{path}: some samples are timed by --interval and others by timestamps; use one")
    if not devices:
        raise InputError(f"{path}: no DCGM_FI_DEV_POWER_USAGE, DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION or "
                         "DCGM_FI_PROF_SM_ACTIVE samples")
    if bad_values:
        warnings.append(f"{path}: {bad_values} non-finite or negative reading(s) skipped")
    if dups:
        warnings.append(f"{path}: {dups} sample(s) repeating the previous time of their series were dropped")
    clock_kind = "relative" if "relative" in clocks_used else ("absolute" if clocks_used == {"absolute"} else "naive")
    return PowerLog(path, "dcgm", clock_kind, devices, warnings, digest, sorted(found))


def sniff_format(text: str) -> str:
    """Guess a log's format from its first meaningful line: "nvidia-smi" or "dcgm"."""
    for raw in text.splitlines():
        row = raw.strip().lstrip("\ufeff")
        if not row:
            continue
        if row.startswith("#") or row.startswith("DCGM_") or "{" in row:
            return "dcgm"
        return "nvidia-smi"
    return "nvidia-smi"


def read_power_log(path: str | os.PathLike, clock: Clock, *, fmt: str = "auto",
                   interval: float | None = None) -> PowerLog:
    """Read a power log of either format (``fmt`` "auto" sniffs it)."""
    text, digest = _read(path)
    kind = sniff_format(text) if fmt == "auto" else fmt
    if kind == "dcgm":
        log = parse_dcgm(path, clock, interval=interval, text=text)
    elif kind == "nvidia-smi":
        log = parse_nvidia_smi(path, clock, text=text)
    else:
        raise InputError(f"--log-format: expected auto, nvidia-smi or dcgm, got {fmt!r}")
    log.sha256 = digest
    return log


def merge_devices(logs: list[PowerLog]) -> dict[str, Device]:
    """All devices of all logs; with several files each device id is prefixed by its file name."""
    if len(logs) == 1:
        return dict(logs[0].devices)
    out: dict[str, Device] = {}
    names = [Path(log.path).name for log in logs]
    for log, name in zip(logs, names):
        label = name if names.count(name) == 1 else log.path
        for dev_id, dev in log.devices.items():
            out[f"{label}:{dev_id}"] = dev
    return out


# ---------------------------------------------------------------------------
# Benchmark result JSON


def read_bench(path: str | os.PathLike, clock: Clock) -> Bench:
    """Read a vLLM ``benchmark_serving.py`` (``vllm bench serve``) result JSON.

    Uses ``total_output_tokens``, ``total_input_tokens``, ``completed``, ``duration``
    (s) and ``date`` (``%Y%m%d-%H%M%S``, local time, written when the result was
    saved, i.e. just after the run; older/other writers use ``%Y-%m-%d %H:%M:%S``).

    Raises:
        InputError: not JSON, not one object, a missing or invalid key.
    """
    path = str(path)
    text, digest = _read(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        extra = ""
        if exc.msg == "Extra data":
            extra = " (several results appended, one per line? keep the one for this run)"
        raise InputError(f"{_at(path, exc.lineno)}not valid JSON: {exc.msg}{extra}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object (a benchmark result), got a {type(data).__name__}")

    def count(key: str, required: bool) -> int | None:
        if key not in data or data[key] is None:
            if required:
                raise InputError(f"{key} in {path}: missing; expected a vLLM benchmark result "
                                 "(keys completed, total_input_tokens, total_output_tokens, duration)")
            return None
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or not float(v).is_integer():
            raise InputError(f"{key} in {path}: expected a whole number >= 0, got {v!r}")
        return int(v)

    out = count("total_output_tokens", True)
    duration = data.get("duration")
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not duration > 0 or not math.isfinite(duration):
        raise InputError(f"duration in {path}: expected the benchmark duration in seconds (> 0), got {duration!r}")
    end = None
    date = data.get("date")
    if date is not None:
        when = None
        for fmt in ("%Y%m%d-%H%M%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
            try:
                when = _dt.datetime.strptime(str(date), fmt)
                break
            except ValueError:
                continue
        if when is None:
            raise InputError(f"date in {path}: expected vLLM's '%Y%m%d-%H%M%S' (e.g. 20240501-120130), got {date!r}")
        end = clock.seconds(when)
    model = data.get("model_id")
    return Bench(path, digest, out, count("total_input_tokens", False), count("completed", False),
                 float(duration), end, model if isinstance(model, str) else None)


# ---------------------------------------------------------------------------
# Window


def parse_time(text: str, clock: Clock, *, what: str) -> tuple[str, float]:
    """A window bound: an absolute time or an offset.

    Returns:
        ("abs", seconds) for ISO / nvidia-smi style times, ("tod", seconds after
        midnight) for a bare time of day ("12:00:05", on the date of the first
        sample), ("offset", seconds) for a time quantity ("30 s", "+2 min";
        negative counts back from the end of the log).
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
    from ..units import parse

    return "offset", parse(s.lstrip("+"), "time", key=what)


def data_span(devices: dict[str, Device]) -> tuple[float, float]:
    """The span every device covers: (latest first sample, earliest last sample)."""
    starts, ends = [], []
    for dev in devices.values():
        chans = [c for name, c in dev.channels.items() if name in (POWER, ENERGY) and c.t]
        if not chans:
            raise InputError(f"{dev.source}: GPU {dev.id} has no power or energy samples")
        starts.append(min(c.t[0] for c in chans))
        ends.append(max(c.t[-1] for c in chans))
    return max(starts), min(ends)


def resolve_window(devices: dict[str, Device], clock: Clock, *, start: str | None = None,
                   end: str | None = None, bench: Bench | None = None,
                   warnings: list[str] | None = None) -> Window:
    """Pick the integration window.

    `--start/--end` win (offsets count from the first sample, negative ones from the
    last); else a bench file with a ``date`` gives ``[date - duration, date]``; else
    the span every device covers.

    Raises:
        InputError: an empty or inverted window, or one outside the data.
    """
    warnings = warnings if warnings is not None else []
    lo, hi = data_span(devices)
    if hi <= lo:
        raise InputError("the devices' logs do not overlap in time; nothing to integrate")
    first = min(min(c.t[0] for c in d.channels.values() if c.t) for d in devices.values())
    last = max(max(c.t[-1] for c in d.channels.values() if c.t) for d in devices.values())

    def bound(text: str, what: str) -> float:
        kind, x = parse_time(text, clock, what=what)
        if kind == "abs":
            return x
        if kind == "tod":
            if "relative" in clock.kinds:
                raise InputError(f"{what}: a time of day needs timestamped logs; give an offset such as \"10 s\"")
            day = _dt.datetime.fromtimestamp(first, clock.tz).replace(hour=0, minute=0, second=0, microsecond=0)
            return day.timestamp() + x
        return (last + x) if x < 0 else (first + x)

    if start is not None or end is not None:
        a = bound(start, "--start") if start is not None else lo
        b = bound(end, "--end") if end is not None else hi
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


# ---------------------------------------------------------------------------
# Integration


def median_interval(t: list[float]) -> float:
    """Median spacing of sample times (0 for fewer than two samples)."""
    if len(t) < 2:
        return 0.0
    return statistics.median(b - a for a, b in zip(t, t[1:]))


def _interp(t: list[float], v: list[float], x: float) -> float:
    """Linear interpolation of (t, v) at x, holding the edge values outside."""
    if x <= t[0]:
        return v[0]
    if x >= t[-1]:
        return v[-1]
    i = bisect.bisect_right(t, x)
    t0, t1, v0, v1 = t[i - 1], t[i], v[i - 1], v[i]
    return v0 + (v1 - v0) * (x - t0) / (t1 - t0)


def trapezoid(t: list[float], v: list[float], a: float, b: float) -> float:
    """Integral over [a, b] of the piecewise-linear curve through (t, v).

    Exact for power that is linear between samples (the trapezoid rule); outside
    the samples the edge value is held (callers bound that by the coverage check).
    """
    if b <= a:
        return 0.0
    if len(t) == 1:
        return v[0] * (b - a)
    inner_lo = bisect.bisect_right(t, a)
    inner_hi = bisect.bisect_left(t, b)
    xs = [a] + t[inner_lo:inner_hi] + [b]
    ys = [_interp(t, v, a)] + v[inner_lo:inner_hi] + [_interp(t, v, b)]
    return sum((xs[i + 1] - xs[i]) * (ys[i] + ys[i + 1]) / 2.0 for i in range(len(xs) - 1))


@dataclass(frozen=True)
class DeviceResult:
    """One device's figures over the window."""

    id: str
    source: str
    uuid: str | None
    method: str        # "counter" or "trapezoid"
    energy_j: float
    samples: int
    covered_s: float
    sm_active: float | None
    gpu_util: float | None

    def as_dict(self, duration: float) -> dict[str, Any]:
        """JSON form."""
        return {"id": self.id, "source": self.source, "uuid": self.uuid, "method": self.method,
                "energy_j": self.energy_j, "mean_power_w": self.energy_j / duration if duration > 0 else None,
                "samples": self.samples, "covered_s": self.covered_s, "sm_active_mean": self.sm_active,
                "gpu_utilization_mean": self.gpu_util}


def _coverage(ch: Channel, a: float, b: float) -> tuple[float, float]:
    """The part of [a, b] the channel covers, widened by one median interval at each edge."""
    tol = median_interval(ch.t)
    lo = ch.t[0] - tol if ch.t[0] > a else a
    hi = ch.t[-1] + tol if ch.t[-1] < b else b
    return max(a, lo), min(b, hi)


def _mean_over(ch: Channel | None, a: float, b: float) -> float | None:
    if ch is None or not ch.t:
        return None
    lo, hi = _coverage(ch, a, b)
    if hi <= lo:
        return None
    return trapezoid(ch.t, ch.v, lo, hi) / (hi - lo)


def integrate_device(dev: Device, a: float, b: float, warnings: list[str], *,
                     prefer_counter: bool = True) -> DeviceResult:
    """Energy of one device over [a, b].

    The energy counter delta (interpolated at the window edges) when the device has
    a counter and it does not reset in the window; otherwise the trapezoid rule on
    power. A window that reaches more than one sample interval beyond the data is
    integrated only over the covered part, with a warning. Gaps longer than
    ``GAP_FACTOR`` median intervals are bridged linearly, with a warning.

    Raises:
        InputError: the device has no usable power or energy samples in the window.
    """
    label = f"GPU {dev.id} ({dev.source})"
    method = None
    energy = 0.0
    ch = None
    if prefer_counter and dev.has(ENERGY):
        ch = dev.channels[ENERGY]
        lo, hi = _coverage(ch, a, b)
        i0, i1 = bisect.bisect_left(ch.t, lo), bisect.bisect_right(ch.t, hi)
        seg = ch.v[max(i0 - 1, 0): i1 + 1]
        if any(y < x for x, y in zip(seg, seg[1:])):
            warnings.append(f"{label}: the energy counter goes backwards in the window (reset or wrap); "
                            "integrated power instead")
        elif hi > lo:
            energy = _interp(ch.t, ch.v, hi) - _interp(ch.t, ch.v, lo)
            method = "counter"
    if method is None:
        if not dev.has(POWER):
            raise InputError(f"{dev.source}: GPU {dev.id} has fewer than two power samples; cannot integrate")
        ch = dev.channels[POWER]
        lo, hi = _coverage(ch, a, b)
        energy = trapezoid(ch.t, ch.v, lo, hi) if hi > lo else 0.0
        method = "trapezoid"
    assert ch is not None
    covered = max(hi - lo, 0.0)
    if covered < (b - a) - 1e-9:
        warnings.append(f"{label}: the data covers {covered:.3f} s of the {b - a:.3f} s window; "
                        "the rest is not counted")
    inside = [x for x in ch.t if a <= x <= b]
    med = median_interval(ch.t)
    if med > 0:
        idx0 = bisect.bisect_left(ch.t, a)
        idx1 = bisect.bisect_right(ch.t, b)
        seg_t = ch.t[max(idx0 - 1, 0): idx1 + 1]
        gaps = [y - x for x, y in zip(seg_t, seg_t[1:]) if y - x > GAP_FACTOR * med and y > a and x < b]
        if gaps:
            warnings.append(f"{label}: {len(gaps)} gap(s) longer than {GAP_FACTOR:g}x the median interval "
                            f"({med:.3g} s), longest {max(gaps):.3g} s; bridged linearly")
    return DeviceResult(dev.id, dev.source, dev.uuid, method, energy, len(inside), covered,
                        _mean_over(dev.channels.get(SM_ACTIVE), a, b), _mean_over(dev.channels.get(GPU_UTIL), a, b))


# ---------------------------------------------------------------------------
# Estimators


@dataclass(frozen=True)
class Reference:
    """Optional inputs for the ratio estimators (all SI)."""

    c_tok: float | None = None          # FLOP/token
    c_tok_source: str | None = None
    peak_flops: float | None = None     # FLOP/s per device at the precision
    tdp: float | None = None            # W per device
    precision: str | None = None
    hardware: str | None = None
    workload: str | None = None
    sm_active_reference: float = 1.0


def c_tok_from_workload(prof: Any) -> float | None:
    """A workload profile's c_tok: `model.c_tok`, else 2 N_active + 2 n_layers n_ctx d_attn."""
    c = prof.get("model.c_tok")
    if c is not None:
        return float(c)
    n_act = prof.get("model.active_params")
    if n_act is None:
        return None
    n_layers, n_ctx, d_attn = prof.get("model.n_layers"), prof.get("operating_point.context_length"), prof.get("model.d_attn")
    attn = 2.0 * n_layers * n_ctx * d_attn if None not in (n_layers, n_ctx, d_attn) else 0.0
    return 2.0 * float(n_act) + attn


def _ratio(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or den == 0:
        return None
    return num / den


def calibrate(devices: dict[str, Device], window: Window, tokens: int | None, token_basis: str, *,
              clock: Clock, ref: Reference = Reference(), idle_power: float | None = None,
              idle_window: Window | None = None, inputs: Iterable[dict[str, Any]] = (),
              warnings: list[str] | None = None, bench: Bench | None = None,
              prefer_counter: bool = True, tool_version: str = "") -> dict[str, Any]:
    """Turn device samples, a window and a token count into the calibration result.

    Args:
        devices: device id -> samples (see :func:`merge_devices`).
        window: the run window.
        tokens: tokens produced in the window on `token_basis` (None: energy only).
        token_basis: "output" or "total".
        clock: time convention, for showing the window.
        ref: c_tok, peak, TDP for the ratio estimators.
        idle_power: idle power per device (W) to subtract, reported separately.
        idle_window: a measured idle segment whose mean power per device is subtracted.
        inputs: provenance of the input files ({path, sha256, format}).
        warnings: warnings gathered so far (the result carries them all).
        bench: the bench file the tokens came from, to check its duration.
        prefer_counter: use energy counters when present.
        tool_version: for provenance.

    Returns:
        A JSON-ready dict of plain SI floats (see INTERFACE.md "Calibration").
    """
    warnings = list(warnings or [])
    if idle_power is not None and idle_window is not None:
        raise InputError("give either --idle-power or --idle-window, not both")
    dur = window.duration
    per_dev = [replace(integrate_device(dev, window.start, window.end, warnings, prefer_counter=prefer_counter), id=key)
               for key, dev in devices.items()]
    n_dev = len(per_dev)
    energy = sum(d.energy_j for d in per_dev)
    mean_power = energy / dur
    if bench is not None and window.source != "bench" and abs(dur - bench.duration_s) > 0.05 * bench.duration_s:
        warnings.append(f"{bench.path}: the benchmark ran {bench.duration_s:.3f} s but the window is {dur:.3f} s; "
                        "its token count may not match the energy")

    # Idle subtraction, never silent: reported beside the gross figures.
    idle_w = None
    idle_method = None
    if idle_power is not None:
        if idle_power < 0:
            raise InputError("--idle-power: expected a power >= 0")
        idle_w, idle_method = idle_power * n_dev, "declared"
    elif idle_window is not None:
        idle_w = 0.0
        for dev in devices.values():
            r = integrate_device(dev, idle_window.start, idle_window.end, warnings, prefer_counter=prefer_counter)
            if r.covered_s <= 0:
                raise InputError(f"--idle-window: GPU {dev.id} ({dev.source}) has no samples in the idle window")
            idle_w += r.energy_j / r.covered_s
        idle_method = "measured"
    energy_idle = idle_w * dur if idle_w is not None else None
    energy_net = energy - energy_idle if energy_idle is not None else None
    if energy_net is not None and energy_net <= 0:
        warnings.append(f"idle energy ({energy_idle:.6g} J) is not below the measured energy ({energy:.6g} J); "
                        "no net figures")
        energy_net = None

    if tokens is not None and tokens <= 0:
        warnings.append("the token count is 0; no per-token figures")
    tok = tokens if tokens else None
    e_tok = _ratio(energy, tok)
    rate = _ratio(tok, dur) if tok else None
    rate_dev = rate / n_dev if rate is not None else None
    k_eff = rate * ref.c_tok if rate is not None and ref.c_tok is not None else None
    k_peak = ref.peak_flops * n_dev if ref.peak_flops is not None else None
    e_ref = ref.c_tok * ref.tdp / ref.peak_flops if None not in (ref.c_tok, ref.tdp, ref.peak_flops) else None
    sm = [d.sm_active for d in per_dev if d.sm_active is not None]
    sm_mean = sum(sm) / len(sm) if sm else None
    if sm and len(sm) < n_dev:
        warnings.append(f"SM activity known for {len(sm)} of {n_dev} devices; U is their mean")
    gu = [d.gpu_util for d in per_dev if d.gpu_util is not None]
    utilization = min(sm_mean / ref.sm_active_reference, 1.0) if sm_mean is not None else None
    if sm_mean is not None and sm_mean > ref.sm_active_reference:
        warnings.append(f"mean SM activity {sm_mean:.3f} exceeds the reference {ref.sm_active_reference:g}; U capped at 1")

    return {
        "schema": SCHEMA,
        "tool_version": tool_version,
        "energy_j": energy,
        "energy_method": "+".join(sorted({d.method for d in per_dev})),
        "duration_s": dur,
        "mean_power_w": mean_power,
        "mean_power_per_device_w": mean_power / n_dev,
        "devices": n_dev,
        "device_details": [d.as_dict(dur) for d in per_dev],
        "tokens": tok,
        "token_basis": token_basis,
        "e_tok_j_per_token": e_tok,
        "e_tok_boundary": "accelerator",
        "throughput_tokens_per_s": rate,
        "throughput_per_device_tokens_per_s": rate_dev,
        "c_tok_flop_per_token": ref.c_tok,
        "c_tok_source": ref.c_tok_source,
        "k_eff_flop_per_s": k_eff,
        "k_peak_flop_per_s": k_peak,
        "peak_flops_per_device_flop_per_s": ref.peak_flops,
        "tdp_w": ref.tdp,
        "precision": ref.precision,
        "hardware": ref.hardware,
        "workload": ref.workload,
        "eta_k": _ratio(k_eff, k_peak),
        "e_ref_j_per_token": e_ref,
        "eta_e": _ratio(e_ref, e_tok),
        "sm_active_mean": sm_mean,
        "sm_active_reference": ref.sm_active_reference,
        "utilization": utilization,
        "gpu_utilization_mean": sum(gu) / len(gu) if gu else None,
        "idle_method": idle_method,
        "idle_power_w": idle_w,
        "energy_idle_j": energy_idle,
        "energy_net_j": energy_net,
        "e_tok_net_j_per_token": _ratio(energy_net, tok),
        "window": {"start": clock.show(window.start), "end": clock.show(window.end), "source": window.source,
                   "idle_start": clock.show(idle_window.start) if idle_window else None,
                   "idle_end": clock.show(idle_window.end) if idle_window else None},
        "inputs": list(inputs),
        "warnings": warnings,
        "warning_count": len(warnings),
    }


# ---------------------------------------------------------------------------
# Workload profile fragment


def _toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=True)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else _toml_str(str(v))
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items() if x is not None) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _toml_str(k)


def _g(x: float) -> str:
    return f"{x:.6g}"


def profile_fragment(result: dict[str, Any], *, name: str, command: str) -> str:
    """A workload profile (TOML text) carrying the result as its ``[measured]`` table.

    It holds ``e_tok`` with its boundary and token basis, throughput and mean power per
    device, ``utilization`` when SM activity was logged, ``[model] c_tok`` when known,
    and ``[measured.provenance]``: input hashes, the window, the tool version.

    Raises:
        InputError: the result has no per-token figures (no tokens given).
    """
    if result.get("e_tok_j_per_token") is None:
        raise InputError("--write-profile needs a token count (--tokens or --bench) to write e_tok")
    files = ", ".join(Path(i["path"]).name for i in result["inputs"])
    lines = [
        "# Written by tokencalc calibrate; a workload profile with measured inputs.",
        'kind = "workload"',
        f"name = {_toml_str(name)}",
        f"description = {_toml_str('Measured e_tok and throughput from ' + files)}",
        "",
    ]
    if result.get("c_tok_flop_per_token") is not None:
        lines += ["[model]", f'c_tok = "{_g(result["c_tok_flop_per_token"])} FLOP/token"', ""]
    if result.get("precision"):
        lines += ["[operating_point]", f"precision = {_toml_str(result['precision'])}",
                  f"token_basis = {_toml_str(result['token_basis'])}", ""]
    measured = [
        "[measured]",
        f'e_tok = "{_g(result["e_tok_j_per_token"])} J/token"',
        'e_tok_boundary = "accelerator"',
        f"token_basis = {_toml_str(result['token_basis'])}",
        f'throughput_per_device = "{_g(result["throughput_per_device_tokens_per_s"])} token/s"',
        f'device_power = "{_g(result["mean_power_per_device_w"])} W"',
    ]
    u = result.get("utilization")
    if u is not None and u > 0:
        measured.append(f"utilization = {_g(u)}")
    if result.get("hardware"):
        measured.append(f"hardware = {_toml_str(result['hardware'])}")
    measured.append(f"conditions = {_toml_str(_conditions(result))}")
    lines += measured + [""]
    prov = {
        "tool": f"tokencalc {result.get('tool_version', '')}".strip(),
        "command": command,
        "window_start": result["window"]["start"],
        "window_end": result["window"]["end"],
        "window_source": result["window"]["source"],
        "duration_s": result["duration_s"],
        "energy_j": result["energy_j"],
        "energy_method": result["energy_method"],
        "devices": result["devices"],
        "tokens": result["tokens"],
    }
    if result.get("energy_idle_j") is not None:
        prov["energy_idle_j"] = result["energy_idle_j"]
        if result.get("e_tok_net_j_per_token") is not None:
            prov["e_tok_net_j_per_token"] = result["e_tok_net_j_per_token"]
    lines.append("[measured.provenance]")
    lines += [f"{k} = {_toml_value(v)}" for k, v in prov.items() if v is not None]
    lines.append("inputs = [")
    lines += [f"  {_toml_value({k: i.get(k) for k in ('path', 'format', 'sha256')})}," for i in result["inputs"]]
    lines += ["]", f"warning_count = {result['warning_count']}", ""]
    lines += ["[sources]", f"measured = {_toml_str(f'{command} on {files}')}"]
    if result.get("c_tok_source"):
        lines.append(f"\"model.c_tok\" = {_toml_str(result['c_tok_source'])}")
    return "\n".join(lines) + "\n"


def _conditions(result: dict[str, Any]) -> str:
    parts = [f"{result['devices']} device(s)", f"{result['duration_s']:.6g} s window ({result['window']['source']})",
             f"energy by {result['energy_method']}", "board power (accelerator boundary)"]
    if result.get("precision"):
        parts.append(f"precision {result['precision']}")
    if result["warning_count"]:
        parts.append(f"{result['warning_count']} warning(s)")
    return ", ".join(parts)


def write_profile(path: str | os.PathLike, text: str, *, force: bool = False) -> Path:
    """Write `text` atomically, never over an existing file without `force` (see fileio).

    Raises:
        OutputExistsError: the file exists and `force` is False.
    """
    from ..fileio import write_atomic

    return write_atomic(path, text, force=force, flag="--write-profile")
