"""Benchmark: `project` over a 10-year horizon at hourly resolution (87,661 points), in-process.

Target (issue 4): <= 100 ms. Measures `horizon.project` (trajectory evaluation on the grid, switch
root finding, piecewise exact/adaptive integration, periods) on four simultaneous trajectories
(growth, growth, ramp, dated step) over the default scenario; median of several runs after a warm-up.
Run: .venv/bin/python bench/bench_project.py
"""

from __future__ import annotations

import statistics
import time

from tokencalc.analysis import horizon as HZ
from tokencalc.resolve.scenario import Request, resolve

TRAJECTORIES = {
    "facility.power": {"growth": "15 percent/year"},
    "devices": {"growth": "130 percent/year"},
    "utilization": {"ramp": 0.9, "over": "2 year"},
    "e_tok": {"steps": [{"at": "400 day", "value": "2.5 J/token"}]},
}


def main(runs: int = 15) -> None:
    """Print the median wall time of one 10-year hourly projection and of its JSON rendering."""
    res = resolve(Request(flags={"horizon": "3652.5 day"}))
    trajs = HZ.from_resolved(res, TRAJECTORIES)
    HZ.project(res, resolution_s=3600.0, trajectories=trajs)  # warm-up (imports, caches)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proj = HZ.project(res, resolution_s=3600.0, trajectories=trajs)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    proj.to_json()
    t_json = time.perf_counter() - t0
    med = statistics.median(times) * 1e3
    print(f"project, 10 years hourly ({proj.t_s.size:,} points, {len(trajs)} trajectories, "
          f"{len(proj.switches)} switch(es), {proj.integration['pieces']} pieces): "
          f"median {med:.1f} ms over {runs} runs (min {min(times) * 1e3:.1f}, max {max(times) * 1e3:.1f}); "
          f"target <= 100 ms: {'OK' if med <= 100 else 'MISSED'}")
    print(f"  building the JSON object with the full series (not part of the target): {t_json * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
