#!/usr/bin/env python3
"""Benchmark of the scripting tools: sweep engine, streamed CSV, compare.

Usage: python bench/bench_compare.py [--runs N] [--big]

Targets (2-core reference machine):
  sweep engine (compute only, in process)         >= 50 M points/s
  1e6-point sweep written as CSV, fresh process   <= 5 s
  compare of every bundled accelerator, fresh     <= 1 s
--big adds a 1e7-point JSON Lines sweep (time and peak memory: streaming keeps it bounded).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import timeit as fresh  # bench/bench.py: wall times of fresh processes


def engine_rate(specs: list[str], runs: int) -> tuple[int, float]:
    """Points and best points/s of evaluating the grid chunk by chunk (no formatting)."""
    from tokencalc.analysis import sweep as W
    from tokencalc.cli.sweep import tune_allocator
    from tokencalc.resolve.scenario import Request

    tune_allocator()
    plan = W.plan_request(Request(), specs)
    best = 0.0
    for _ in range(runs):
        t0 = time.perf_counter()
        for _start, _stop, _cols in W.chunks(plan):
            pass
        best = max(best, plan.size / (time.perf_counter() - t0))
    return plan.size, best


def write_rate(specs: list[str], fmt: str, runs: int) -> tuple[int, float]:
    """Points and best wall time of evaluating + formatting in process (to memory)."""
    from tokencalc.analysis import sweep as W
    from tokencalc.cli.sweep import tune_allocator
    from tokencalc.render import stream
    from tokencalc.resolve.scenario import Request

    tune_allocator()
    plan = W.plan_request(Request(), specs)
    best = float("inf")
    for _ in range(runs):
        buf = io.BytesIO()
        t0 = time.perf_counter()
        stream.write(buf, plan, fmt)
        best = min(best, time.perf_counter() - t0)
    return plan.size, best


def main() -> None:
    """Run the benchmarks and print a table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--big", action="store_true", help="also stream a 1e7-point sweep")
    args = ap.parse_args()
    exe = shutil.which("tokencalc", path=str(Path(sys.executable).parent)) or "tokencalc"
    print(f"{'case':58} {'result':>22}  target")

    for label, specs in [("engine 1-D p_it, 4e6 points", ["p_it=100 kW:10 MW:4000000"]),
                         ("engine 2-D p_facility x devices, 2000 x 2000",
                          ["p_facility=log:100 kW:100 MW:2000", "devices=100:20000:2000"]),
                         ("engine 1-D kernel_efficiency (roofline), 4e6",
                          ["kernel_efficiency=0.01:1:4000000"])]:
        n, rate = engine_rate(specs, args.runs)
        print(f"{label:58} {rate / 1e6:>14.1f} M pt/s  >= 50 M/s")

    for fmt in ("csv", "jsonl"):
        n, t = write_rate(["p_it=100 kW:10 MW:1000000"], fmt, max(2, args.runs // 2))
        print(f"{'in-process evaluate + format ' + fmt + ', 1e6 points':58} {t:>16.2f} s     ({n / t / 1e6:.2f} M rows/s)")

    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "s.csv")
        cmd = [exe, "sweep", "--vary", "p_it=100 kW:10 MW:1000000", "-f", "csv", "-o", out, "--force", "-q"]
        times = fresh(cmd, args.runs)
        size = os.path.getsize(out)
        print(f"{'tokencalc sweep 1e6 points -f csv -o FILE (fresh process)':58} {statistics.median(times):>16.2f} s     <= 5 s"
              f"  (min {min(times):.2f}, {size / 1e6:.0f} MB)")

    for label, cmd in [("tokencalc compare --hardware all --skip-errors -f json",
                        [exe, "compare", "--hardware", "all", "--skip-errors", "-f", "json"]),
                       ("tokencalc compare --hardware all --precision bf16 --skip-errors",
                        [exe, "compare", "--hardware", "all", "--precision", "bf16", "--skip-errors", "-f", "csv"])]:
        times = fresh(cmd, args.runs)
        print(f"{label:58} {statistics.median(times):>16.2f} s     <= 1 s  (min {min(times):.2f})")

    if args.big:
        cmd = [exe, "sweep", "--vary", "p_facility=log:100 kW:100 MW:10000", "--vary", "devices=100:20000:1000",
               "-f", "jsonl", "-q"]
        t0 = time.perf_counter()
        with open(os.devnull, "wb") as sink:
            proc = subprocess.Popen(cmd, stdout=sink)
            _, status, usage = os.wait4(proc.pid, 0)   # this child's own peak memory
        dt = time.perf_counter() - t0
        if status != 0:
            raise SystemExit(f"sweep failed with status {status}")
        rss = usage.ru_maxrss / 1024
        print(f"{'tokencalc sweep 1e7 points -f jsonl > /dev/null':58} {dt:>16.2f} s     (peak RSS {rss:.0f} MB)")


if __name__ == "__main__":
    main()
