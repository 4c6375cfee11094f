"""The nvidia-smi CSV parser: ``nvidia-smi --query-gpu=... --format=csv[,nounits]`` logs."""

from __future__ import annotations

import datetime as _dt
import difflib
import math
import os
import re
from dataclasses import dataclass

from ..errors import InputError
from .clock import Clock
from .samples import GPU_UTIL, POWER, Device, PowerLog, append_sample, location, read_text, sha256_of

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


def _column(cell: str, path: str, line: int) -> tuple[str, str | None]:
    """One header cell -> (field name, unit), checked against the fields nvidia-smi knows."""
    m = _FIELD_RE.match(cell)
    name = m.group(1) if m else None
    if name is None or name.split(".")[0] not in _NVSMI_GROUPS:
        near = difflib.get_close_matches(name or cell.lower(), list(_USED), n=1, cutoff=0.6)
        hint = f"; did you mean '{near[0]}'?" if near else ""
        raise InputError(f"{location(path, line)}unknown column {cell!r}: expected nvidia-smi --query-gpu field "
                         f"names such as 'timestamp', 'index', 'power.draw [W]'{hint}")
    if name not in _USED:
        near = difflib.get_close_matches(name, [k for k in _USED if "." in k], n=1, cutoff=0.85)
        if near:
            raise InputError(f"{location(path, line)}unknown column {cell!r}; did you mean '{near[0]}'?")
    unit = m.group(2).strip() if m.group(2) else None
    want = _USED.get(name)
    if want is not None and unit != want:
        raise InputError(f"{location(path, line)}column {cell!r}: expected the unit [{want}] "
                         f"(as nvidia-smi writes '{name} [{want}]'), got {('[' + unit + ']') if unit else 'no unit'}")
    return name, unit


def _header(cells: list[str], path: str, line: int) -> list[tuple[str, str | None]]:
    cols = [_column(cell, path, line) for cell in cells]
    names = [c[0] for c in cols]
    if len(set(names)) != len(names):
        raise InputError(f"{location(path, line)}a column appears twice: {', '.join(cells)}")
    if "timestamp" not in names:
        raise InputError(f"{location(path, line)}no 'timestamp' column: log with "
                         "nvidia-smi --query-gpu=timestamp,index,power.draw --format=csv -lms 100")
    if not any(p in names for p in _POWER_COLUMNS):
        raise InputError(f"{location(path, line)}no power column: expected one of "
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
        raise InputError(f"{location(path, line)}{col}: expected a number{(' in ' + unit) if unit else ''}, "
                         f"got {text!r}") from None
    if unit is not None:
        seen = mode.setdefault("units", has_unit)
        if seen != has_unit:
            raise InputError(f"{location(path, line)}{col}: mixed units: earlier rows "
                             f"{'carry' if seen else 'omit'} the unit '{unit}', this one {'omits' if seen else 'carries'} it "
                             f"(got {text!r})")
    return value


@dataclass
class _Layout:
    """Where a log's columns are, from its header."""

    cells: list[str]                             # the header as written (a repeat of it is skipped)
    cols: list[tuple[str, str | None]]
    power: str                                   # the power column used
    i_ts: int
    i_id: int | None                             # index, uuid or pci.bus_id: tells the GPUs apart
    id_is_index: bool
    i_uuid: int | None
    wanted: list[tuple[int, str, str, float]]    # (column index, unit, channel, scale) of the values kept


def _layout(cells: list[str], path: str, line: int) -> _Layout:
    cols = _header(cells, path, line)
    names = [c[0] for c in cols]
    power = next(p for p in _POWER_COLUMNS if p in names)
    idx = {name: i for i, name in enumerate(names)}
    wanted = [(idx[power], "W", POWER, 1.0)]
    if "utilization.gpu" in idx:
        wanted.append((idx["utilization.gpu"], "%", GPU_UTIL, 0.01))
    i_id = next((idx[k] for k in ("index", "uuid", "pci.bus_id") if k in idx), None)
    return _Layout(cells, cols, power, idx["timestamp"], i_id, "index" in idx, idx.get("uuid"), wanted)


class _Reader:
    """State while reading one log: the layout, the devices, skipped readings, the current timestamp."""

    def __init__(self, path: str, clock: Clock) -> None:
        self.path, self.clock = path, clock
        self.layout: _Layout | None = None
        self.devices: dict[str, Device] = {}
        self.mode: dict[str, bool] = {}
        self.na = self.dup = self.neg = 0
        self.last_stamp: str | None = None
        self.t = 0.0

    def row(self, n: int, row: str) -> None:
        """Read one non-empty, non-comment line."""
        cells = [c.strip() for c in row.split(",")]
        lay = self.layout
        if lay is None:
            if _TS_RE.match(cells[0]):
                raise InputError(f"{location(self.path, n)}no header line: log with --format=csv (not csv,noheader) "
                                 "so the columns are named")
            self.layout = _layout(cells, self.path, n)
            return
        if len(cells) != len(lay.cols):
            if cells == lay.cells:
                return
            raise InputError(f"{location(self.path, n)}expected {len(lay.cols)} comma-separated values "
                             f"({', '.join(lay.cells)}), got {len(cells)}: {row!r}")
        stamp = cells[lay.i_ts]
        if stamp != self.last_stamp:
            if cells == lay.cells:
                return  # logs concatenated
            if "timestamp" in cells:
                raise InputError(f"{location(self.path, n)}the header changed within the file (got {row!r}); "
                                 "split the log")
            try:
                self.t = self.clock.seconds(parse_nvsmi_timestamp(stamp))
            except ValueError:
                raise InputError(f"{location(self.path, n)}timestamp: expected 'YYYY/MM/DD HH:MM:SS.mmm' as "
                                 f"nvidia-smi writes it, got {stamp!r}") from None
            self.last_stamp = stamp
        dev_id = cells[lay.i_id] if lay.i_id is not None else "0"
        dev = self.devices.get(dev_id)
        if dev is None:
            if lay.id_is_index and not dev_id.isdigit():
                raise InputError(f"{location(self.path, n)}index: expected a GPU index (0, 1, ...), got {dev_id!r}")
            uuid = cells[lay.i_uuid] if lay.i_uuid is not None else None
            dev = self.devices[dev_id] = Device(dev_id, self.path, uuid=uuid)
        for i, unit, channel, scale in lay.wanted:
            self._value(dev, cells[i], lay.cols[i][0], unit, channel, scale, n)

    def _value(self, dev: Device, cell: str, col: str, unit: str, channel: str, scale: float, n: int) -> None:
        value = _split_value(cell, unit, self.path, n, col, self.mode)
        if value is None or not math.isfinite(value):
            self.na += 1
            return
        if channel == POWER:
            if value < 0:
                self.neg += 1
                return
        elif not 0 <= value <= 100:
            raise InputError(f"{location(self.path, n)}utilization.gpu: expected 0..100 %, got {cell!r}")
        self.dup += append_sample(dev.channel(channel), self.t, value * scale, n, self.path, dev.id)

    def finish(self, digest: str) -> PowerLog:
        """The parsed log, with the skipped readings as warnings."""
        if self.layout is None:
            raise InputError(f"{self.path}: empty log (no header, no samples)")
        if not self.devices:
            raise InputError(f"{self.path}: a header but no samples")
        warnings = []
        if self.na:
            warnings.append(f"{self.path}: {self.na} reading(s) were [N/A] / [Not Supported] or not finite "
                            "and were skipped")
        if self.neg:
            warnings.append(f"{self.path}: {self.neg} negative power reading(s) skipped")
        if self.dup:
            warnings.append(f"{self.path}: {self.dup} sample(s) repeating the previous timestamp of their GPU "
                            "were dropped")
        return PowerLog(self.path, "nvidia-smi", "naive", self.devices, warnings, digest, [self.layout.power])


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
        text, digest = read_text(path)
    else:
        digest = sha256_of(text.encode())
    reader = _Reader(path, clock)
    for n, raw in enumerate(text.splitlines(), start=1):
        row = raw.strip()
        if row and not row.startswith("#"):
            reader.row(n, row)
    return reader.finish(digest)
