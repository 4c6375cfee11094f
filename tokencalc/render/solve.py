"""Solve output: the planner's sentence, the JSON document and the terminal lines."""

from __future__ import annotations

import math
from typing import Any

from ..analysis.solve import Solution, Solved
from . import humanize as H

# Planner phrasing for the power keys: "above X MW <of facility power> ...".
WORDS = {"p_facility": "of facility power", "p_it": "of IT power"}


def fmt(x: float, unit: str) -> str:
    """A solved value as people read it (four significant figures)."""
    return H.quantity(x, unit, 4)


def message(sol: Solution) -> str:
    """The planner's sentence for a solution."""
    key = sol.key
    if not sol.exists:
        return sol.reason or "no crossover"
    x = fmt(sol.value, sol.unit)
    if key == "power_cap":
        c = sol.check
        return (f"A power cap of {x} per device gives the most tokens: {H.si(c['token_rate_tokens_per_s'], 'token/s')} "
                f"against {H.si(c['token_rate_uncapped_tokens_per_s'], 'token/s')} uncapped "
                f"({fmt(c['device_power_uncapped_w'], 'W')} per device); {sol.method}.")
    if key == "devices" and sol.above == "power":
        n = math.floor(sol.value * (1 + 1e-12))
        return (f"This site can feed at most {n:,} devices at this operating point; "
                f"beyond that, delivered power binds (crossover at N = {sol.value:,.1f}).")
    if key in ("p_facility", "p_it") and sol.above == "compute":
        return f"Above {x} {WORDS[key]} the deployment is compute-bound; below it, power-bound."
    if key == "pue":
        return f"At a PUE above {x} the site is {sol.above}-bound; below it, {sol.below}-bound."
    if key == "e_tok":
        return f"Above {x} (IT boundary) the deployment is {sol.above}-bound; below it, {sol.below}-bound."
    return f"With {key} above {x} the deployment is {sol.above}-bound; below it, {sol.below}-bound."


def to_dict(solved: Solved) -> dict[str, Any]:
    """The `solve --format json` document."""
    out = solved.solution.to_json(solved.scenario)
    out["message"] = message(solved.solution)
    return out


def lines(solved: Solved) -> list[tuple[str, str | None]]:
    """The terminal rendering as (text, rich style) lines."""
    sol, scenario = solved.solution, solved.scenario
    what = "the most tokens" if sol.key == "power_cap" else "γ = γ*"
    out: list[tuple[str, str | None]] = [(f"{scenario or 'scenario'}: solve for {sol.key} ({what})", "bold"),
                                         (message(sol), "bold" if sol.exists else "bold yellow")]
    now = "not set" if sol.current is None else fmt(sol.current, sol.unit)
    regime = {"balanced": "balanced", None: "unknown"}.get(sol.binding_now, f"{sol.binding_now}-bound")
    out.append((f"  now:       {sol.key} = {now} -> {regime} (the reported K_eff convention)", None))
    if sol.exists and sol.key == "power_cap":
        c = sol.check
        out += [(f"  best cap:  {fmt(sol.value, sol.unit)} per device ({sol.value!r} W in SI): {sol.below}-bound below "
                 f"it, {sol.above}-bound above", None), (f"  method:    {sol.formula}", None),
                (f"  ceilings:  compute {H.si(c['compute_ceiling_tokens_per_s'], 'token/s', 6)}, power "
                 f"{H.si(c['power_ceiling_tokens_per_s'], 'token/s', 6)} at the cap", None)]
    elif sol.exists:
        si_unit = "" if sol.unit == "1" else " " + sol.unit
        c = sol.check
        out += [(f"  crossover: {sol.key} = {fmt(sol.value, sol.unit)}  ({sol.value!r}{si_unit} in SI)", None),
                (f"  method:    {sol.method}: {sol.formula}", None),
                (f"  check:     both ceilings {H.si(c['compute_ceiling_tokens_per_s'], 'token/s', 6)} at the "
                 f"solution (relative gap {c['relative_gap']:.1e})", None)]
        if sol.other_roots:
            out.append(("  also:      " + ", ".join(fmt(x, sol.unit) for x in sol.other_roots), None))
        if sol.current is None:
            out.append((f"  The scenario does not set {sol.key}; the answer is for the model in which it is given "
                        f"(as --{sol.key.replace('_', '-')} would).", "dim"))
    return out
