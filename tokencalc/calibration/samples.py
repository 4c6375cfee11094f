"""Measured series: channels of samples per device, a parsed power log, and reading input files.

Every parser (:mod:`.nvsmi`, :mod:`.dcgm`) and the NVML sampler (:mod:`.nvml`)
produce :class:`Device` series in SI units, so one integration path serves them all.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from ..errors import InputError
from ..fileio import read_bytes

# Channels a device series can carry, with their SI meaning.
POWER, ENERGY, SM_ACTIVE, GPU_UTIL = "power_w", "energy_j", "sm_active", "gpu_util"


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


def sha256_of(data: bytes) -> str:
    """SHA-256 hex digest of `data`."""
    return hashlib.sha256(data).hexdigest()


def read_text(path: str | os.PathLike) -> tuple[str, str]:
    """Text and SHA-256 of a file (BOM and CRLF tolerated).

    Raises:
        InputError: the file cannot be read or is not UTF-8.
    """
    blob = read_bytes(path, what="input")
    try:
        text = blob.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    return text, sha256_of(blob)


def location(path: str, line: int) -> str:
    """The prefix of a message about one line of a file: ``line N in PATH: ``."""
    return f"line {line} in {path}: "


def append_sample(ch: Channel, t: float, v: float, line: int, path: str, dev: str) -> int:
    """Add a sample; 1 if it duplicated the previous timestamp (dropped), 0 otherwise.

    Raises:
        InputError: the time goes backwards for this series.
    """
    if ch.t:
        if t < ch.t[-1]:
            raise InputError(f"{location(path, line)}timestamps go backwards for GPU {dev} "
                             f"(line {ch.lines[-1]} is later); expected time order per GPU")
        if t == ch.t[-1]:
            return 1
    ch.t.append(t)
    ch.v.append(v)
    ch.lines.append(line)
    return 0
