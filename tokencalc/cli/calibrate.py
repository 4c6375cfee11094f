"""`tokencalc calibrate` and `tokencalc measure`: measurements -> measured inputs.

A thin adapter: options are parsed here, everything else is in
:mod:`tokencalc.calibrate` (logs, windows, integration, estimators, the profile
fragment) and :mod:`tokencalc.measure` (NVML sampling). Heavy imports stay inside
the command functions so `tokencalc --help` stays fast.
"""

from __future__ import annotations

import shlex
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
    """Add the `calibrate` and `measure` commands to `app`."""
    app.command("calibrate")(calibrate)
    app.command("measure", context_settings={"allow_interspersed_args": False})(measure)


def calibrate(
    power_log: Annotated[List[Path], typer.Option("--power-log", "-p", help="nvidia-smi CSV log or DCGM exporter scrapes (repeatable: one per node; devices are summed).", metavar="FILE")],
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
    """
    from .. import __version__
    from ..calibrate import calibration as C
    from ..units import parse

    clock = C.Clock(utc_offset)
    step = parse(interval, "time", key="--interval") if interval is not None else None
    if step is not None and not step > 0:
        raise _input_error("--interval: expected a time > 0")
    logs = [C.read_power_log(p, clock, fmt=log_format.value, interval=step) for p in power_log]
    devices = C.merge_devices(logs)
    warnings = [w for log in logs for w in log.warnings]
    b = C.read_bench(bench, clock) if bench is not None else None
    n_tokens = _tokens(tokens, b, token_basis.value)
    window = C.resolve_window(devices, clock, start=start, end=end, bench=b, warnings=warnings)
    idle_win = _idle_window(idle_window, devices, clock) if idle_window else None
    idle_w = parse(idle_power, "power", key="--idle-power") if idle_power is not None else None
    ref = _reference(c_tok, workload, hardware, precision, sm_active_reference, profiles, warnings)
    inputs = [{"path": log.path, "format": log.format, "sha256": log.sha256} for log in logs]
    if b is not None:
        inputs.append({"path": b.path, "format": "vllm-bench", "sha256": b.sha256})
    result = C.calibrate(devices, window, n_tokens, token_basis.value, clock=clock, ref=ref, idle_power=idle_w,
                         idle_window=idle_win, inputs=inputs, warnings=warnings, bench=b,
                         prefer_counter=not no_counter, tool_version=__version__)
    given = [("--power-log", p) for p in power_log] + [
        ("--bench", bench), ("--tokens", tokens), ("--token-basis", token_basis.value), ("--start", start),
        ("--end", end), ("--idle-power", idle_power), ("--idle-window", idle_window), ("--interval", interval),
        ("--utc-offset", utc_offset), ("--c-tok", c_tok), ("--workload", workload), ("--hardware", hardware),
        ("--precision", precision)]
    command = "tokencalc calibrate " + " ".join(f"{k} {shlex.quote(str(v))}" for k, v in given if v is not None)
    if no_counter:
        command += " --no-counter"
    _finish(result, fmt, write_profile, force, name or _default_name(b), command)


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
    from .. import __version__
    from ..calibrate import calibration as C
    from ..calibrate import nvml as M
    from ..units import parse

    step = parse(interval, "time", key="--interval")
    idle_w = parse(idle_power, "power", key="--idle-power") if idle_power is not None else None
    for p in (save_log, write_profile):
        if p is not None and p.exists() and not force:
            from ..errors import OutputExistsError

            raise OutputExistsError(f"'{p}' already exists; use --force to overwrite it")
    if not command:
        raise _input_error("measure: no command given; usage: tokencalc measure [OPTIONS] -- CMD [ARGS...]")
    warnings: list[str] = []
    ref = _reference(c_tok, workload, hardware, precision, sm_active_reference, profiles, warnings)
    nvml = M.load_nvml()
    try:
        devices, first, last, code, more = M.run_command(command, nvml, interval=step, indices=gpu)
    finally:
        M._shutdown(nvml)
    warnings += more
    if code != 0:
        raise _input_error(f"measure: {shlex.join(command)!r} exited with status {code}; no figures reported")
    clock = C.Clock("+00:00")
    clock.note("absolute")
    if save_log is not None:
        C.write_profile(save_log, M.to_csv(devices), force=force)
    b = C.read_bench(bench, clock) if bench is not None else None
    n_tokens = _tokens(tokens, b, token_basis.value)
    window = C.Window(first, last, "measure")
    if not window.duration > 0:
        raise _input_error("measure: the command finished before two samples were taken; lower --interval")
    inputs = [{"path": "nvml", "format": "nvml", "sha256": None}]
    if b is not None:
        inputs.append({"path": b.path, "format": "vllm-bench", "sha256": b.sha256})
    result = C.calibrate(devices, window, n_tokens, token_basis.value, clock=clock, ref=ref, idle_power=idle_w,
                         inputs=inputs, warnings=warnings, bench=b, tool_version=__version__)
    result["command"] = list(command)
    _finish(result, fmt, write_profile, force, name or _default_name(b),
            "tokencalc measure -- " + shlex.join(command))


# ---------------------------------------------------------------------------
# helpers


def _input_error(msg: str) -> Exception:
    from ..errors import InputError

    return InputError(msg)


def _default_name(bench: Any) -> str:
    if bench is not None and bench.model_id:
        return f"{bench.model_id} (measured)"
    return "measured workload"


def _tokens(text: Optional[str], bench: Any, basis: str) -> Optional[int]:
    """--tokens N or the bench file's count on `basis` (not both)."""
    if text is not None and bench is not None:
        raise _input_error("give either --tokens or --bench, not both")
    if bench is not None:
        return bench.tokens(basis)
    if text is None:
        return None
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise _input_error(f"--tokens: expected a whole number of tokens, got {text!r}") from None
    if not value >= 0 or not value.is_integer():
        raise _input_error(f"--tokens: expected a whole number of tokens >= 0, got {text!r}")
    return int(value)


def _idle_window(text: str, devices: dict, clock: Any) -> Any:
    """Parse START:END / START..END (ISO times or offsets) into a Window."""
    from ..calibrate import calibration as C
    from ..errors import TokencalcError

    candidates = [text.split("..", 1)] if ".." in text else [[text[:i], text[i + 1:]] for i, ch in enumerate(text) if ch == ":"]
    for a_text, b_text in candidates:
        if not a_text.strip() or not b_text.strip():
            continue
        try:
            win = C.resolve_window(devices, clock, start=a_text, end=b_text)
        except TokencalcError:
            continue
        return C.Window(win.start, win.end, "idle")
    raise _input_error(f"--idle-window: expected START:END or START..END (ISO times or offsets such as '0 s..20 s') "
                       f"inside the logs, got {text!r}")


def _reference(c_tok: Optional[str], workload: Optional[str], hardware: Optional[str], precision: Optional[str],
               sm_ref: float, dirs: Optional[List[Path]], warnings: list) -> Any:
    """c_tok, peak and TDP from flags and profiles."""
    from ..calibrate import calibration as C
    from ..resolve import profiles as P
    from ..units import parse

    if not sm_ref > 0:
        raise _input_error("--sm-active-reference: expected a value in (0, 1]")
    c, c_src, wl_id = None, None, None
    if workload is not None:
        wl = P.load(workload, "workload", P.search_dirs(dirs or []))
        wl_id = wl.id
        c = C.c_tok_from_workload(wl)
        c_src = f"workload {wl.id}: " + ("model.c_tok" if wl.get("model.c_tok") is not None
                                         else "2 N_active + 2 n_layers n_ctx d_attn")
        precision = precision or wl.get("operating_point.precision")
        if c is None:
            warnings.append(f"workload {wl.id} gives no c_tok (model.c_tok or model.active_params)")
    if c_tok is not None:
        c, c_src = parse(c_tok, "compute_intensity", key="--c-tok"), f"given: --c-tok {c_tok!r}"
        if not c > 0:
            raise _input_error("--c-tok: expected a value > 0")
    peak = tdp = None
    hw_id = None
    if hardware is not None:
        hw = P.load(hardware, "hardware", P.search_dirs(dirs or []))
        hw_id, tdp = hw.id, hw.get("tdp")
        table = hw.table("peak_flops")
        if precision is None:
            warnings.append(f"no --precision: peak_flops of {hw.id} not chosen; eta_k and eta_e need it "
                            f"(known: {', '.join(sorted(table)) or 'none'})")
        elif precision not in table:
            raise _input_error(f"--precision: hardware {hw.id} has no peak_flops.{precision}; "
                               f"known: {', '.join(sorted(table)) or 'none'}")
        else:
            peak = table[precision]
    return C.Reference(c_tok=c, c_tok_source=c_src, peak_flops=peak, tdp=tdp, precision=precision,
                       hardware=hw_id, workload=wl_id, sm_active_reference=sm_ref)


def _finish(result: dict, fmt: Format, write_profile: Optional[Path], force: bool, name: str, command: str) -> None:
    """Write the profile (if asked), print the result, list warnings on stderr."""
    from ..calibrate import calibration as C

    if write_profile is not None:
        text = C.profile_fragment(result, name=name, command=command)
        C.write_profile(write_profile, text, force=force)
        result["profile_written"] = str(write_profile)
    if fmt is Format.json:
        import json

        sys.stdout.write(json.dumps(result, sort_keys=True, indent=2) + "\n")
    else:
        _table(result)
    for w in result["warnings"]:
        sys.stderr.write(f"tokencalc: warning: {w}\n")
    if write_profile is not None:
        sys.stderr.write(f"tokencalc: wrote {write_profile}\n")


def _num(x: Any, digits: int = 4) -> str:
    if x is None:
        return "—"
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:.{digits}g}"


def _table(r: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=sys.stdout, soft_wrap=False)
    t = Table(title="Calibration (accelerator boundary)", title_justify="left")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    t.add_column("unit")
    w = r["window"]
    rows = [
        ("window", f"{w['start']} → {w['end']}", f"({w['source']})"),
        ("duration", _num(r["duration_s"]), "s"),
        ("devices", _num(r["devices"]), ""),
        ("energy", _num(r["energy_j"]), f"J ({r['energy_method']})"),
        ("mean power (all devices)", _num(r["mean_power_w"]), "W"),
        ("tokens", _num(r["tokens"]), r["token_basis"]),
        ("e_tok", _num(r["e_tok_j_per_token"]), "J/token"),
        ("throughput", _num(r["throughput_tokens_per_s"]), "token/s"),
        ("throughput per device", _num(r["throughput_per_device_tokens_per_s"]), "token/s"),
        ("c_tok", _num(r["c_tok_flop_per_token"]), "FLOP/token"),
        ("K_eff (realized)", _num(r["k_eff_flop_per_s"]), "FLOP/s"),
        ("K_peak", _num(r["k_peak_flop_per_s"]), "FLOP/s"),
        ("η_K = K_eff / K_peak", _num(r["eta_k"]), ""),
        ("e_ref = c_tok·TDP/peak", _num(r["e_ref_j_per_token"]), "J/token"),
        ("η_E = e_ref / e_tok", _num(r["eta_e"]), ""),
        ("U (mean SM active / ref)", _num(r["utilization"]), ""),
    ]
    if r.get("gpu_utilization_mean") is not None:
        rows.append(("nvidia-smi utilization.gpu", _num(r["gpu_utilization_mean"]), "(not U)"))
    if r["idle_method"] is not None:
        rows += [
            (f"idle power ({r['idle_method']})", _num(r["idle_power_w"]), "W"),
            ("idle energy", _num(r["energy_idle_j"]), "J"),
            ("net energy", _num(r["energy_net_j"]), "J"),
            ("e_tok net of idle", _num(r["e_tok_net_j_per_token"]), "J/token"),
        ]
    rows.append(("warnings", _num(r["warning_count"]), "(on stderr)"))
    for row in rows:
        t.add_row(*row)
    console.print(t)
    d = Table(title="Devices", title_justify="left")
    for col in ("device", "method", "samples", "energy [J]", "mean power [W]", "SM active"):
        d.add_column(col, justify="left" if col in ("device", "method") else "right")
    for dev in r["device_details"]:
        d.add_row(dev["id"], dev["method"], _num(dev["samples"]), _num(dev["energy_j"]),
                  _num(dev["mean_power_w"]), _num(dev["sm_active_mean"], 3))
    console.print(d)
