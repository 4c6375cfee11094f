"""Sample accelerator power through NVML while a command runs.

The sampler talks to an *NVML-like backend*: any object with the `pynvml`
functions used below (``nvmlInit``, ``nvmlShutdown``, ``nvmlDeviceGetCount``,
``nvmlDeviceGetHandleByIndex``, ``nvmlDeviceGetPowerUsage`` in mW,
``nvmlDeviceGetTotalEnergyConsumption`` in mJ, optionally
``nvmlDeviceGetUtilizationRates``). The real one is the ``pynvml`` module from
``nvidia-ml-py``, imported only when ``tokencalc measure`` runs; tests pass a
stand-in. The samples come back as :class:`~tokencalc.calibration.samples.Device`
series, so `measure` reports through the same code as `calibrate`
(:func:`tokencalc.calibration.run.measured`).
"""

from __future__ import annotations

import datetime as _dt
import subprocess
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..errors import InputError
from .samples import ENERGY, GPU_UTIL, POWER, Device

SOURCE = "nvml"


def load_nvml() -> Any:
    """Import and initialise NVML (``pynvml`` from ``nvidia-ml-py``).

    Raises:
        InputError: the package is missing, the driver or a GPU is absent.
    """
    try:
        import pynvml  # type: ignore[import-not-found]
    except ImportError:
        raise InputError("measure needs NVIDIA's NVML bindings, which are not installed: "
                         "`pip install nvidia-ml-py` on a machine with an NVIDIA GPU and driver "
                         "(or log with nvidia-smi / dcgm-exporter and use `tokencalc calibrate`)") from None
    init(pynvml)
    return pynvml


def init(nvml: Any) -> int:
    """Initialise the backend and return its device count.

    Raises:
        InputError: NVML cannot start (no driver) or sees no GPU.
    """
    try:
        nvml.nvmlInit()
    except Exception as exc:  # NVMLError subclasses, OSError from a missing libnvidia-ml
        raise InputError(f"no NVIDIA GPU available: NVML could not start ({exc or type(exc).__name__}); "
                         "measure needs an NVIDIA driver and GPU") from None
    count = int(nvml.nvmlDeviceGetCount())
    if count < 1:
        shutdown(nvml)
        raise InputError("no NVIDIA GPU available: NVML found 0 devices")
    return count


def shutdown(nvml: Any) -> None:
    """Shut the backend down (best effort: errors are ignored)."""
    try:
        nvml.nvmlShutdown()
    except Exception:  # shutting down is best effort
        pass


@dataclass
class Sampler:
    """Polls power (and the energy counter, when the device has one) of a set of devices.

    Attributes:
        nvml: the NVML-like backend (already initialised).
        indices: device indices to sample.
        clock: wall-clock seconds (``time.time``).
    """

    nvml: Any
    indices: Sequence[int]
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self.handles = {i: self.nvml.nvmlDeviceGetHandleByIndex(i) for i in self.indices}
        self.devices = {str(i): Device(str(i), SOURCE, uuid=self._uuid(h)) for i, h in self.handles.items()}
        self.no_energy: set[int] = set()
        self.no_util: set[int] = set()
        self.errors = 0

    def _uuid(self, handle: Any) -> str | None:
        try:
            u = self.nvml.nvmlDeviceGetUUID(handle)
        except Exception:  # optional
            return None
        return u.decode() if isinstance(u, bytes) else str(u)

    def sample(self) -> float:
        """Read every device once; returns the time stamped on the readings."""
        t = self.clock()
        for i, h in self.handles.items():
            dev = self.devices[str(i)]
            try:
                mw = self.nvml.nvmlDeviceGetPowerUsage(h)
            except Exception:
                self.errors += 1
                continue
            _add(dev, POWER, t, mw / 1000.0)
            if i not in self.no_energy:
                try:
                    _add(dev, ENERGY, t, self.nvml.nvmlDeviceGetTotalEnergyConsumption(h) / 1000.0)
                except Exception:  # pre-Volta devices have no counter: integrate power
                    self.no_energy.add(i)
                    dev.channels.pop(ENERGY, None)
            if i not in self.no_util:
                try:
                    _add(dev, GPU_UTIL, t, self.nvml.nvmlDeviceGetUtilizationRates(h).gpu / 100.0)
                except Exception:
                    self.no_util.add(i)
                    dev.channels.pop(GPU_UTIL, None)
        return t


def _add(dev: Device, channel: str, t: float, value: float) -> None:
    ch = dev.channel(channel)
    if ch.t and t <= ch.t[-1]:
        return
    ch.t.append(t)
    ch.v.append(float(value))
    ch.lines.append(len(ch.t))


def sample_while(sampler: Sampler, running: Callable[[], bool], interval: float, *,
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> tuple[float, float]:
    """Sample at `t0`, then every `interval` seconds while `running()` is true, then once more.

    `running()` is asked once per interval, after the pause, so the last sample is at
    most one interval after the command ends.

    Returns:
        (first, last) sample times: the measured window.
    """
    if not interval > 0:
        raise InputError("--interval: expected a time > 0")
    first = sampler.sample()
    due = monotonic()
    while True:
        due += interval
        pause = due - monotonic()
        if pause > 0:
            sleep(pause)
        else:
            due = monotonic()  # fell behind: do not burst
        if not running():
            break
        sampler.sample()
    last = sampler.sample()
    return first, last


def run_command(cmd: Sequence[str], nvml: Any, *, interval: float, indices: Sequence[int] | None = None,
                clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                popen: Callable[..., Any] = subprocess.Popen) -> tuple[dict[str, Device], float, float, int, list[str]]:
    """Run `cmd` while sampling power on `nvml` (already initialised).

    Returns:
        (devices, start, end, return code, warnings).

    Raises:
        InputError: no command, or it cannot be started.
    """
    if not cmd:
        raise InputError("measure: no command given; usage: tokencalc measure [OPTIONS] -- CMD [ARGS...]")
    count = int(nvml.nvmlDeviceGetCount())
    indices = list(range(count)) if indices is None else list(indices)
    bad = [i for i in indices if not 0 <= i < count]
    if bad:
        raise InputError(f"--gpu: NVML sees devices 0..{count - 1}, got {', '.join(map(str, bad))}")
    sampler = Sampler(nvml, indices, clock)
    warnings: list[str] = []
    try:
        proc = popen(list(cmd))
    except OSError as exc:
        raise InputError(f"measure: cannot run {cmd[0]!r}: {exc.strerror or exc}") from None
    try:
        first, last = sample_while(sampler, lambda: proc.poll() is None, interval, sleep=sleep)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    code = proc.wait()
    if sampler.errors:
        warnings.append(f"nvml: {sampler.errors} power reading(s) failed and were skipped")
    return sampler.devices, first, last, code, warnings


def to_csv(devices: dict[str, Device]) -> str:
    """The samples as an ``nvidia-smi --format=csv,nounits`` log (UTC wall time), for `calibrate`."""
    rows = []
    for dev_id, dev in devices.items():
        ch = dev.channels.get(POWER)
        if ch is None:
            continue
        for t, v in zip(ch.t, ch.v):
            rows.append((t, int(dev_id) if dev_id.isdigit() else dev_id, v))
    rows.sort()
    out = ["timestamp, index, power.draw [W]"]
    for t, i, v in rows:
        stamp = _dt.datetime.fromtimestamp(t, _dt.timezone.utc).strftime("%Y/%m/%d %H:%M:%S.%f")[:-3]
        out.append(f"{stamp}, {i}, {v:.2f}")
    return "\n".join(out) + "\n"
