"""`tokencalc sweep`: a grid over one or more core inputs, evaluated vectorized and streamed."""

from __future__ import annotations

import sys
import time
from enum import Enum
from typing import List, Optional

import typer
from typing_extensions import Annotated

from .estimate import FAIL_CODE, FailIf
from .options import scenario_argument, scenario_options
from .output import ForceOpt, OutputOpt, pipe_safe, stderr_console


class SweepFormat(str, Enum):
    """Output formats of `sweep` (csv, jsonl and json are streamed)."""

    table = "table"
    csv = "csv"
    jsonl = "jsonl"
    json = "json"


class Progress:
    """A progress bar on stderr for sweeps that take more than about a second; silent off a terminal."""

    def __init__(self, total: int) -> None:
        self.total, self.t0, self.bar, self.task = total, time.perf_counter(), None, None
        self.enabled = sys.stderr.isatty()

    def __call__(self, done: int) -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.t0
        if self.bar is None:
            if elapsed < 0.25 or elapsed / max(done, 1) * self.total < 1.0:
                return
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("sweep"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
                                console=stderr_console(), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("sweep", total=self.total)
        self.bar.update(self.task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def tune_allocator() -> None:
    """Keep freed chunk-sized arrays in the heap instead of returning them to the OS.

    glibc serves allocations above 128 kB with fresh mmap pages and trims the heap
    eagerly, so every chunk's temporaries page-fault again (measured: ~3x slower).
    Raising both thresholds keeps them reused. Process-wide, so the CLI calls it, not
    the library; a no-op where glibc is absent.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, 512 << 20)   # M_TRIM_THRESHOLD
        libc.mallopt(-3, 64 << 20)    # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


def register(app: typer.Typer) -> None:
    """Add `sweep` to the app."""

    @app.command()
    @pipe_safe
    @scenario_options
    def sweep(
        scenario: Annotated[Optional[str], scenario_argument()] = None,
        vary: Annotated[Optional[List[str]], typer.Option("--vary", help="KEY=START:STOP:N (linear), KEY=log:START:STOP:N (geometric) or KEY=a,b,c; values with units; repeat for a grid", show_default=False)] = None,
        format: Annotated[SweepFormat, typer.Option("--format", "-f", help="output format (csv, jsonl, json stream)")] = SweepFormat.table,
        output: OutputOpt = None,
        force: ForceOpt = False,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no closing summary on stderr")] = False,
        fail_if: Annotated[Optional[FailIf], typer.Option("--fail-if", help="exit with code 3 when this regime holds at any point")] = None,
        request=None,
    ) -> None:
        """A grid over one or more core inputs, evaluated vectorized and streamed.

        Columns: the varied keys (SI, unit in the name), both ceilings, the rate, the
        binding constraint (realized and peak), γ, γ*, tokens and facility energy over
        the horizon. A summary (share power-bound, where the boundary runs) goes to stderr.

          tokencalc sweep --vary pue=1.1:1.6:6

          tokencalc sweep --vary "p_it=100 kW:10 MW:1000000" -f csv -o sweep.csv

          tokencalc sweep --vary "p_facility=log:100 kW:100 MW:50" --vary devices=256,512,1024,2048 -f jsonl
        """
        from ..analysis import sweep as W
        from ..errors import InputError
        from ..render import stream
        from ..render.sweep import summary_lines, table
        from .output import open_output, stdout_console

        plan = W.plan_request(request, vary or [])
        if format is SweepFormat.table:
            if plan.size > W.MAX_TABLE:
                raise InputError(f"{plan.size:,} points is too many for a table (limit {W.MAX_TABLE}); "
                                 "use --format csv or --format jsonl (streamed), e.g. -f csv -o sweep.csv")
            if output is not None:
                raise InputError("-o needs a file format: --format csv, jsonl or json")
            cols, summary = W.evaluate_all(plan)
            stdout_console().print(table(plan, cols))
        else:
            tune_allocator()
            progress = Progress(plan.size)
            try:
                with open_output(output, force) as fh:
                    summary = stream.write(fh, plan, format.value, progress=progress, scenario=plan.inputs.scenario)
            finally:
                progress.close()
        if not quiet:
            sys.stderr.write("\n".join(summary_lines(summary)) + "\n")
        if fail_if is not None:
            counts = summary.to_json()
            n = counts["power_bound"] if fail_if is FailIf.power_bound else counts["compute_bound"]
            if n:
                sys.stderr.write(f"tokencalc: {fail_if.value} at {n:,} of {plan.size:,} points (--fail-if)\n")
                raise typer.Exit(FAIL_CODE)
