"""The library entry points: one call from the values a user gives to the calibration result.

:func:`run` takes what `tokencalc calibrate` takes (strings with units as written
on the command line, or numbers in SI units; paths) and returns a
:class:`Calibration` whose `.to_dict()` is the command's `--format json` document.
:func:`measured` does the same for `tokencalc measure`, after the NVML sampling.
The commands only format and write what these return.
"""

from __future__ import annotations

import copy
import math
import os
import shlex
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from ..errors import InputError
from ..units import parse
from ..version import __version__
from .bench import TOKEN_BASES, Bench, read_bench, token_count
from .clock import Clock, Window
from .energy import read_energy
from .estimators import calibrate
from .fragment import profile_fragment
from .logs import merge_devices, read_power_log
from .reference import Reference, resolve_reference
from .reported import from_report
from .samples import Device
from .window import parse_idle_window, resolve_window

PathLike = str | os.PathLike


@dataclass
class Calibration:
    """The outcome of a calibration.

    Attributes:
        result: the `--format json` document (plain SI floats).
        command: the equivalent command line, for the fragment's provenance.
        default_name: the fragment's name when none is given.
    """

    result: dict[str, Any]
    command: str
    default_name: str = "measured workload"

    def to_dict(self) -> dict[str, Any]:
        """The `tokencalc calibrate --format json` document (a copy)."""
        return copy.deepcopy(self.result)

    def fragment(self, name: str | None = None, command: str | None = None) -> str:
        """The workload profile fragment (TOML text) with the ``[measured]`` figures and provenance.

        Args:
            name: the profile's name (default: `default_name`).
            command: the command recorded as provenance (default: `command`).

        Raises:
            InputError: no token count, so no e_tok to write.
        """
        return profile_fragment(self.result, name=name or self.default_name, command=command or self.command)


def quantity(value: Any, dim: str, key: str) -> float | None:
    """A user value in SI: text with a unit ("60 W"), or a number already in SI units (None stays None).

    Raises:
        UnitError: unreadable text or the wrong dimension; InputError: a number that is not finite.
    """
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise InputError(f"{key}: expected a finite number, got {value}")
        return float(value)
    return parse(value, dim, key=key)


def default_name(bench: Bench | None) -> str:
    """The profile name when none is given: the benchmarked model's, else "measured workload"."""
    if bench is not None and bench.model_id:
        return f"{bench.model_id} (measured)"
    return "measured workload"


def _command_line(paths: list[PathLike], given: dict[str, Any], no_counter: bool) -> str:
    """The `tokencalc calibrate` command with these options (for provenance)."""
    pairs = [("--power-log", p) for p in paths] + [(f"--{k.replace('_', '-')}", v) for k, v in given.items()]
    command = "tokencalc calibrate " + " ".join(f"{k} {shlex.quote(str(v))}" for k, v in pairs if v is not None)
    return command + (" --no-counter" if no_counter else "")


def _energy_run(energy: PathLike, paths: list[PathLike], given: dict[str, Any], *, token_basis: str,
                idle_power: Any, ref_args: dict[str, Any]) -> Calibration:
    """`calibrate --energy REPORT`: the report's energy, window, tokens and devices, through the same estimators."""
    if paths:
        raise InputError("give either --power-log or --energy, not both (one source of energy)")
    for flag, value in given.items():
        if value is not None and value is not False and not (flag == "log_format" and value == "auto"):
            raise InputError(f"--{flag.replace('_', '-')} does not apply to --energy: the report gives its own "
                             "window, token count and devices")
    rep = read_energy(energy)
    if token_basis not in TOKEN_BASES:
        raise InputError(f"--token-basis: expected output or total, got {token_basis!r}")
    ref = resolve_reference(**ref_args)
    result = from_report(rep, token_basis, ref=ref, idle_power=quantity(idle_power, "power", "--idle-power"),
                         tool_version=__version__)
    shown = {"energy": energy, "token_basis": token_basis, "idle_power": idle_power,
             **{k: v for k, v in ref_args.items() if k in ("c_tok", "workload", "hardware", "precision")}}
    name = f"{rep.model_id} (measured)" if rep.model_id else "measured workload"
    return Calibration(result, _command_line([], shown, False), name)


def _file_inputs(logs: Iterable[Any], bench: Bench | None) -> list[dict[str, Any]]:
    out = [{"path": log.path, "format": log.format, "sha256": log.sha256} for log in logs]
    if bench is not None:
        out.append({"path": bench.path, "format": "vllm-bench", "sha256": bench.sha256})
    return out


def run(power_log: PathLike | Sequence[PathLike] | None = None, *, energy: PathLike | None = None,
        tokens: str | int | None = None, bench: PathLike | None = None,
        token_basis: str = "output", start: str | None = None, end: str | None = None, idle_power: Any = None,
        idle_window: str | None = None, log_format: str = "auto", interval: Any = None, utc_offset: str | None = None,
        no_counter: bool = False, c_tok: Any = None, workload: str | None = None, hardware: str | None = None,
        precision: str | None = None, sm_active_reference: float = 1.0,
        profiles: Iterable[PathLike] | None = None) -> Calibration:
    """Power logs + a token count -> measured e_tok, realized K_eff, η_K, η_E and U (`tokencalc calibrate`).

    Args:
        power_log: nvidia-smi CSV logs or DCGM exporter scrapes (one path or several; devices are summed).
        energy: instead of power logs, a serving stack's energy report (vLLM, SGLang, TensorRT-LLM, TGI,
            ML.ENERGY run; recognised by its keys, :mod:`.energy`): its energy, window, tokens and devices.
        tokens: tokens produced in the window, on `token_basis`.
        bench: a vLLM benchmark result JSON: the token count (and the window, from its date and duration).
        token_basis: "output" or "total" (input + output).
        start, end: the window: ISO times, times of day, or offsets ("30 s"; "-5 s" from the last sample).
        idle_power: idle power per device to subtract ("60 W"), reported separately.
        idle_window: an idle segment START:END or START..END in the same logs, subtracted likewise.
        log_format: "auto", "nvidia-smi" or "dcgm".
        interval: the scrape interval of DCGM scrapes that carry no time ("1 s").
        utc_offset: the zone of timestamps written without one ("+02:00").
        no_counter: integrate power even where an energy counter is logged.
        c_tok: compute per token ("1.3e11 FLOP/token").
        workload, hardware: profile ids or paths (c_tok and precision; peak_flops and TDP).
        precision: selects the hardware's peak_flops (default: the workload's).
        sm_active_reference: SM activity of the ideal batch; U = mean SM activity / this.
        profiles: extra profile folders.

    Raises:
        TokencalcError: unreadable or malformed input (naming the file and line), conflicting options.
    """
    paths = [power_log] if isinstance(power_log, (str, os.PathLike)) else list(power_log or [])
    ref_args = {"c_tok": c_tok, "workload": workload, "hardware": hardware, "precision": precision,
                "sm_active_reference": sm_active_reference, "profiles": profiles}
    if energy is not None:
        given = {"tokens": tokens, "bench": bench, "start": start, "end": end, "idle_window": idle_window,
                 "log_format": log_format, "interval": interval, "utc_offset": utc_offset, "no_counter": no_counter}
        return _energy_run(energy, paths, given, token_basis=token_basis, idle_power=idle_power, ref_args=ref_args)
    if not paths:
        raise InputError("--power-log: give at least one power log (or --energy with a serving stack's report)")
    clock = Clock(utc_offset)
    step = quantity(interval, "time", "--interval")
    if step is not None and not step > 0:
        raise InputError("--interval: expected a time > 0")
    logs = [read_power_log(p, clock, fmt=log_format, interval=step) for p in paths]
    devices = merge_devices(logs)
    warnings = [w for log in logs for w in log.warnings]
    b = read_bench(bench, clock) if bench is not None else None
    n_tokens = token_count(tokens, b, token_basis)
    window = resolve_window(devices, clock, start=start, end=end, bench=b, warnings=warnings)
    idle_win = parse_idle_window(idle_window, devices, clock) if idle_window else None
    idle_w = quantity(idle_power, "power", "--idle-power")
    ref = resolve_reference(**ref_args)
    result = calibrate(devices, window, n_tokens, token_basis, clock=clock, ref=ref, idle_power=idle_w,
                       idle_window=idle_win, inputs=_file_inputs(logs, b), warnings=warnings, bench=b,
                       prefer_counter=not no_counter, tool_version=__version__)
    given = {"bench": bench, "tokens": tokens, "token_basis": token_basis, "start": start, "end": end,
             "idle_power": idle_power, "idle_window": idle_window, "interval": interval, "utc_offset": utc_offset,
             "c_tok": c_tok, "workload": workload, "hardware": hardware, "precision": precision}
    return Calibration(result, _command_line(paths, given, no_counter), default_name(b))


def measured(devices: dict[str, Device], first: float, last: float, command: Sequence[str], *,
             ref: Reference | None = None, tokens: str | int | None = None, bench: PathLike | None = None,
             token_basis: str = "output", idle_power: Any = None,
             warnings: Iterable[str] = ()) -> Calibration:
    """NVML samples of a command's run -> the calibration result (`tokencalc measure`, after sampling).

    Args:
        devices: the sampled devices (see :func:`~tokencalc.calibration.nvml.run_command`).
        first, last: the first and last sample times (epoch seconds): the window.
        command: the command that ran.
        ref: the reference inputs, resolved before the run (:func:`~tokencalc.calibration.reference.resolve_reference`;
            default: none).
        tokens, bench, token_basis, idle_power: as for :func:`run`.
        warnings: warnings from the sampling.

    Raises:
        TokencalcError: a bad token count or bench file; fewer than two samples.
    """
    clock = Clock("+00:00")  # NVML samples are stamped in epoch seconds
    clock.note("absolute")
    b = read_bench(bench, clock) if bench is not None else None
    n_tokens = token_count(tokens, b, token_basis)
    window = Window(first, last, "measure")
    if not window.duration > 0:
        raise InputError("measure: the command finished before two samples were taken; lower --interval")
    inputs = [{"path": "nvml", "format": "nvml", "sha256": None}] + _file_inputs([], b)
    result = calibrate(devices, window, n_tokens, token_basis, clock=clock, ref=ref,
                       idle_power=quantity(idle_power, "power", "--idle-power"), inputs=inputs,
                       warnings=list(warnings), bench=b, tool_version=__version__)
    result["command"] = list(command)
    return Calibration(result, "tokencalc measure -- " + shlex.join(command), default_name(b))
