"""The model over time: the resolved inputs with each trajectory applied, through the one engine.

A trajectory sets its input's value at each time; everything derived from it
(IT overhead from a board power, a token-basis conversion) follows inside the
core. Lever trajectories replace the counted lever's phase factor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...core import Inputs, LeverStatus, evaluate, gate, with_values
from ...errors import InputError, ProfileError
from ...resolve.fields import partners
from ...resolve.profiles import check_bounds
from ...units import MAX_MAGNITUDE
from .trajectory import DAY, Trajectory, field_spec

# Engine keys the projection reads at each time (series, switches and the integrands).
KEYS = ("compute_ceiling", "power_ceiling", "token_rate", "e_tok", "c_tok", "k_eff", "p_it", "p_facility",
        "utilization", "it_power", "facility_power", "cost_rate", "emissions_rate", "binding",
        "energy_cost_rate", "capex_rate", "opex_rate", "embodied_rate", "water_rate")
# What is integrated over time: engine key of the rate -> total's JSON key.
INTEGRANDS = {"token_rate": "tokens_total", "it_power": "energy_it_j", "facility_power": "energy_facility_j",
              "cost_rate": "cost_usd", "emissions_rate": "emissions_kg_co2e",
              # cost and impact (core/costs.py): the parts of the cost, embodied carbon and water
              "energy_cost_rate": "energy_cost_usd", "capex_rate": "capex_usd", "opex_rate": "opex_usd",
              "embodied_rate": "embodied_kg_co2e", "water_rate": "water_l"}


@dataclass
class Plan:
    """Base inputs, the lever gate (decided at t = 0) and how each trajectory modifies the inputs."""

    base: Inputs
    trajs: list[Trajectory]
    v0: dict[str, float | None]                 # starting value of each trajectory (by key)
    statuses: list[LeverStatus]
    levers: dict[str, tuple[str, str]]          # trajectory key -> (lever id, factor key)
    notes: list[str]


def make_plan(resolved: Any, trajs: list[Trajectory]) -> Plan:
    """Check each trajectory against the resolved scenario and find its starting value.

    Raises:
        InputError: a lever that is not in the scenario, or an input with no starting value.
    """
    inp: Inputs = resolved.inputs
    statuses = gate(inp)
    plan = Plan(inp, trajs, {}, statuses, {}, [])
    cleared: dict[str, Any] = {}
    for tr in trajs:
        where = f"trajectory.{tr.key} in {tr.source}"
        if tr.field.startswith("levers."):
            _lever_start(plan, tr, where)
            continue
        if tr.dotted:
            _dotted_start(plan, resolved, tr, where)
        else:
            plan.v0[tr.key] = None if getattr(inp, tr.field) is None else float(getattr(inp, tr.field))
            for other in partners(tr.field):
                if other != tr.field and getattr(inp, other) is not None:
                    cleared[other] = None
                    src = inp.provenance[other].source if other in inp.provenance else "resolved"
                    plan.notes.append(f"Trajectory on {tr.field} replaces {other} ({src}).")
        if plan.v0[tr.key] is None and not tr.dotted and not (
                tr.form in ("csv", "series") or (tr.form == "steps" and tr.params["at"][0] == 0.0)):
            raise InputError(f"{where}: {tr.field} has no starting value in this scenario; give one "
                             f"(e.g. --{tr.field.replace('_', '-')}) or start the steps at \"0 day\"")
    if cleared:
        plan.base = with_values(inp, **cleared)
    return plan


def _lever_start(plan: Plan, tr: Trajectory, where: str) -> None:
    _, lid, lkey = tr.field.split(".")
    status = next((s for s in plan.statuses if s.id == lid), None)
    if status is None:
        raise InputError(f"{where}: lever '{lid}' is not in this scenario's levers")
    if not status.counted:
        plan.notes.append(f"Trajectory on {tr.key} has no effect: the lever is not counted ({status.reason}).")
    plan.levers[tr.key] = (lid, lkey)
    plan.v0[tr.key] = getattr(status, "phase_" + lkey)


def _dotted_start(plan: Plan, resolved: Any, tr: Trajectory, where: str) -> None:
    kind, _, pkey = tr.key.partition(".")
    prof = getattr(resolved, kind, None)
    pv = prof.get(pkey) if prof is not None else None
    if pv is None:
        raise InputError(f"{where}: the {kind} profile gives no {pkey} to start from; "
                         f"put a trajectory on the core key {tr.field} instead")
    origin = plan.base.origin(tr.field)
    if origin is None or not origin.is_from(kind, prof.id, pkey):
        src = plan.base.provenance[tr.field].source if origin is not None else "nowhere (it is not used)"
        plan.notes.append(f"Trajectory on {tr.key} has no effect: {tr.field} comes from {src}.")
        plan.v0[tr.key] = None
        return
    plan.v0[tr.key] = float(pv)


def evaluate_at(plan: Plan, t: np.ndarray, left: bool = False, trajs: list[Trajectory] | None = None,
                keys: Any = None) -> dict[str, Any]:
    """The engine at times `t` (s, an array): the keys of :data:`KEYS`, each broadcast to `t`'s shape.

    Args:
        plan: from :func:`make_plan`.
        t: times.
        left: left limits at step dates.
        trajs: the trajectories to apply (default: all of the plan's).
        keys: only these engine keys (root finding needs three).
    """
    changes: dict[str, Any] = {}
    lever_values: dict[str, dict[str, Any]] = {}
    for tr in plan.trajs if trajs is None else trajs:
        v0 = plan.v0[tr.key]
        if tr.key in plan.levers:
            lid, lkey = plan.levers[tr.key]
            lever_values.setdefault(lid, {})[lkey] = tr.value(t, v0, left)
        elif not (tr.dotted and v0 is None):
            changes[tr.field] = tr.value(t, v0, left)
    r = evaluate(with_values(plan.base, **changes) if changes else plan.base, plan.statuses, lever_values)
    d = r["inputs"]
    out: dict[str, Any] = {"t": t}
    for k in KEYS if keys is None else keys:
        out[k] = None if r[k] is None else np.broadcast_to(np.asarray(r[k]), t.shape)
    out["pue"] = None if d.pue is None else np.broadcast_to(np.asarray(d.pue, dtype=float), t.shape)
    return out


def sample_times(plan: Plan, T: float) -> np.ndarray:
    """The start, the end and both sides of every breakpoint: where a trajectory takes its extremes."""
    pts = {0.0, T}
    for tr in plan.trajs:
        if tr.form == "series":  # checked when read; a step function takes its extremes at its own values
            continue
        for b in tr.breakpoints:
            if 0 <= b <= T:
                pts.update({b, max(b - 1e-9 * T, 0.0)})
    return np.array(sorted(pts))


def check_bounds_over(plan: Plan, T: float, date_of: Any) -> None:
    """Every trajectory stays inside its input's allowed range over the horizon (growth can leave it)."""
    ts = sample_times(plan, T)
    for tr in plan.trajs:
        v0 = plan.v0[tr.key]
        if (v0 is None and tr.form in ("growth", "ramp")) or tr.form == "series":  # a series may hold negative prices
            continue
        fspec, _, _ = field_spec(tr.key, tr.source)
        with np.errstate(over="ignore", invalid="ignore"):
            values = tr.value(ts, v0)
        for x, tt in zip(values, ts):
            when = date_of(tt) or f"t = {tt / DAY:.6g} day"
            if not np.isfinite(x) or abs(x) > MAX_MAGNITUDE:
                raise ProfileError(f"trajectory.{tr.key} in {tr.source}: the {tr.form} takes it beyond any physical "
                                   f"range by {when} ({float(x):.3g} in SI); shorten the horizon or the growth")
            try:
                check_bounds(fspec, float(x), tr.source, f"trajectory.{tr.key} (its value at {when})", float(x))
            except ProfileError as exc:
                raise ProfileError(str(exc) + f"; the {tr.form} takes it out of range within the horizon") from None


def note_masked(plan: Plan, T: float) -> None:
    """Note trajectories that change nothing the projection reports (their input is masked)."""
    ts = sample_times(plan, T)
    keys = ("compute_ceiling", "power_ceiling", "token_rate", "e_tok", "pue", "cost_rate", "emissions_rate")
    for tr in plan.trajs:
        v0 = plan.v0[tr.key]
        if v0 is None or any(f"on {tr.key} has no effect" in n for n in plan.notes):
            continue
        vals = tr.value(ts, v0)
        i = int(np.argmax(np.abs(vals - v0)))
        if vals[i] == v0:
            continue
        a = evaluate_at(plan, ts[i:i + 1], trajs=[tr])
        b = evaluate_at(plan, ts[i:i + 1], trajs=[])
        if all((a[k] is None and b[k] is None) or (a[k] is not None and b[k] is not None and a[k][0] == b[k][0])
               for k in keys):
            plan.notes.append(f"Trajectory on {tr.key} changes nothing reported here: {tr.field} does not enter "
                              "the ceilings in this scenario (another input answers the same question).")
