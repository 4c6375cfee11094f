"""A fuzz campaign: draw N cases with hypothesis (deterministic for a seed), run them on a pool, count.

Generation and execution are separate: hypothesis draws every case first (no shrinking,
no example database), then a thread pool runs the subprocesses (the work is in the
children, so threads suffice). Failures are saved with their files and a `repro.sh`.
"""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

from . import commands, oracle, runner
from .case import Case


def independent_draws() -> contextlib.AbstractContextManager:
    """Turn off hypothesis' mutation of earlier examples while drawing cases.

    During generation hypothesis re-runs each example up to five times with one part
    copied over another (good for finding bugs in the test body, which here only
    collects): the cases would come in near-identical runs. Each case is then an
    independent draw. An internal hook of hypothesis: without it, nothing is patched.
    """
    try:
        from hypothesis.internal.conjecture.engine import ConjectureRunner
    except ImportError:  # pragma: no cover - another hypothesis layout
        return contextlib.nullcontext()
    if not hasattr(ConjectureRunner, "generate_mutations_from"):
        return contextlib.nullcontext()
    from unittest import mock

    return mock.patch.object(ConjectureRunner, "generate_mutations_from", lambda self, data: None)


def generate(n: int, seed: int | None = None) -> list[Case]:
    """`n` cases; the same `seed` (None: hypothesis' derandomized stream) gives the same cases."""
    cases: list[Case] = []

    @settings(max_examples=n, database=None, derandomize=seed is None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(commands.case())
    def collect(c: Case) -> None:
        cases.append(c)

    if seed is not None:
        collect = hypothesis_seed(seed)(collect)
    with independent_draws():
        collect()
    return cases[:n]


def generate_parallel(n: int, seed: int, jobs: int) -> list[Case]:
    """`n` cases drawn by `jobs` processes (chunk i with seed `seed * 1000 + i`): deterministic for a seed."""
    sizes = [n // jobs + (1 if i < n % jobs else 0) for i in range(jobs)]
    if jobs <= 1:
        return generate(n, seed * 1000)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        parts = pool.map(generate, sizes, [seed * 1000 + i for i in range(jobs)])
        return [c for part in parts for c in part]


@dataclass
class Tally:
    """Counts of a campaign and its failures."""

    cases: int = 0
    by_command: collections.Counter = field(default_factory=collections.Counter)
    by_exit: collections.Counter = field(default_factory=collections.Counter)
    by_check: collections.Counter = field(default_factory=collections.Counter)
    excluded: collections.Counter = field(default_factory=collections.Counter)
    checked: collections.Counter = field(default_factory=collections.Counter)
    failures: list[tuple[runner.Outcome, list[tuple[str, str]]]] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, o: runner.Outcome, failed: list[tuple[str, str]], excluded: list[str]) -> None:
        self.cases += 1
        self.by_command[o.case.command] += 1
        self.by_exit["timeout" if o.timed_out else str(o.code)] += 1
        self.excluded.update(excluded)
        self.checked.update(o.stats)
        if failed:
            self.by_check.update({c for c, _ in failed})
            self.failures.append((o, failed))

    def lines(self) -> list[str]:
        """The counts, as printed by `make fuzz`."""
        out = [f"fuzz: {self.cases} cases run in {self.seconds:.0f} s",
               "by command: " + ", ".join(f"{k} {v}" for k, v in sorted(self.by_command.items())),
               "by exit code: " + ", ".join(f"{k}: {v}" for k, v in sorted(self.by_exit.items())),
               f"failures: {len(self.failures)}" + (" (" + ", ".join(f"{k} {v}" for k, v in
                                                                   sorted(self.by_check.items())) + ")"
                                                    if self.failures else "")]
        if self.checked:
            out.append("checked: " + ", ".join(f"{k} {v}" for k, v in sorted(self.checked.items())))
        if self.excluded:
            out.append("excluded (listed exclusions): " + ", ".join(f"{k} {v}" for k, v in sorted(self.excluded.items())))
        return out


def run_all(cases: list[Case], jobs: int = 2, progress: bool = False, executor: str | None = None) -> Tally:
    """Run the cases on `jobs` workers in a fresh session folder; returns the tally."""
    tally = Tally()
    root = Path(tempfile.mkdtemp(prefix="tokencalc-fuzz-"))
    (root / "cache").mkdir()
    t0 = time.perf_counter()

    def one(item: tuple[int, Case]) -> tuple[runner.Outcome, list, list]:
        o = runner.run(item[1], root, item[0], executor=executor)
        failed, excluded = oracle.judge(o)
        return o, failed, excluded

    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for i, (o, failed, excluded) in enumerate(pool.map(one, enumerate(cases)), 1):
                tally.add(o, failed, excluded)
                if progress and i % 500 == 0:
                    sys.stderr.write(f"fuzz: {i}/{len(cases)} cases, {len(tally.failures)} failing, "
                                     f"{time.perf_counter() - t0:.0f} s\n")
    finally:
        runner.close_zygotes()
        shutil.rmtree(root, ignore_errors=True)
    tally.seconds = time.perf_counter() - t0
    return tally


def describe(o: runner.Outcome, failed: list[tuple[str, str]]) -> str:
    """One failure for a human: the checks, the command line and files, the exit code, stderr."""
    head = "; ".join(f"[{c}] {m[:300]}" for c, m in failed)
    return (f"{head}\n  exit {o.code}, {o.elapsed:.1f} s\n  " + o.case.describe().replace("\n", "\n  ")
            + "\n  stderr: " + o.stderr[-800:].replace("\n", "\n  "))


def save(failures: list[tuple[runner.Outcome, list[tuple[str, str]]]], folder: Path) -> None:
    """Each failure's files, the command line (repro.sh) and what went wrong, one folder each."""
    for i, (o, failed) in enumerate(failures):
        d = folder / f"failure-{i:04d}"
        runner.prepare(o.case, d)
        program = " ".join(runner.command())
        (d / "repro.sh").write_text("#!/bin/sh\ncd \"$(dirname \"$0\")/work\" && " + o.case.shell(program) + " \"$@\"\n")
        (d / "failure.txt").write_text(describe(o, failed) + "\n", encoding="utf-8")


def main() -> int:
    """`make fuzz`: FUZZ_CASES (10000), FUZZ_SEED (1), FUZZ_JOBS (cores), FUZZ_EXECUTOR (fork | exec),
    FUZZ_KEEP (build/fuzz-failures)."""
    n = int(os.environ.get("FUZZ_CASES", "10000"))
    seed = int(os.environ.get("FUZZ_SEED", "1"))
    jobs = int(os.environ.get("FUZZ_JOBS", str(os.cpu_count() or 2)))
    executor = os.environ.get("FUZZ_EXECUTOR", "fork")
    t0 = time.perf_counter()
    cases = generate_parallel(n, seed, jobs)
    sys.stderr.write(f"fuzz: generated {len(cases)} cases (seed {seed}) in {time.perf_counter() - t0:.0f} s; "
                     f"running on {jobs} workers ({executor})\n")
    tally = run_all(cases, jobs, progress=True, executor=executor)
    for o, failed in tally.failures[:20]:
        print(describe(o, failed), end="\n\n")
    print("\n".join(tally.lines()))
    if tally.failures:
        keep = Path(os.environ.get("FUZZ_KEEP", "build/fuzz-failures"))
        shutil.rmtree(keep, ignore_errors=True)
        save(tally.failures, keep)
        print(f"failing cases saved in {keep}/ (each with repro.sh)")
    if oracle.KNOWN_REPORT_ISSUES:
        print("known report issues (excluded): " + "; ".join(f"{e.name}: {e.description}"
                                                          for e in oracle.KNOWN_REPORT_ISSUES))
    return 1 if tally.failures else 0
