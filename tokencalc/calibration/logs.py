"""Power logs of either format: sniffing the format, reading a file, merging the devices of several files."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError
from .clock import Clock
from .dcgm import parse_dcgm
from .nvsmi import parse_nvidia_smi
from .samples import Device, PowerLog, read_text

LOG_FORMATS = ("auto", "nvidia-smi", "dcgm")


def sniff_format(text: str) -> str:
    """Guess a log's format from its first meaningful line: "nvidia-smi" or "dcgm"."""
    for raw in text.splitlines():
        row = raw.strip().lstrip("\ufeff")
        if not row:
            continue
        if row.startswith(("#", "DCGM_")) or "{" in row:
            return "dcgm"
        return "nvidia-smi"
    return "nvidia-smi"


def read_power_log(path: str | os.PathLike, clock: Clock, *, fmt: str = "auto",
                   interval: float | None = None) -> PowerLog:
    """Read a power log of either format.

    Args:
        path: the log file.
        clock: the time convention (see :class:`~tokencalc.calibration.clock.Clock`).
        fmt: "nvidia-smi", "dcgm", or "auto" to sniff it.
        interval: seconds between DCGM scrapes that carry no time.

    Raises:
        InputError: an unknown `fmt`, or what the parser of the format raises.
    """
    text, digest = read_text(path)
    kind = sniff_format(text) if fmt == "auto" else fmt
    if kind == "dcgm":
        log = parse_dcgm(path, clock, interval=interval, text=text)
    elif kind == "nvidia-smi":
        log = parse_nvidia_smi(path, clock, text=text)
    else:
        raise InputError(f"--log-format: expected auto, nvidia-smi or dcgm, got {fmt!r}")
    log.sha256 = digest  # of the bytes, not of the decoded text the parser hashed
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
