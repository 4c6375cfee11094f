"""`tokencalc measure`: run a command while sampling NVML board power, then report like `calibrate`.

A thin adapter: it resolves the reference inputs before the command starts (so a
bad --workload fails before anything runs), samples through
:mod:`tokencalc.calibration.nvml`, and hands the samples to one library call,
:func:`tokencalc.calibration.run.measured`. It writes --save-log and the profile
fragment; the options it shares with `calibrate` come from :mod:`.calibrate`.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from .calibrate import (Basis, BasisOpt, BenchOpt, CTokOpt, ForceOpt, Format, FormatOpt, HardwareOpt, IdlePowerOpt,
                        NameOpt, PrecisionOpt, ProfilesOpt, SmRefOpt, TokensOpt, WorkloadOpt, WriteOpt, finish)


def register(app: typer.Typer) -> None:
    """Add the `measure` command to `app` (everything after `--` is the command to run)."""
    app.command("measure", context_settings={"allow_interspersed_args": False})(measure)


def measure(
    command: Annotated[Optional[List[str]], typer.Argument(help="The command to run and measure (after --).", metavar="-- CMD [ARGS]...")] = None,
    interval: Annotated[str, typer.Option("--interval", help="Sampling interval.")] = "100 ms",
    gpu: Annotated[Optional[List[int]], typer.Option("--gpu", help="Device index to sample (repeatable; default all).")] = None,
    tokens: TokensOpt = None,
    token_basis: BasisOpt = Basis.output,
    bench: BenchOpt = None,
    idle_power: IdlePowerOpt = None,
    c_tok: CTokOpt = None,
    workload: WorkloadOpt = None,
    hardware: HardwareOpt = None,
    precision: PrecisionOpt = None,
    sm_active_reference: SmRefOpt = 1.0,
    profiles: ProfilesOpt = None,
    save_log: Annotated[Optional[Path], typer.Option("--save-log", help="Also save the samples as an nvidia-smi style CSV (for `calibrate`).", metavar="FILE")] = None,
    write_profile: WriteOpt = None,
    force: ForceOpt = False,
    name: NameOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Run CMD while sampling NVML board power, then report like `calibrate`.

    Needs an NVIDIA GPU, its driver and `pip install nvidia-ml-py`; without them it
    says so and exits with status 2 before running CMD. Tokens come from --tokens,
    or from a --bench file the command writes.
    """
    from ..calibration import nvml as M
    from ..calibration.reference import resolve_reference
    from ..calibration.run import measured, quantity
    from ..errors import InputError
    from ..fileio import check_writable, write_atomic

    # Everything that can be refused is checked before CMD starts.
    step = quantity(interval, "time", "--interval")
    if not step > 0:
        raise InputError("--interval: expected a time > 0")
    idle_w = quantity(idle_power, "power", "--idle-power")
    for path, flag in ((save_log, "--save-log"), (write_profile, "--write-profile")):
        if path is not None:
            check_writable(path, force, flag=flag)
    if not command:
        raise InputError("measure: no command given; usage: tokencalc measure [OPTIONS] -- CMD [ARGS...]")
    ref = resolve_reference(c_tok=c_tok, workload=workload, hardware=hardware, precision=precision,
                            sm_active_reference=sm_active_reference, profiles=profiles)
    nvml = M.load_nvml()
    try:
        devices, first, last, code, warnings = M.run_command(command, nvml, interval=step, indices=gpu)
    finally:
        M.shutdown(nvml)
    if code != 0:
        raise InputError(f"measure: {shlex.join(command)!r} exited with status {code}; no figures reported")
    if save_log is not None:
        write_atomic(save_log, M.to_csv(devices), force=force, flag="--save-log")
    cal = measured(devices, first, last, command, ref=ref, tokens=tokens, bench=bench,
                   token_basis=token_basis.value, idle_power=idle_w, warnings=warnings)
    finish(cal, fmt, write_profile, force, name)
