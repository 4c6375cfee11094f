"""Fit the serving model's per-hardware parameters on the ML.ENERGY Leaderboard v3.0 subset.

    python bench/fit_mlenergy.py [DATA_DIR]      (or MLENERGY_DATA; the leaderboard's public/data folder)

Only per-hardware parameters are fitted (compute and memory efficiency, the step, layer and collective
overheads, the three power coefficients), one set per GPU over every model and task it ran; nothing per
model. Throughput: least squares on log(predicted / measured) deployment throughput (Nelder–Mead on
transformed parameters). Power: least squares on the measured per-GPU power as a share of TDP, given the
timing fit's activity shares. Prints the parameter-count check of every architecture, the parameters
(as the `[serving]` table of profiles/hardware/*.toml) and the leave-one-model-out errors.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import mlenergy as M  # noqa: E402

# Starting point and bounds of the timing parameters (efficiencies in (0, 1], times in seconds).
START = {"compute_efficiency": 0.5, "memory_efficiency": 0.7, "step_overhead_s": 2e-3, "sequence_overhead_s": 3e-5,
         "collective_latency_s": 1e-5}
TIMING = tuple(START)
EFFICIENCIES = ("compute_efficiency", "memory_efficiency")


def unpack(x: np.ndarray) -> dict[str, float]:
    """Unconstrained vector -> parameters (logistic for efficiencies, exp for times)."""
    out = {}
    for name, v in zip(TIMING, x):
        out[name] = 1.0 / (1.0 + math.exp(-v)) if name in EFFICIENCIES else math.exp(v)
    return out


def pack(p: dict[str, float]) -> np.ndarray:
    return np.array([math.log(p[n] / (1 - p[n])) if n in EFFICIENCIES else math.log(p[n]) for n in TIMING])


def nelder_mead(f, x0: np.ndarray, step: float = 0.5, iters: int = 1500, tol: float = 1e-10) -> np.ndarray:
    """Minimise f from x0 (Nelder and Mead 1965; standard reflection/expansion/contraction/shrink)."""
    n = len(x0)
    simplex = [x0] + [x0 + step * np.eye(n)[i] for i in range(n)]
    values = [f(x) for x in simplex]
    for _ in range(iters):
        order = np.argsort(values)
        simplex, values = [simplex[i] for i in order], [values[i] for i in order]
        if abs(values[-1] - values[0]) < tol:
            break
        centroid = np.mean(simplex[:-1], axis=0)
        xr = centroid + (centroid - simplex[-1])
        fr = f(xr)
        if fr < values[0]:
            xe = centroid + 2 * (centroid - simplex[-1])
            fe = f(xe)
            simplex[-1], values[-1] = (xe, fe) if fe < fr else (xr, fr)
        elif fr < values[-2]:
            simplex[-1], values[-1] = xr, fr
        else:
            xc = centroid + 0.5 * (simplex[-1] - centroid)
            fc = f(xc)
            if fc < values[-1]:
                simplex[-1], values[-1] = xc, fc
            else:
                simplex = [simplex[0] + 0.5 * (s - simplex[0]) for s in simplex]
                values = [f(s) for s in simplex]
    return simplex[int(np.argmin(values))]


def fit_timing(rows, arches, sheets) -> dict[str, float]:
    def loss(x):
        p = unpack(x)
        return sum(abs(math.log(M.predict(r, arches, p, sheets)[0] / r.throughput)) for r in rows)

    x = pack(START)
    for _ in range(3):   # restarts from the best point so far
        x = nelder_mead(loss, x)
    return unpack(x)


def fit_power(rows, arches, timing, sheets) -> dict[str, float]:
    """Linear least squares of per-GPU power / TDP on (1, u_compute, u_memory)."""
    a, y = [], []
    for r in rows:
        _, _, s = M.predict(r, arches, timing, sheets)
        t_total = s.itl_s + s.t_prefill
        a.append([1.0, (s.t_compute + s.t_prefill) / t_total, s.t_memory / t_total])
        y.append(r.power / r.num_gpus / sheets[(r.gpu, r.precision)]["tdp"])
    coef, *_ = np.linalg.lstsq(np.array(a), np.array(y), rcond=None)
    return {"power_base": float(coef[0]), "power_compute": float(coef[1]), "power_memory": float(coef[2])}


def fit(rows, arches, sheets) -> dict[str, float]:
    timing = fit_timing(rows, arches, sheets)
    return {**timing, **fit_power(rows, arches, timing, sheets)}


def fit_all(rows, arches, sheets) -> dict[str, dict[str, float]]:
    return {gpu: fit([r for r in rows if r.gpu == gpu], arches, sheets) for gpu in sorted({r.gpu for r in rows})}


def lomo(rows, arches, sheets) -> dict[int, tuple[float, float]]:
    """Leave-one-model-out predictions: each architecture family refitted without its own rows."""
    out = {}
    for gpu in sorted({r.gpu for r in rows}):
        mine = [(i, r) for i, r in enumerate(rows) if r.gpu == gpu]
        for fam in sorted({r.family for _, r in mine}):
            params = fit([r for _, r in mine if r.family != fam], arches, sheets)
            for i, r in mine:
                if r.family == fam:
                    tp, e, _ = M.predict(r, arches, params, sheets)
                    out[i] = (tp, e)
    return out


def check_params(arches: dict) -> None:
    import json

    print("Parameter check: recomputed from config.json vs index.json total_params_billions")
    index = json.loads((DATA / "index.json").read_text())["models"]
    for model, t in arches.items():
        if "/" not in model:
            continue
        _, c = M.config_table(arches, model)
        p = M.count_params(c)
        total = (p["total"] + p["extra"]) / 1e9
        ref = index[model]["total_params_billions"]
        flag = "" if abs(total / ref - 1) <= 0.10 else "   <-- off by more than 10 %"
        print(f"  {model:52s} {total:8.1f} B  vs {ref:6.1f} B  ({100 * (total / ref - 1):+5.1f} %), "
              f"active {p['active'] / 1e9:6.1f} B vs {index[model]['activated_params_billions']:5.1f} B{flag}")


TOML_UNITS = {"step_overhead_s": ("step_overhead", 1e3, "ms"), "sequence_overhead_s": ("sequence_overhead", 1e6, "us"),
              "collective_latency_s": ("collective_latency", 1e6, "us")}


def print_toml(gpu: str, p: dict[str, float], n: int, models: list[str]) -> None:
    print(f"\n[serving]   # {M.HARDWARE[gpu]}: fitted per hardware on {n} rows")
    for name in M.PARAMS:
        if name in TOML_UNITS:
            key, scale, unit = TOML_UNITS[name]
            print(f'{key} = "{p[name] * scale:.4g} {unit}"')
        else:
            print(f"{name} = {p[name]:.4g}")
    print("# models: " + ", ".join(models))


DATA = M.data_dir(sys.argv)


def main() -> None:
    arches = M.load_architectures()
    check_params(arches)
    rows, skipped = M.load_rows(DATA, arches)
    print("\nLeft out: " + "; ".join(skipped))
    sheets = M.all_sheets(rows)
    params = fit_all(rows, arches, sheets)
    for gpu, p in params.items():
        mine = [r for r in rows if r.gpu == gpu]
        print_toml(gpu, p, len(mine), sorted({r.model for r in mine}))


if __name__ == "__main__":
    main()
