"""The disclosure checklist (docs/model.md §13): six items, each given or missing, from what the inputs contain."""

from __future__ import annotations

from typing import Any

from .. import humanize as H

Item = tuple[str, list[str], str]   # (title, what is missing, detail)


def checklist(resolved: Any, result: Any, projection: Any = None) -> list[dict[str, Any]]:
    """The six disclosure items, each given or missing.

    Args:
        resolved, result: the profiles and inputs, and the estimate at constant inputs.
        projection: the horizon with the scenario's trajectories, if any: item 4 then
            quotes its totals (and says so), the constant-input ones beside.

    Returns:
        A list of {item, given (bool), detail, missing (list of str)}.
    """
    v, inp = result.values, resolved.inputs
    items = [_energy(v), _binding(v), _power(v), _output(v, inp, projection), _operating_point(resolved, inp),
             _conditions(resolved, inp)]
    return [{"item": title, "given": not missing, "missing": missing, "detail": detail}
            for title, missing, detail in items]


def _energy(v: dict[str, Any]) -> Item:
    e_at, ib = v["e_tok_at_boundary_j_per_token"], v["e_tok_input_boundary"]
    missing = [] if e_at is not None and ib else ["J/token (e_tok)"]
    if e_at is not None and v["e_tok_j_per_token"] is None:
        missing.append(f"conversion from the {ib} boundary to IT")
    detail = "—"
    if e_at is not None:
        detail = f"{H.quantity(e_at, 'J/token')} at the {ib} boundary"
        if ib != "it" and v["e_tok_j_per_token"] is not None:
            detail += f"; {H.quantity(v['e_tok_j_per_token'], 'J/token')} at IT"
        if v["e_tok_facility_j_per_token"] is not None:
            detail += f"; {H.quantity(v['e_tok_facility_j_per_token'], 'J/token')} at the facility"
        detail += f" ({v['token_basis']} tokens)"
    return "J/token and its accounting boundary", missing, detail


def _binding(v: dict[str, Any]) -> Item:
    missing = [name for name, x in (("binding constraint", v["binding"]), ("γ", v["gamma_j_per_flop"]),
                                    ("γ*", v["gamma_star_j_per_flop"]), ("K_eff convention", v["k_eff_convention"]))
               if x is None]
    detail = "—"
    if v["binding"] is not None:
        rel = {"compute": "<", "power": ">", "balanced": "≈"}[v["binding"]]
        detail = (f"{v['binding']}-bound: γ = {H.quantity(v['gamma_j_per_flop'], 'J/FLOP')} {rel} "
                  f"γ* = {H.quantity(v['gamma_star_j_per_flop'], 'J/FLOP')} ({v['k_eff_convention']} K_eff)")
        if v["binding_peak"] is not None:
            detail += (f"; under the peak denominator {v['binding_peak']}-bound "
                       f"(γ*_peak = {H.quantity(v['gamma_star_peak_j_per_flop'], 'J/FLOP')})")
    return "Active binding constraint, γ and γ*, K_eff convention", missing, detail


def _power(v: dict[str, Any]) -> Item:
    missing = [name for name, x in (("P_facility", v["p_facility_w"]), ("PUE", v["pue"]), ("P_IT", v["p_it_w"]))
               if x is None]
    detail = (f"P_facility {H.quantity(v['p_facility_w'], 'W')}, PUE {H.quantity(v['pue'], '1')}, "
              f"P_IT {H.quantity(v['p_it_w'], 'W')}")
    return "PUE-adjusted delivered power", missing, detail


def _output(v: dict[str, Any], inp: Any, proj: Any = None) -> Item:
    missing = []
    if "utilization" not in inp.provenance:
        missing.append("U (not given; U = 1 assumed)")
    if v["token_rate_tokens_per_s"] is None:
        missing.append("realized rate Q̇")
    total = proj.totals.get("tokens_total") if proj is not None else None
    if v["tokens_total"] is None and total is None:
        missing.append("Q(T) (no horizon)" if v["horizon_s"] is None else "Q(T)")
    rate = f"U = {H.percent(v['utilization'])}, Q̇ = {H.quantity(v['token_rate_tokens_per_s'], 'token/s')}"
    if total is None:
        return "Utilization-adjusted token output", missing, (
            f"{rate}, Q(T) = {H.count(v['tokens_total'])} tokens over {H.duration(v['horizon_s'])}")
    detail = (f"{rate} at the start; Q(T) = {H.count(total)} tokens over {H.duration(proj.horizon_s)} "
              f"with the scenario's trajectories ({H.count(v['tokens_total'])} at constant inputs)")
    return "Utilization-adjusted token output", missing, detail


def _operating_point(resolved: Any, inp: Any) -> Item:
    missing = []
    if not inp.quality:
        missing.append("quality targets q*")
    else:
        untol = sorted(b for b, (_, tol) in inp.quality.items() if tol is None)
        if untol:
            missing.append("tolerance for " + ", ".join(untol))
    wl = resolved.workload
    ttft = wl.get("service.ttft") if wl is not None else None
    if inp.tpot_slo is None and ttft is None:
        missing.append("latency SLO s*")
    parts = [f"{b} {H.sig(s)}" + ("" if t is None else f" ± {H.sig(t)}") for b, (s, t) in sorted(inp.quality.items())]
    if inp.tpot_slo is not None:
        parts.append(f"TPOT ≤ {H.ms(inp.tpot_slo)}")
    if ttft is not None:
        parts.append(f"TTFT ≤ {H.ms(ttft)}")
    return "Operating point (q*, s*)", missing, "; ".join(parts) or "—"


def _conditions(resolved: Any, inp: Any) -> Item:
    prov = inp.provenance
    missing = [name for name, x in (("hardware", resolved.hardware or inp.peak_flops or inp.k_eff),
                                    ("device count", inp.devices), ("precision", inp.precision),
                                    ("batch size", inp.batch_size), ("context length", inp.context_length),
                                    ("prefill/decode split", inp.prefill_share)) if x is None]
    unsourced = sorted(k for k, p in prov.items() if not p.origin.sourced)
    if unsourced:
        missing.append("source of " + ", ".join(unsourced))
    hw = resolved.hardware
    detail = ", ".join(x for x in (
        f"{inp.devices:,} × {hw.name}" if hw is not None and inp.devices is not None else None,
        inp.precision, None if inp.batch_size is None else f"batch {inp.batch_size:,}",
        None if inp.context_length is None else f"context {inp.context_length:,}",
        None if inp.prefill_share is None else f"prefill share {H.percent(inp.prefill_share)}",
    ) if x) or "—"
    detail += f"; {len(prov) - len(unsourced)} of {len(prov)} inputs carry a source"
    return "Measurement conditions and the source of every number", missing, detail
