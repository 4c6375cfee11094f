"""The output-field registry: engine key -> JSON key, SI unit and label.

One table feeds every format of every command (estimate JSON/CSV, sweep
columns, Monte Carlo percentiles, project series, tables, LaTeX and reports),
so a quantity has the same name, unit and label wherever it appears. How a
value is humanised follows from its SI unit (`tokencalc.render.humanize`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutputField:
    """One reported quantity.

    Attributes:
        json: the JSON / CSV key (unit in the name, SI values).
        engine: the key of `engine.evaluate`'s result it comes from (None: bookkeeping).
        unit: SI unit ("1" plain number, "" text or label).
        label: how tables and reports name it.
    """

    json: str
    engine: str | None
    unit: str
    label: str


_F = OutputField

# In the order of the estimate JSON object (stable: scripts and diffs rely on it).
ESTIMATE: tuple[OutputField, ...] = (
    _F("schema", None, "", "Schema"),
    _F("scenario", None, "", "Scenario"),
    _F("scenario_name", None, "", "Scenario name"),
    _F("scenario_modified_by", None, "", "Flags that change the scenario"),
    _F("binding", "binding", "", "Binding constraint"),
    _F("binding_peak", "binding_peak", "", "Binding constraint (peak K_eff)"),
    _F("compute_ceiling_tokens_per_s", "compute_ceiling", "token/s", "Compute ceiling K_eff / c_tok"),
    _F("power_ceiling_tokens_per_s", "power_ceiling", "token/s", "Power ceiling P_IT / e_tok"),
    _F("token_rate_tokens_per_s", "token_rate", "token/s", "Realized rate U · min(...)"),
    _F("gamma_j_per_flop", "gamma", "J/FLOP", "γ = e_tok / c_tok"),
    _F("gamma_star_j_per_flop", "gamma_star", "J/FLOP", "γ* = P_IT / K_eff"),
    _F("gamma_star_peak_j_per_flop", "gamma_star_peak", "J/FLOP", "γ*_peak = P_IT / K_peak"),
    _F("k_eff_flop_per_s", "k_eff", "FLOP/s", "K_eff"),
    _F("k_peak_flop_per_s", "k_peak", "FLOP/s", "K_peak"),
    _F("c_tok_flop_per_token", "c_tok", "FLOP/token", "c_tok"),
    _F("e_tok_j_per_token", "e_tok", "J/token", "e_tok (IT boundary)"),
    _F("e_tok_boundary", None, "", "e_tok boundary"),
    _F("p_facility_w", "p_facility", "W", "P_facility"),
    _F("pue", "pue", "1", "PUE"),
    _F("p_it_w", "p_it", "W", "P_IT"),
    _F("utilization", "utilization", "1", "Utilization U"),
    _F("phi_c", "phi_c", "1", "Φ_c (levers)"),
    _F("phi_e", "phi_e", "1", "Φ_e (levers)"),
    _F("horizon_s", "horizon", "s", "Horizon T"),
    _F("tokens_total", "tokens_total", "token", "Tokens Q(T)"),
    _F("energy_it_j", "energy_it", "J", "IT energy"),
    _F("energy_facility_j", "energy_facility", "J", "Facility energy"),
    _F("cost_usd", "cost", "USD", "Cost (energy + capex + opex)"),
    _F("emissions_kg_co2e", "emissions", "kgCO2e", "Emissions"),
    _F("k_eff_convention", "k_eff_convention", "", "K_eff convention"),
    _F("k_eff_limited_by", None, "", "K_eff limited by"),
    _F("k_eff_roofline_flop_per_s", "k_eff_roofline", "FLOP/s", "Serving-model bound on K_eff (decode step)"),
    _F("conventions_disagree", None, "", "Conventions disagree"),
    _F("binding_tolerance", "tolerance", "1", "Balanced band"),
    _F("ceiling_ratio", "ceiling_ratio", "1", "Q̇_K / Q̇_P"),
    _F("token_basis", None, "", "Token basis"),
    _F("e_tok_at_boundary_j_per_token", "e_tok_at_boundary", "J/token", "e_tok at its boundary"),
    _F("e_tok_input_boundary", None, "", "Boundary of the e_tok given"),
    _F("e_tok_facility_j_per_token", "e_tok_facility", "J/token", "e_tok (facility boundary)"),
    _F("e_tok_origin", "e_tok_origin", "", "e_tok origin"),
    _F("c_tok_base_flop_per_token", "c_tok_base", "FLOP/token", "c_tok before levers"),
    _F("c_tok_origin", "c_tok_origin", "", "c_tok origin"),
    _F("power_demand_at_compute_ceiling_w", "power_demand_at_compute_ceiling", "W",
       "IT power to run at the compute ceiling"),
    _F("eta_k", "eta_k", "1", "η_K = K_eff / K_peak"),
    _F("eta_e", "eta_e", "1", "η_E = e_ref / e_tok"),
    _F("devices", None, "1", "Devices"),
    _F("cost_usd_per_million_tokens", "cost_per_million_tokens", "USD", "Cost per million tokens"),
    _F("emissions_g_co2e_per_token", "emissions_per_token", "gCO2e", "Emissions per token"),
    # idle capacity (docs/model.md §5.3)
    _F("idle_power_it_w", "idle_power_it", "W", "IT power of idle capacity (1 − U) N P_idle"),
    _F("energy_idle_it_j", "energy_idle_it", "J", "IT energy of idle capacity (in IT energy)"),
    # requests: input and output tokens (docs/model.md §5.2)
    _F("input_tokens_per_request", "input_tokens_per_request", "token", "Input tokens per request"),
    _F("output_tokens_per_request", "output_tokens_per_request", "token", "Output tokens per request"),
    _F("requests_per_s", "requests_rate", "request/s", "Realized request rate"),
    _F("compute_ceiling_requests_per_s", "compute_ceiling_requests", "request/s", "Compute ceiling (requests)"),
    _F("power_ceiling_requests_per_s", "power_ceiling_requests", "request/s", "Power ceiling (requests)"),
    _F("e_tok_input_j_per_token", "e_tok_input", "J/token", "e_in per input token (IT, prefill)"),
    _F("e_tok_output_j_per_token", "e_tok_output", "J/token", "e_out per output token (IT, decode)"),
    _F("e_tok_split", "e_tok_split", "", "Prefill/decode energy split from"),
    _F("prefill_energy_share", "prefill_energy_share", "1", "Prefill share of request energy"),
    _F("energy_per_request_it_j", "energy_per_request_it", "J", "Energy per request (IT)"),
    _F("energy_per_request_j", "energy_per_request", "J", "Energy per request (facility)"),
    _F("energy_per_request_all_in_j", "energy_per_request_all_in", "J",
       "Energy per request with idle capacity (facility)"),
    # cost and impact (docs/model.md §8.1)
    _F("ownership", "ownership", "", "Hardware owned or rented"),
    _F("energy_cost_usd", "energy_cost", "USD", "Electricity cost"),
    _F("capex_usd", "capex", "USD", "Capital cost, amortised"),
    _F("opex_usd", "opex", "USD", "Operating cost besides energy"),
    _F("cost_usd_per_million_tokens_energy", "cost_per_million_tokens_energy", "USD", "Cost per million tokens: electricity"),
    _F("cost_usd_per_million_tokens_capex", "cost_per_million_tokens_capex", "USD", "Cost per million tokens: capital"),
    _F("cost_usd_per_million_tokens_opex", "cost_per_million_tokens_opex", "USD", "Cost per million tokens: operating"),
    _F("embodied_kg_co2e", "embodied_total", "kgCO2e", "Embodied emissions, amortised"),
    _F("embodied_g_co2e_per_token", "embodied_per_token", "gCO2e", "Embodied emissions per token"),
    _F("water_l", "water", "L", "Water (on site + electricity generation)"),
    _F("water_ml_per_token", "water_per_token", "mL", "Water per token"),
    _F("water_ml_per_request", "water_per_request", "mL", "Water per request"),
)

# The columns that hold the binding classifier's codes (labels in output). Not every key starting with
# "binding": `binding_tolerance` is a number.
BINDING_LABELS = ("binding", "binding_peak")

BY_JSON = {f.json: f for f in ESTIMATE}
BY_ENGINE = {f.engine: f for f in ESTIMATE if f.engine is not None}


def field(json_key: str) -> OutputField:
    """The registry entry of a JSON key."""
    return BY_JSON[json_key]


def is_binding_label(key: str) -> bool:
    """True for a column holding binding codes or labels ("binding", "binding_peak")."""
    return key in BINDING_LABELS


def json_key(engine_key: str) -> str:
    """The JSON key of an engine key."""
    return BY_ENGINE[engine_key].json
