"""The projection: token output, energy, cost and emissions integrated over the horizon.

    Q(T) = ∫₀ᵀ U(t) · min(Q̇_K(t), Q̇_P(t)) dt,   E_IT = ∫ Q̇ · e_tok dt, ...

The engine (`core.evaluate`) runs on numpy time arrays; the integrands are the
engine's own rates (token rate, IT and facility power drawn, cost and emission
rates), so a projection at constant inputs equals `estimate` exactly. Pieces
run between trajectory breakpoints, switch times and period edges.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...core import estimate, label
from ...core import fields as F
from ...core.classify import BALANCED, COMPUTE, POWER
from ...errors import InputError
from ...units import MAX_MAGNITUDE
from . import switches
from .numerics import gauss_kronrod, time_to
from .periods import date_of, default_period, default_resolution, period_edges
from .plan import INTEGRANDS, Plan, check_bounds_over, evaluate_at, make_plan, note_masked
from .hourly import series_cuts, with_series
from .trajectory import Trajectory, from_resolved

SCHEMA = "tokencalc.project/1"
MAX_POINTS = 5e6
# One JSON document with the series: ~3 kB of memory and ~30 µs per point to build and encode, so 250,000
# points (hourly over 28 years, daily over 680) is ~1 GB and ~8 s. Beyond it: --no-series, CSV, a coarser step.
MAX_JSON_SERIES = 250_000
SERIES = ("token_rate", "compute_ceiling", "power_ceiling", "p_it", "k_eff", "c_tok", "e_tok", "utilization")
SHARES = {POWER: "power_bound", COMPUTE: "compute_bound", BALANCED: "balanced"}


@dataclass(frozen=True)
class Switch:
    """A time at which the binding constraint changes."""

    t_s: float
    from_: str
    to: str
    date: str | None = None


@dataclass
class Projection:
    """The horizon: series on a time grid, exact totals, switch times, periods.

    Arrays (numpy, one value per series time `t_s`): `series[engine key]` for the keys of
    :data:`SERIES`, and `binding` (labels: compute, power, balanced). `totals` holds the
    documented JSON keys (tokens_total, energy_it_j, energy_facility_j, cost_usd,
    emissions_kg_co2e, power_bound_s, power_bound_share, ...).
    """

    scenario: str | None
    start_date: str | None
    horizon_s: float
    resolution_s: float
    t_s: np.ndarray
    series: dict[str, Any]
    binding: np.ndarray
    switches: list[Switch]
    totals: dict[str, float | None]
    periods: list[dict[str, Any]]
    period_unit: str
    trajectories: list[Trajectory]
    notes: list[str]
    integration: dict[str, int]
    start: dict[str, Any]
    end: dict[str, Any]
    target_tokens: float | None = None
    time_to_target_s: float | None = None
    input_series: dict[str, Any] = field(default_factory=dict)   # hourly price / carbon series over [0, T]

    def date_of(self, t_s: float) -> str | None:
        """ISO date of an offset (None without a start date)."""
        return date_of(self.start_date, t_s)

    def to_json(self, series: bool = True) -> dict[str, Any]:
        """The `project --format json` document, SI units, plain numbers."""
        out: dict[str, Any] = {
            "schema": SCHEMA, "scenario": self.scenario, "start_date": self.start_date,
            "horizon_s": self.horizon_s, "resolution_s": self.resolution_s, **self.totals,
            "switches": [{"t_s": s.t_s, "date": s.date, "from": s.from_, "to": s.to} for s in self.switches],
            "target_tokens": self.target_tokens, "time_to_target_s": self.time_to_target_s,
            "time_to_target_date": (self.date_of(self.time_to_target_s) if self.time_to_target_s is not None else None),
            "start": dict(self.start), "end": dict(self.end),
            "period_unit": self.period_unit, "periods": [dict(p) for p in self.periods],
            "trajectories": [{"key": t.key, "form": t.form, "feeds": t.field, "spec": _spec_json(t.spec),
                              "source": t.source} for t in self.trajectories],
            "integration": dict(self.integration),
            "input_series": dict(self.input_series),
            "notes": list(self.notes),
        }
        if series:
            out["series"] = self.series_rows()
        return out

    def series_rows(self) -> list[dict[str, Any]]:
        """The series as a list of dicts with the documented keys."""
        cols = [("t_s", self.t_s.tolist())] + [(F.json_key(k), None if self.series[k] is None else
                                                self.series[k].tolist()) for k in SERIES]
        binding = self.binding.tolist() if self.binding is not None else [None] * self.t_s.size
        rows = []
        for i in range(self.t_s.size):
            row = {name: (None if arr is None else arr[i]) for name, arr in cols}
            row["binding"] = binding[i]
            rows.append(row)
        return rows


def _spec_json(spec: dict) -> dict:
    def conv(v: Any) -> Any:
        if isinstance(v, (_dt.date, _dt.datetime)):
            return v.isoformat()
        if isinstance(v, list):
            return [conv(x) for x in v]
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v
    return conv(spec)


def project(resolved: Any, horizon_s: float | None = None, resolution_s: float | None = None, *,
            trajectories: list[Trajectory] | None = None, period: str | None = None,
            target_tokens: float | None = None) -> Projection:
    """Project a resolved scenario over its horizon with its trajectories.

    Args:
        resolved: a `resolve.Resolved` (its `[trajectory]` table is read unless `trajectories` is given).
        horizon_s: horizon T in s (default: the resolved `horizon` input).
        resolution_s: spacing of the series in s (default: hourly up to 60 days, daily beyond).
        trajectories: parsed trajectories to use instead of the scenario's (see `from_resolved`).
        period: resampling unit of the period table: day, week, month, quarter or year (default by T).
        target_tokens: when given, the time at which Q(t) reaches it (None if not within T).

    Returns:
        A :class:`Projection`; `.to_json()` gives the documented JSON.

    Raises:
        TokencalcError: malformed trajectories, no horizon, or a token rate that cannot be computed.
    """
    trajs = from_resolved(resolved) if trajectories is None else trajectories
    if target_tokens is not None and not (math.isfinite(target_tokens) and 0 <= target_tokens <= MAX_MAGNITUDE):
        raise InputError(f"--target-tokens: expected a finite number of tokens >= 0, got {target_tokens!r}")
    T, res = _horizon(resolved.inputs.horizon if horizon_s is None else horizon_s, resolution_s)
    resolved, trajs, hourly_notes, input_series = with_series(resolved, trajs, T)
    plan = make_plan(resolved, trajs)
    plan.notes += hourly_notes
    start_date = resolved.scenario.get("start_date") if resolved.scenario is not None else None

    def ev(t: Any, left: bool = False, keys: Any = None) -> dict[str, Any]:
        return evaluate_at(plan, np.asarray(t, dtype=float), left, keys=keys)

    if ev(np.array([0.0]))["token_rate"] is None:
        why = [n for n in estimate(plan.base).notes if "unknown" in n or "no power" in n.lower() or "No " in n]
        raise InputError("cannot project: the token rate is unknown (both ceilings are needed). " + " ".join(why[:2]))
    check_bounds_over(plan, T, lambda t: date_of(start_date, t))
    note_masked(plan, T)
    t = np.arange(int(math.floor(T / res + 1e-9)) + 1, dtype=float) * res
    if t[-1] < T * (1 - 1e-12):
        t = np.append(t, T)
    grid = ev(t)
    edges = np.array([0.0, *sorted({b for tr in trajs if tr.form != "series" for b in tr.breakpoints if 0.0 < b < T}),
                      T])
    # One search finds both the crossovers (switches) and the band edges (where the classifier enters
    # or leaves "balanced"); the band edges cut the pieces too, so the shares follow the series labels.
    found = switches.find(lambda x, left=False: switches.state(ev(x, left, switches.KEYS)), edges, t,
                          switches.state(grid), T)
    sw = [Switch(ts, switches.SIDES[a], switches.SIDES[b], date_of(start_date, ts))
          for ts, a, b in switches.crossovers(found)]
    unit = period or default_period(T)
    pedges, plabels = period_edges(T, start_date, unit)
    cuts = np.unique(np.concatenate([edges, series_cuts(trajs, T), np.array([f[0] for f in found]), pedges]))
    cuts = cuts[(cuts >= 0) & (cuts <= T)]
    pa, pz = cuts[:-1], cuts[1:]
    pa, pz = pa[pz > pa], pz[pz > pa]
    integrals, stats, classes = _integrate(ev, pa, pz)
    totals = _totals(integrals, classes, pz - pa, T)
    periods = _periods(integrals, classes, pa, pz, pedges, plabels)
    notes = list(plan.notes)
    t_target = None
    if target_tokens is not None:
        t_target = time_to(target_tokens, integrals["tokens_total"], pa, pz, lambda x: ev(x)["token_rate"])
        if t_target is None:
            notes.append(f"{target_tokens:.6g} tokens are not reached within the horizon "
                         f"(Q(T) = {totals['tokens_total']:.6g}); extend --horizon.")
    return Projection(
        scenario=resolved.inputs.scenario, start_date=start_date, horizon_s=T, resolution_s=res, t_s=t,
        series={k: (None if grid[k] is None else np.ascontiguousarray(grid[k], dtype=float)) for k in SERIES},
        binding=label(grid["binding"]), switches=sw, totals=totals, periods=periods, period_unit=unit, trajectories=trajs,
        notes=notes, integration={"pieces": int(pa.size), **stats}, start=_snapshot(grid, 0),
        end=_snapshot(grid, t.size - 1), target_tokens=target_tokens, time_to_target_s=t_target,
        input_series=input_series)


def _horizon(T: Any, resolution_s: float | None) -> tuple[float, float]:
    if T is None or not T > 0:
        raise InputError("project needs a horizon > 0 (--horizon \"365 day\" or the scenario's horizon)")
    T = float(T)
    res = float(resolution_s) if resolution_s is not None else default_resolution(T)
    if not res > 0:
        raise InputError(f"--resolution must be > 0 s, got {res:g} s")
    if T / res > MAX_POINTS:
        raise InputError(f"--resolution {res:g} s gives {T / res:.3g} points over the horizon; use a coarser one "
                         f"(at most {MAX_POINTS:,.0f} points)")
    return T, res


def _integrate(ev: Any, pa: np.ndarray, pz: np.ndarray) -> tuple[dict[str, np.ndarray | None], dict, np.ndarray]:
    """Per-piece integrals of the engine's rates, the method counts, and each piece's binding class."""
    keys = list(INTEGRANDS)
    avail = [ev(np.array([0.0]))[k] is not None for k in keys]
    def rates(x: np.ndarray) -> list[Any]:
        e = ev(x)  # one engine call for all the integrands
        return [e[k] for k in keys]

    values, stats = gauss_kronrod(rates, pa, pz, len(keys))
    integrals = {INTEGRANDS[k]: (values[i] if avail[i] else None) for i, k in enumerate(keys)}
    return integrals, stats, ev(0.5 * (pa + pz))["binding"]


def _totals(integrals: dict[str, Any], classes: np.ndarray, lengths: np.ndarray, T: float) -> dict[str, Any]:
    totals: dict[str, Any] = {k: (None if v is None else float(v.sum())) for k, v in integrals.items()}
    for code, name in SHARES.items():
        totals[f"{name}_s"] = float(lengths[classes == code].sum())
        totals[f"{name}_share"] = totals[f"{name}_s"] / T
    return totals


def _periods(integrals: dict[str, Any], classes: np.ndarray, pa: np.ndarray, pz: np.ndarray, pedges: np.ndarray,
             plabels: list[str]) -> list[dict[str, Any]]:
    mids, lengths = 0.5 * (pa + pz), pz - pa
    pidx = np.clip(np.searchsorted(pedges, mids, side="right") - 1, 0, len(plabels) - 1)
    out = []
    for k, name in enumerate(plabels):
        sel = pidx == k
        dur = float(pedges[k + 1] - pedges[k])
        row: dict[str, Any] = {"period": name, "t_start_s": float(pedges[k]), "t_end_s": float(pedges[k + 1])}
        for key, v in integrals.items():
            row[key] = None if v is None else float(v[sel].sum())
        row["mean_token_rate_tokens_per_s"] = row["tokens_total"] / dur if dur > 0 else None
        row["power_bound_share"] = float(lengths[sel & (classes == POWER)].sum()) / dur if dur > 0 else None
        out.append(row)
    return out


def _snapshot(e: dict[str, Any], i: int) -> dict[str, Any]:
    out = {F.json_key(k): (None if e[k] is None else float(e[k][i])) for k in SERIES}
    out["p_facility_w"] = None if e["p_facility"] is None else float(e["p_facility"][i])
    out["pue"] = None if e["pue"] is None else float(e["pue"][i])
    return out


__all__ = ["SCHEMA", "Plan", "Projection", "Switch", "project"]
