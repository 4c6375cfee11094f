"""What every text format of an estimate shows: the one-sentence finding and the summary rows."""

from __future__ import annotations

from typing import Any

from ..core import Result
from ..core import fields as F
from . import humanize as H


def finding(result: Result) -> str:
    """The one-sentence finding: which constraint binds and what the other could sustain."""
    v = result.values
    b, qk, qp = v["binding"], v["compute_ceiling_tokens_per_s"], v["power_ceiling_tokens_per_s"]
    conv = v["k_eff_convention"] or "?"
    if b == "power":
        return (f"Power-bound ({conv} K_eff): delivered power limits output to {H.si(qp, 'token/s')}; "
                f"compute could sustain {H.si(qk, 'token/s')}.")
    if b == "compute":
        return (f"Compute-bound ({conv} K_eff): effective compute limits output to {H.si(qk, 'token/s')}; "
                f"delivered power could sustain {H.si(qp, 'token/s')}.")
    if b == "balanced":
        return (f"Balanced: compute ({H.si(qk, 'token/s')}) and delivered power ({H.si(qp, 'token/s')}) "
                f"are within {H.percent(v['binding_tolerance'])} of each other.")
    return "Binding constraint unknown: " + ("no compute ceiling" if qk is None else "no power ceiling") + " (see notes)."


# (section, JSON key) of the summary every text format shows; labels and units from the output-field registry.
SUMMARY = (
    ("Ceilings", "compute_ceiling_tokens_per_s"), ("Ceilings", "power_ceiling_tokens_per_s"),
    ("Ceilings", "token_rate_tokens_per_s"), ("Ceilings", "binding"), ("Ceilings", "binding_peak"),
    ("Crossover", "gamma_j_per_flop"), ("Crossover", "gamma_star_j_per_flop"), ("Crossover", "gamma_star_peak_j_per_flop"),
    ("Inputs", "k_eff_flop_per_s"), ("Inputs", "k_peak_flop_per_s"), ("Inputs", "c_tok_flop_per_token"),
    ("Inputs", "e_tok_j_per_token"), ("Inputs", "p_facility_w"), ("Inputs", "pue"), ("Inputs", "p_it_w"),
    ("Inputs", "utilization"), ("Inputs", "phi_c"), ("Inputs", "eta_k"), ("Inputs", "eta_e"),
    ("Horizon", "horizon_s"), ("Horizon", "tokens_total"), ("Horizon", "energy_it_j"), ("Horizon", "energy_idle_it_j"),
    ("Horizon", "energy_facility_j"), ("Horizon", "cost_usd"), ("Horizon", "emissions_kg_co2e"),
    ("Horizon", "cost_usd_per_million_tokens"),
    *(("Requests", k) for k in ("input_tokens_per_request", "output_tokens_per_request", "requests_per_s",
                                "compute_ceiling_requests_per_s", "power_ceiling_requests_per_s",
                                "e_tok_input_j_per_token", "e_tok_output_j_per_token", "energy_per_request_it_j",
                                "energy_per_request_j", "energy_per_request_all_in_j")),
    *(("Cost and impact", k) for k in ("ownership", "energy_cost_usd", "capex_usd", "opex_usd",
                                       "cost_usd_per_million_tokens_energy", "cost_usd_per_million_tokens_capex",
                                       "cost_usd_per_million_tokens_opex", "embodied_kg_co2e",
                                       "embodied_g_co2e_per_token", "water_l", "water_ml_per_token",
                                       "water_ml_per_request")),
)
FRACTIONS = {"utilization", "eta_k", "eta_e"}
# Rows shown only when known: idle capacity and requests are optional parts of a scenario.
OPTIONAL = {"energy_idle_it_j"} | {k for s, k in SUMMARY if s in ("Requests", "Cost and impact")}
BILL_ONLY = {"energy_cost_usd", "cost_usd_per_million_tokens_energy"}
BOUNDARY_NAMES = {"accelerator": "accelerator", "node": "node", "rack": "rack", "it": "IT", "facility": "facility"}


def summary_rows(result: Result) -> list[tuple[str, str, str, Any, str]]:
    """(section, quantity, human value, SI value, SI unit) rows shared by the text formats."""
    v = result.values
    conv = v["k_eff_convention"] or "—"
    rows = []
    for section, key in SUMMARY:
        f = F.field(key)
        x, label, human = v[key], f.label, None
        if key in OPTIONAL and x is None or key in BILL_ONLY and v["capex_usd"] is None and v["opex_usd"] is None:
            continue  # optional parts not given; the bill alone is already in the horizon rows
        if key == "binding":
            label, human = f"Binding constraint ({conv} K_eff)", x or "unknown"
        elif key == "binding_peak":
            human = x or "unknown"
        elif key == "k_eff_flop_per_s":
            label = f"K_eff ({conv})"
        elif key == "phi_c":
            label, human = "Φ_c, Φ_e (levers)", f"{H.sig(v['phi_c'])}, {H.sig(v['phi_e'])}"
        elif f.unit == "token/s":
            human = H.rate(x)
        elif key in FRACTIONS:
            human = H.percent(x)
        rows.append((section, label, H.quantity(x, f.unit) if human is None else human, x, f.unit))
    return rows + ladder_rows(result)


def ladder_rows(result: Result) -> list[tuple[str, str, str, Any, str]]:
    """The boundary ladder as summary rows: e_tok at each boundary, with the rung that reaches it."""
    j = result.to_json()
    by, rungs = j["e_tok_by_boundary"], {r["to"]: r for r in j["boundary_ladder"]}
    if by.get("it") is None:
        return []
    rows = []
    for b, x in by.items():
        r = rungs.get(b)
        how = "" if r is None else f" (×{H.sig(r['overhead'])}, {r['basis']})" if r["overhead"] is not None else ""
        rows.append(("Boundary ladder", f"e_tok at the {BOUNDARY_NAMES[b]} boundary",
                     H.quantity(x, "J/token") + (how if x is not None else ""), x, "J/token"))
    return rows
