#!/usr/bin/env python3
"""Benchmark: Monte Carlo of `estimate` with 1e6 samples (issue 8 target: <= 2 s).

Usage: .venv/bin/python bench/bench_mc.py [--samples N] [--runs R]

Two figures on the bundled `default-uncertain` scenario (four ranged inputs: utilization,
PUE, J/token, throughput per device):

1. in-process: `uncertainty.monte_carlo(resolved, N, seed)` — drawing, one evaluation of
   `model.core` on arrays, nine percentile triples and the regime shares (median of R runs
   after a warm-up; the scenario is resolved once, outside the timing);
2. end-to-end: a fresh `tokencalc estimate default-uncertain --mc N --seed 1 -f json`
   process (interpreter start-up, imports, profile loading, JSON), median of R runs.
Also prints the in-process breakdown (draws / model / percentiles) of one run.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    n = args.samples

    import numpy as np

    from tokencalc.analysis import uncertainty as U
    from tokencalc.resolve.scenario import Request, resolve

    resolved = resolve(Request(scenario="default-uncertain"))
    U.monte_carlo(resolved, 1000, seed=1)  # warm-up: imports, caches
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        mc = U.monte_carlo(resolved, n, seed=1)
        times.append(time.perf_counter() - t0)

    # breakdown of one run
    ranges = U.collect(resolved)
    b0 = time.perf_counter()
    cols = U.draw(ranges.inputs, n, 1)
    b1 = time.perf_counter()
    r = U.evaluate(resolved.inputs, ranges.inputs, cols)
    b2 = time.perf_counter()
    from tokencalc.core import fields as F

    for key in U.METRICS:
        v = r[F.field(key).engine]
        if v is not None and np.ndim(v):
            np.quantile(v, [0.05, 0.5, 0.95])
    b3 = time.perf_counter()

    exe = shutil.which("tokencalc", path=str(Path(sys.executable).parent)) or "tokencalc"
    cmd = [exe, "estimate", "default-uncertain", "--mc", str(n), "--seed", "1", "-f", "json"]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)  # warm-up (page cache, .pyc)
    cli_times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        cli_times.append(time.perf_counter() - t0)

    print(f"Monte Carlo of estimate, {n:,} samples, {len(ranges.inputs)} ranged inputs (default-uncertain)")
    print(f"  in-process  monte_carlo():  median {statistics.median(times):.3f} s  "
          f"(min {min(times):.3f}, max {max(times):.3f}, {args.runs} runs)")
    print(f"    breakdown: draws {b1 - b0:.3f} s, model on arrays {b2 - b1:.3f} s, percentiles {b3 - b2:.3f} s")
    print(f"  end-to-end  tokencalc estimate --mc {n} -f json:  median {statistics.median(cli_times):.3f} s  "
          f"(min {min(cli_times):.3f}, max {max(cli_times):.3f})")
    print(f"  P(power-bound) = {mc.p_power_bound:.4f}; token rate P5/P50/P95 = "
          + " / ".join(f"{mc.percentiles['token_rate_tokens_per_s'][p]:.0f}" for p in ("p5", "p50", "p95"))
          + " token/s")
    print("  target: <= 2 s for 1e6 samples")


if __name__ == "__main__":
    main()
