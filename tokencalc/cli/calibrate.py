"""`tokencalc calibrate`: measured power logs + token counts -> measured inputs.

A thin adapter: options are parsed here and handed to one library call,
:func:`tokencalc.calibration.run.run`; this module only prints the result and writes
the profile fragment. The options `measure` shares are defined here too. Heavy
imports stay inside the command functions so `tokencalc --help` stays fast.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Any, List, Optional

import typer
from typing_extensions import Annotated


class Format(str, Enum):
    """Output formats of calibrate / measure."""

    table = "table"
    json = "json"


class Basis(str, Enum):
    """Which tokens the count covers."""

    output = "output"
    total = "total"


class LogFormat(str, Enum):
    """Power-log formats."""

    auto = "auto"
    nvidia_smi = "nvidia-smi"
    dcgm = "dcgm"


# Options shared by both commands.
TokensOpt = Annotated[Optional[str], typer.Option("--tokens", help="Tokens produced in the run window (on --token-basis).", metavar="N")]
BasisOpt = Annotated[Basis, typer.Option("--token-basis", help="Tokens counted: output only, or input + output.")]
BenchOpt = Annotated[Optional[Path], typer.Option("--bench", help="vLLM benchmark_serving.py / `vllm bench serve` result JSON: token counts (and the window, from its date and duration).", metavar="FILE")]
CTokOpt = Annotated[Optional[str], typer.Option("--c-tok", help='Compute per token, e.g. "1.3e11 FLOP/token" (for realized K_eff).')]
WorkloadOpt = Annotated[Optional[str], typer.Option("--workload", help="Workload profile id or path: its c_tok (model.c_tok, or 2 N_active + 2 n_layers n_ctx d_attn) and precision.", metavar="ID|PATH")]
HardwareOpt = Annotated[Optional[str], typer.Option("--hardware", help="Hardware profile id or path: peak_flops at --precision and TDP (for eta_K, eta_E).", metavar="ID|PATH")]
PrecisionOpt = Annotated[Optional[str], typer.Option("--precision", help="Precision selecting the hardware's peak_flops (default: the workload's).")]
SmRefOpt = Annotated[float, typer.Option("--sm-active-reference", help="SM activity of the ideal batch; U = mean SM active / this.", min=0.0, max=1.0)]
IdlePowerOpt = Annotated[Optional[str], typer.Option("--idle-power", help='Idle power per device to subtract, e.g. "60 W" (reported separately as energy_idle_j, e_tok_net).')]
ProfilesOpt = Annotated[Optional[List[Path]], typer.Option("--profiles", help="Extra profile folder (repeatable; also TOKENCALC_PROFILES).", metavar="DIR")]
WriteOpt = Annotated[Optional[Path], typer.Option("--write-profile", help="Write a workload profile with the [measured] figures and provenance.", metavar="FILE")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite the --write-profile file if it exists.")]
NameOpt = Annotated[Optional[str], typer.Option("--name", help="Name of the written profile.")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]


def register(app: typer.Typer) -> None:
    """Add the `calibrate` command to `app`."""
    app.command("calibrate")(calibrate)


def calibrate(
    power_log: Annotated[Optional[List[Path]], typer.Option("--power-log", "-p", help="nvidia-smi CSV log or DCGM exporter scrapes (repeatable: one per node; devices are summed). Or give --energy.", metavar="FILE")] = None,
    energy: Annotated[Optional[Path], typer.Option("--energy", help="Instead of power logs: the energy report a serving stack wrote (vLLM bench serve energy or --record-power, SGLang bench_serving --record-power, trtllm-bench report, TGI responses with energy_mj, ML.ENERGY run results.json), recognised by its keys: energy, window, tokens and devices.", metavar="FILE")] = None,
    tokens: TokensOpt = None,
    token_basis: BasisOpt = Basis.output,
    bench: BenchOpt = None,
    start: Annotated[Optional[str], typer.Option("--start", help='Window start: ISO time, or an offset from the first sample ("30 s").')] = None,
    end: Annotated[Optional[str], typer.Option("--end", help='Window end: ISO time, or an offset ("90 s" from the first sample, "-5 s" from the last).')] = None,
    idle_power: IdlePowerOpt = None,
    idle_window: Annotated[Optional[str], typer.Option("--idle-window", help="Idle segment START:END (or START..END) measured in the same logs; its mean power per device is subtracted.")] = None,
    log_format: Annotated[LogFormat, typer.Option("--log-format", help="Power-log format (auto sniffs each file).")] = LogFormat.auto,
    interval: Annotated[Optional[str], typer.Option("--interval", help='Scrape interval for DCGM scrapes without timestamps or "# scrape at" lines, e.g. "1 s".')] = None,
    utc_offset: Annotated[Optional[str], typer.Option("--utc-offset", help="Zone of timestamps written without one (nvidia-smi, vLLM date), e.g. +02:00; needed when they meet absolute times.")] = None,
    no_counter: Annotated[bool, typer.Option("--no-counter", help="Integrate power even where a DCGM energy counter is logged.")] = False,
    c_tok: CTokOpt = None,
    workload: WorkloadOpt = None,
    hardware: HardwareOpt = None,
    precision: PrecisionOpt = None,
    sm_active_reference: SmRefOpt = 1.0,
    profiles: ProfilesOpt = None,
    write_profile: WriteOpt = None,
    force: ForceOpt = False,
    name: NameOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Measured power logs + token counts -> measured e_tok, realized K_eff, eta_K, eta_E and U.

    Reads `nvidia-smi --query-gpu=timestamp,index,power.draw --format=csv` logs (with
    or without units) and dcgm-exporter scrapes, integrates each device over the run
    window (energy counter delta when logged, else the trapezoid rule) and sums them.
    DCGM samples are timed by their Prometheus timestamps, else by a
    `# scrape at <ISO time>` line before each scrape, else by --interval.
    With --energy, the serving stack's own energy report replaces the logs.
    """
    from ..calibration.run import run

    cal = run(power_log, energy=energy, tokens=tokens, bench=bench, token_basis=token_basis.value, start=start, end=end,
              idle_power=idle_power, idle_window=idle_window, log_format=log_format.value, interval=interval,
              utc_offset=utc_offset, no_counter=no_counter, c_tok=c_tok, workload=workload, hardware=hardware,
              precision=precision, sm_active_reference=sm_active_reference, profiles=profiles)
    finish(cal, fmt, write_profile, force, name)


def finish(cal: Any, fmt: Format, write_profile: Optional[Path], force: bool, name: Optional[str]) -> None:
    """Write the profile fragment (if asked), print the result, list warnings on stderr.

    Args:
        cal: the :class:`~tokencalc.calibration.run.Calibration`.
        fmt: table or JSON (JSON is `cal.to_dict()`, plus `profile_written` when a profile was written).
        write_profile: where to write the fragment (atomically; never over a file without `force`).
        force: replace an existing `write_profile` file.
        name: the fragment's name (default: the benchmarked model's).

    Raises:
        OutputExistsError: the profile file exists and `force` is False.
    """
    result = cal.to_dict()
    if write_profile is not None:
        from ..fileio import write_atomic

        write_atomic(write_profile, cal.fragment(name), force=force, flag="--write-profile")
        result["profile_written"] = str(write_profile)
    if fmt is Format.json:
        import json

        sys.stdout.write(json.dumps(result, sort_keys=True, indent=2) + "\n")
    else:
        from rich.console import Console

        from ..render.calibrate import tables

        console = Console(file=sys.stdout, soft_wrap=False)
        for table in tables(result):
            console.print(table)
    from ..errors import one_line

    for w in result["warnings"]:
        sys.stderr.write(f"tokencalc: warning: {one_line(w)}\n")
    if write_profile is not None:
        sys.stderr.write(f"tokencalc: wrote {write_profile}\n")
