#!/usr/bin/env python3
"""Start-up benchmark: fresh-process timings of the commands people run most.

Usage: python bench/bench.py [--runs N]

Prints the median (and min/max) wall time of N >= 7 fresh processes for
`python -c pass` (the floor), `tokencalc --help` and `tokencalc estimate
--format json` on the bundled default scenario. Targets on the 2-core
reference machine: estimate <= 250 ms, --help <= 150 ms.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timeit(cmd: list[str], runs: int) -> list[float]:
    """Wall times (s) of `runs` fresh processes of `cmd` (after one warm-up run)."""
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    """Run the benchmark and print a table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    exe = shutil.which("tokencalc", path=str(Path(sys.executable).parent)) or "tokencalc"
    cases = [
        ("python -c pass", [sys.executable, "-c", "pass"], None),
        ("tokencalc --help", [exe, "--help"], 0.150),
        ("tokencalc estimate --format json", [exe, "estimate", "--format", "json"], 0.250),
        ("tokencalc estimate (table)", [exe, "estimate"], None),
    ]
    print(f"{'command':40} {'median':>9} {'min':>9} {'max':>9}  target")
    for label, cmd, target in cases:
        t = timeit(cmd, max(args.runs, 7))
        med = statistics.median(t)
        verdict = "" if target is None else (f"<= {target * 1e3:.0f} ms " + ("ok" if med <= target else "MISSED"))
        print(f"{label:40} {med * 1e3:8.1f}ms {min(t) * 1e3:8.1f}ms {max(t) * 1e3:8.1f}ms  {verdict}")


if __name__ == "__main__":
    main()
