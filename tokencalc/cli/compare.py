"""`tokencalc compare`, `sweep` and `solve`: one-call tools for scripts.

Thin adapters: options and output here, the work in `tokencalc.compare`,
`tokencalc.sweep` and `tokencalc.solve` (imported inside the commands, so numpy
never loads on the path of other commands).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import sys
import time
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, List, Optional

import typer
from typing_extensions import Annotated

from .options import PANEL_PROFILES, SHARED, request_from, scenario_argument, scenario_options
from .estimate import FAIL_CODE, FailIf, check_fail_if


class CompareFormat(str, Enum):
    """Output formats of `compare`."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    latex = "latex"


class SweepFormat(str, Enum):
    """Output formats of `sweep` (csv, jsonl and json are streamed)."""

    table = "table"
    csv = "csv"
    jsonl = "jsonl"
    json = "json"


class SolveFormat(str, Enum):
    """Output formats of `solve`."""

    table = "table"
    json = "json"


class Relative(str, Enum):
    """Reference row of the relative column."""

    first = "first"
    best = "best"


OutputOpt = Annotated[Optional[Path], typer.Option("--output", "-o", help="write to FILE (atomically: a temporary file, then a rename) instead of stdout")]
ForceOpt = Annotated[bool, typer.Option("--force", help="replace an existing --output file")]
FailOpt = Annotated[Optional[FailIf], typer.Option("--fail-if", help="exit with code 3 when this regime holds (compare: in any row; sweep: at any point; solve: now)")]


# ---------------------------------------------------------------------------
# Output plumbing


@contextlib.contextmanager
def open_output(path: Optional[Path], force: bool) -> Iterator[BinaryIO]:
    """A binary stream to `path` (atomic, no clobber without `force`; see fileio) or to stdout.

    Raises:
        OutputExistsError: the file exists and `force` is False.
    """
    if path is None:
        sys.stdout.flush()
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    from ..fileio import atomic_output

    with atomic_output(path, force=force) as fh:
        yield fh


def _write_text(text: str, output: Optional[Path], force: bool) -> None:
    with open_output(output, force) as fh:
        fh.write(text.encode())


def _pipe_safe(func: Callable[..., Any]) -> Callable[..., Any]:
    """Stop quietly when the reader of stdout goes away (`tokencalc sweep ... | head`)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kw: Any) -> Any:
        try:
            return func(*args, **kw)
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(0) from None

    return wrapper


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _stdout_console():
    from rich.console import Console

    # Piped output keeps whole rows instead of wrapping cells at 80 columns.
    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


# ---------------------------------------------------------------------------
# compare: its own list options instead of the shared single-profile ones

LIST_HELP = {
    "hardware": "hardware profiles to compare, comma-separated (or 'all'), e.g. h100-sxm,h200-sxm,b200",
    "facility": "facility profiles to compare, comma-separated (or 'all')",
    "workload": "workload profiles to compare, comma-separated (or 'all')",
    "lever": "lever sets to compare, comma-separated; join levers with '+', 'none' for no lever",
}
_LIST_PARAMS = [
    inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=None,
                      annotation=Annotated[Optional[str], typer.Option(f"--{k}", help=h, rich_help_panel=PANEL_PROFILES,
                                                                       show_default=False)])
    for k, h in LIST_HELP.items()
]


def _compare_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Like `scenario_options`, with comma lists for --hardware/--facility/--workload/--lever."""
    sig = inspect.signature(func, eval_str=True)
    own = [p for p in sig.parameters.values() if p.name not in ("request", "lists")]
    shared = [p for p in SHARED if p.name not in LIST_HELP]

    @functools.wraps(func)
    def wrapper(**kw: Any) -> Any:
        lists = {k: kw.pop(k, None) for k in LIST_HELP}
        req = request_from(None, kw)
        return func(request=req, lists=lists, **kw)

    wrapper.__signature__ = sig.replace(parameters=own + _LIST_PARAMS + shared)  # type: ignore[attr-defined]
    return wrapper


def _render_compare(rows: list, mode: str) -> None:
    from rich import box
    from rich.table import Table

    from ..analysis import compare as C

    t = Table(box=box.SIMPLE_HEAVY, header_style="bold", title="tokencalc compare", title_justify="left")
    t.add_column("Row")
    for head, key, _ in C.COLUMNS:
        t.add_column(head, justify="left" if key.startswith("binding") else "right")
    t.add_column(C.relative_header(mode), justify="right")
    mc = any(r.mc is not None for r in rows)
    for head in C.MC_HEADERS if mc else ():
        t.add_column(head, justify="right")
    styles = {"power": "yellow", "compute": "cyan", "balanced": "green"}
    for r in rows:
        cells = C.human_cells(r)
        b = r.values()["binding"]
        cells[3] = f"[{styles.get(b or '', 'red')}]{cells[3]}[/]"
        t.add_row(r.label, *cells, C.relative_text(r.relative), *(C.mc_cells(r) if mc else []))
    con = _stdout_console()
    con.print(t)
    disagree = [r.label for r in rows if r.values().get("conventions_disagree")]
    if disagree:
        con.print(f"[dim]Binding differs between the realized and the peak K_eff convention for: "
                  f"{', '.join(disagree)} (the realized one is the one to report).[/]")


# ---------------------------------------------------------------------------
# sweep / solve helpers


def _resolve_with(request, values: dict[str, float], replace_partners: bool = False):
    """Resolve the scenario as if each key in `values` had been given as a flag.

    With `replace_partners`, flags that answer the same question as a key (and the
    key's own flag) give way to it: `solve --for p_it --p-facility 2MW` solves for P_IT.
    """
    from ..resolve.scenario import EXCLUSIVE, resolve
    from ..analysis.sweep import flag_text

    flags = dict(request.flags)
    if replace_partners:
        for k in values:
            for other in next((g for g in EXCLUSIVE if k in g), (k,)):
                flags.pop(other, None)
    flags.update({k: flag_text(k, v) for k, v in values.items()})
    return resolve(replace(request, flags=flags))


def _sweep_table(plan, cols: dict, summary) -> None:
    from rich import box
    from rich.table import Table

    from ..render import humanize as H
    from ..analysis.sweep import LABELS

    t = Table(box=box.SIMPLE_HEAVY, header_style="bold")
    for a in plan.axes:
        t.add_column(a.key, justify="right")
    heads = [("Compute ceiling", "compute_ceiling_tokens_per_s", lambda x: H.si(x, "token/s")),
             ("Power ceiling", "power_ceiling_tokens_per_s", lambda x: H.si(x, "token/s")),
             ("Rate", "token_rate_tokens_per_s", lambda x: H.si(x, "token/s")),
             ("Binding", "binding", None), ("Binding (peak)", "binding_peak", None),
             ("γ", "gamma_j_per_flop", lambda x: H.si(x, "J/FLOP")),
             ("γ*", "gamma_star_j_per_flop", lambda x: H.si(x, "J/FLOP")),
             ("Tokens", "tokens_total", H.count), ("Facility energy", "energy_facility_j", H.energy)]
    for h, key, _ in heads:
        t.add_column(h, justify="left" if key.startswith("binding") else "right")
    for i in range(plan.size):
        cells = []
        for a in plan.axes:
            x = float(cols[a.column][i])
            cells.append(H.sig(x, 4) if a.unit == "1" else H.si(x, a.unit, 4))
        for _, key, fmt in heads:
            v = cols[key]
            if v is None:
                cells.append("—")
            elif fmt is None:
                cells.append(LABELS[int(v[i])])
            else:
                cells.append(fmt(float(v[i])))
        t.add_row(*cells)
    _stdout_console().print(t)


class _Progress:
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
                                console=_stderr_console(), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("sweep", total=self.total)
        self.bar.update(self.task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _nominal(key: str) -> float:
    """A reference value for a key the scenario does not set (its schema example)."""
    from ..resolve import schema as S
    from ..units import parse

    f = S.CORE[key]
    if f.type == "int":
        return 1000.0
    return parse(f.example, f.dim, key=key)


def _current(key: str, inputs, values: dict, flags: dict) -> Optional[float]:
    """The scenario's value of `key` as the flag of that name would state it (None if not set)."""
    if key == "p_it":
        return values["p_it_w"]
    if key == "p_facility":
        return values["p_facility_w"]
    if key == "c_tok":
        return values["c_tok_base_flop_per_token"]
    if key == "k_eff":
        return values["k_eff_flop_per_s"]
    if key == "e_tok":
        if "e_tok_boundary" in flags:
            same = values["e_tok_input_boundary"] == flags["e_tok_boundary"]
            return values["e_tok_at_boundary_j_per_token"] if same else None
        e = values["e_tok_j_per_token"]
        return None if e is None else e * values["phi_e"]   # IT boundary, before levers
    if key == "device_power" and inputs.e_tok_boundary != flags.get("e_tok_boundary", "it"):
        return None
    v = getattr(inputs, key)
    return None if v is None else float(v)


def _solve_table(sol, scenario: Optional[str]) -> None:
    from rich.text import Text

    from ..render import humanize as H
    from ..analysis.solve import message

    con = _stdout_console()
    fmt = (lambda x: H.sig(x, 4)) if sol.unit == "1" else (lambda x: H.si(x, sol.unit, 4))
    con.print(Text(f"{scenario or 'scenario'}: solve for {sol.key} (γ = γ*)", style="bold"))
    style = "bold" if sol.exists else "bold yellow"
    con.print(Text(message(sol), style=style))
    now = "not set" if sol.current is None else fmt(sol.current)
    con.print(f"  now:       {sol.key} = {now} -> {sol.binding_now or 'unknown'}-bound (realized K_eff convention)")
    if sol.exists:
        con.print(f"  crossover: {sol.key} = {fmt(sol.value)}  ({sol.value!r}{'' if sol.unit == '1' else ' ' + sol.unit} in SI)")
        con.print(f"  method:    {sol.method}: {sol.formula}")
        c = sol.check
        con.print(f"  check:     both ceilings {H.si(c['compute_ceiling_tokens_per_s'], 'token/s', 6)} at the solution "
                  f"(relative gap {c['relative_gap']:.1e})")
        if sol.other_roots:
            con.print("  also:      " + ", ".join(fmt(x) for x in sol.other_roots))
        if sol.current is None:
            con.print(f"  [dim]The scenario does not set {sol.key}; the answer is for the model in which it is given "
                      f"(as --{sol.key.replace('_', '-')} would).[/]")


# ---------------------------------------------------------------------------


def register(app: typer.Typer) -> None:
    """Add `compare`, `sweep` and `solve` to the app."""

    @app.command()
    @_pipe_safe
    @_compare_options
    def compare(
        scenarios: Annotated[Optional[List[str]], typer.Argument(help="scenario ids or paths (default: the bundled default scenario)", show_default=False)] = None,
        format: Annotated[CompareFormat, typer.Option("--format", "-f", help="output format")] = CompareFormat.table,
        relative: Annotated[Relative, typer.Option("--relative", help="relative rate against the first row or the best")] = Relative.first,
        sort: Annotated[Optional[str], typer.Option("--sort", help="order rows best first by: rate, compute, power, j_per_token, tokens, energy, cost, relative, label, binding (or any estimate JSON key)", show_default=False)] = None,
        reverse: Annotated[bool, typer.Option("--reverse", help="reverse the --sort order")] = False,
        skip_errors: Annotated[bool, typer.Option("--skip-errors", help="leave out rows that cannot be resolved (e.g. hardware without the workload's precision) and list them on stderr")] = False,
        output: OutputOpt = None,
        force: ForceOpt = False,
        fail_if: FailOpt = None,
        mc: Annotated[Optional[int], typer.Option("--mc", metavar="N", help="Monte Carlo over each row's ranged inputs: N samples (P(power-bound), rate P5-P95)")] = None,
        seed: Annotated[int, typer.Option("--seed", metavar="S", help="seed of --mc; the same seed gives identical output")] = 0,
        request=None,
        lists=None,
    ) -> None:
        """Several operating points side by side: both ceilings, rate, binding (realized and peak),
        J/token, tokens and energy over the horizon, and the rate relative to the first or best row.

        Rows are the SCENARIOs given, or one scenario with comma lists (the full product):

          tokencalc compare --hardware h100-sxm,h200-sxm,b200

          tokencalc compare --hardware all --skip-errors --sort rate -f csv

          tokencalc compare a.toml b.toml --facility industry-average,hyperscale-leader
        """
        from ..analysis import compare as C

        dirs = request.profile_dirs
        kinds = {"hardware": "hardware", "facility": "facility", "workload": "workload", "lever": "lever"}
        parsed = {k: C.expand_all(C.split_list(v, k), kinds[k], dirs) for k, v in lists.items()}
        skipped: Optional[list] = [] if skip_errors else None
        rows = C.build_rows(request, C.variants(list(scenarios or []), parsed), skipped)
        for msg in skipped or []:
            sys.stderr.write(f"tokencalc: skipped {msg}\n")
        if not rows:
            from ..errors import InputError

            raise InputError("no row could be resolved")
        C.relative(rows, relative.value)
        if mc is not None:
            C.add_monte_carlo(rows, mc, seed)
        if sort:
            rows = C.sort_rows(rows, sort, reverse)
        if format is CompareFormat.table:
            if output is not None:
                from ..errors import InputError

                raise InputError("-o needs a file format: --format json, csv, markdown or latex")
            _render_compare(rows, relative.value)
        else:
            _write_text(C.FORMATTERS[format.value](rows, relative.value), output, force)
        if fail_if is not None:
            hit = [r.label for r in rows if r.values()["binding"] == fail_if.value.split("-")[0]]
            if hit:
                sys.stderr.write(f"tokencalc: {fail_if.value} (--fail-if): {', '.join(hit)}\n")
                raise typer.Exit(FAIL_CODE)

    @app.command()
    @_pipe_safe
    @scenario_options
    def sweep(
        scenario: Annotated[Optional[str], scenario_argument()] = None,
        vary: Annotated[Optional[List[str]], typer.Option("--vary", help="KEY=START:STOP:N (linear), KEY=log:START:STOP:N (geometric) or KEY=a,b,c; values with units; repeat for a grid", show_default=False)] = None,
        format: Annotated[SweepFormat, typer.Option("--format", "-f", help="output format (csv, jsonl, json stream)")] = SweepFormat.table,
        output: OutputOpt = None,
        force: ForceOpt = False,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no closing summary on stderr")] = False,
        fail_if: FailOpt = None,
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

        axes = [W.parse_vary(v) for v in (vary or [])]
        if not axes:
            raise InputError("sweep needs at least one --vary KEY=SPEC, e.g. --vary pue=1.1:1.6:6 "
                             f"(keys: {', '.join(W.SWEEPABLE)})")
        W.conflicts([a.key for a in axes], request.flags)
        resolved = _resolve_with(request, {a.key: float(a.values[0]) for a in axes})
        plan = W.make_plan(resolved.inputs, axes)
        scen = resolved.inputs.scenario
        if format is SweepFormat.table:
            if plan.size > W.MAX_TABLE:
                raise InputError(f"{plan.size:,} points is too many for a table (limit {W.MAX_TABLE}); "
                                 "use --format csv or --format jsonl (streamed), e.g. -f csv -o sweep.csv")
            if output is not None:
                raise InputError("-o needs a file format: --format csv, jsonl or json")
            cols, summary = W.evaluate_all(plan)
            _sweep_table(plan, cols, summary)
        else:
            W.tune_allocator()
            progress = _Progress(plan.size)
            try:
                with open_output(output, force) as fh:
                    summary = W.write(fh, plan, format.value, progress=progress, scenario=scen)
            finally:
                progress.close()
        if not quiet:
            sys.stderr.write("\n".join(summary.lines()) + "\n")
        if fail_if is not None:
            counts = summary.to_json()
            n = counts["power_bound"] if fail_if is FailIf.power_bound else counts["compute_bound"]
            if n:
                sys.stderr.write(f"tokencalc: {fail_if.value} at {n:,} of {plan.size:,} points (--fail-if)\n")
                raise typer.Exit(FAIL_CODE)

    @app.command()
    @scenario_options
    def solve(
        scenario: Annotated[Optional[str], scenario_argument()] = None,
        for_: Annotated[Optional[str], typer.Option("--for", help="the input to solve for: p_it, p_facility, pue, devices, e_tok, c_tok, k_eff, throughput_per_device, kernel_efficiency, availability, peak_flops, device_power, cooling_capacity, it_overhead", show_default=False)] = None,
        format: Annotated[SolveFormat, typer.Option("--format", "-f", help="output format")] = SolveFormat.table,
        fail_if: FailOpt = None,
        request=None,
    ) -> None:
        """The value of one input at which the regime flips (γ = γ*, both ceilings equal).

        Closed form where the ratio of the ceilings is a power law in the input (P_IT,
        P_facility, PUE, devices, e_tok, ...), bracketed root finding otherwise; the
        answer is checked by re-running the engine. Says so when no crossover exists.
        A flag for the same input (or one answering the same question, like --p-facility
        for --for p_it) states the current value.

          tokencalc solve --for devices

          tokencalc solve --for p_facility -f json

          tokencalc solve --for kernel_efficiency --hardware h200-sxm
        """
        import json

        from ..analysis import solve as V
        from ..errors import InputError
        from ..core.model import estimate as run
        from ..resolve.scenario import resolve
        if not for_:
            raise InputError(f"solve needs --for KEY (one of {', '.join(V.SOLVABLE)})")
        key = V.check_key(for_)
        base = resolve(request)
        now = run(base.inputs)
        current = _current(key, base.inputs, now.values, request.flags)
        x0 = current if current else _nominal(key)
        inputs = _resolve_with(request, {key: x0}, replace_partners=True).inputs
        sol = V.solve(inputs, key, current=current, binding_now=now.values["binding"])
        if format is SolveFormat.json:
            sys.stdout.write(json.dumps(sol.to_json(base.inputs.scenario), indent=2, ensure_ascii=False,
                                        allow_nan=False) + "\n")
        else:
            _solve_table(sol, base.inputs.scenario)
        check_fail_if(fail_if, now.values["binding"])
