"""Cost and impact: capital, operating and energy cost, embodied carbon and water (docs/model.md §8.1).

Every term is a rate (per second) at the operating point, so `project` integrates it like energy and an
estimate multiplies it by the horizon:

    energy   = P_facility,avg · π                         (the electricity bill, idle capacity included)
    capex    = N · price / lifetime                       owned devices, straight-line
             + capex_per_kW · P_IT / facility_lifetime    the data center's share
    opex     = opex_per_kW · P_IT                         the data center's non-energy operating cost
    cost     = energy + capex + opex                      owned (cost per million tokens = cost / Q̇ · 1e6)
             = N · hourly_price                           rented: the rental is all-in (power, building)
    embodied = N · embodied_carbon / lifetime             (manufacturing emissions, amortised)
    water    = P_IT,avg · WUE + P_facility,avg · WI_grid   (on site + in generating the electricity)

A part whose inputs are not given is not counted (None, with a note); the total needs the energy part.
"""

from __future__ import annotations

from typing import Any

from .arith import known

PARTS = ("energy_cost", "capex_devices", "capex_facility", "opex_devices", "opex_facility")


def ownership(d: Any) -> str | None:
    """"owned" or "rented": declared; else owned when a device price is known; else rented when an hourly price
    was asked for above the hardware profile (a flag, the scenario or --set). A hardware profile's listed hourly
    price alone does not make a deployment rented: the scenario says whether it rents."""
    if d.ownership is not None:
        return d.ownership
    if d.device_price is not None:
        return "owned"
    p = d.provenance.get("device_hourly_price")
    if d.device_hourly_price is not None and (p is None or p.origin.layer != "profile"):
        return "rented"
    return None


def cost_rates(d: Any, r: dict[str, Any]) -> dict[str, Any]:
    """The parts of the cost rate [USD/s] (None where not given)."""
    n, p_it, own = d.devices, r["p_it"], ownership(d)
    price = d.electricity_price
    fac = r["facility_power"]
    return {
        "energy_cost": fac * price if known(fac, price) else None,
        "capex_devices": (n * d.device_price / d.lifetime
                          if own == "owned" and known(n, d.device_price, d.lifetime) else None),
        "capex_facility": (d.capex_per_it_power * p_it / d.facility_lifetime
                           if known(d.capex_per_it_power, p_it, d.facility_lifetime) else None),
        "opex_devices": n * d.device_hourly_price if own == "rented" and known(n, d.device_hourly_price) else None,
        "opex_facility": d.opex_per_it_power * p_it if known(d.opex_per_it_power, p_it) else None,
    }


def _sum(*xs: Any) -> Any:
    present = [x for x in xs if x is not None]
    if not present:
        return None
    out = present[0]
    for x in present[1:]:
        out = out + x
    return out


def costs(d: Any, r: dict[str, Any]) -> dict[str, Any]:
    """Cost, embodied carbon and water: rates, totals over the horizon (constant inputs) and per token."""
    parts = cost_rates(d, r)
    capex = _sum(parts["capex_devices"], parts["capex_facility"])
    opex = _sum(parts["opex_devices"], parts["opex_facility"])
    if ownership(d) == "rented":
        # A rental price is all-in: the provider's power and building are in it. The energy and facility parts
        # stay visible for reference but are not added (they would be paid twice).
        total = parts["opex_devices"]
        capex, opex = None, parts["opex_devices"]
    else:
        total = _sum(parts["energy_cost"], capex, opex) if parts["energy_cost"] is not None else None
    rate, horizon = r["token_rate"], d.horizon
    out: dict[str, Any] = {"energy_cost_rate": parts["energy_cost"], "capex_rate": capex, "opex_rate": opex,
                           "cost_rate": total, "ownership": ownership(d), **{f"{k}_rate": v for k, v in parts.items()
                                                                             if k != "energy_cost"}}
    per_m = {"cost_per_million_tokens": total, "cost_per_million_tokens_energy": parts["energy_cost"],
             "cost_per_million_tokens_capex": capex, "cost_per_million_tokens_opex": opex}
    out.update({k: _per(v, rate, 1e6) for k, v in per_m.items()})
    if out["cost_per_million_tokens"] is None and capex is None and opex is None and known(r["e_tok_facility"], d.electricity_price):
        out["cost_per_million_tokens"] = r["e_tok_facility"] * d.electricity_price * 1e6  # marginal, no rate needed
        out["cost_per_million_tokens_energy"] = out["cost_per_million_tokens"]
    embodied = (d.devices * d.embodied_carbon / d.lifetime
                if known(d.devices, d.embodied_carbon, d.lifetime) else None)
    water = _sum(r["it_power"] * d.wue if known(r["it_power"], d.wue) else None,
                 r["facility_power"] * d.grid_water_intensity if known(r["facility_power"], d.grid_water_intensity)
                 else None)
    out.update({"embodied_rate": embodied, "water_rate": water,
                "embodied_per_token": _per(embodied, rate), "water_per_token": _per(water, rate),
                "water_per_request": _per(water, r.get("requests_rate"))})
    for key in ("energy_cost", "capex", "opex", "cost", "embodied", "water"):
        v = out[f"{key}_rate"]
        out[key if key != "embodied" else "embodied_total"] = v * horizon if known(v, horizon) else None
    return out


def _per(v: Any, rate: Any, scale: float = 1.0) -> Any:
    """v per unit of rate (None when either is unknown or a scalar rate is zero: nothing is produced)."""
    if v is None or rate is None or (isinstance(rate, (int, float)) and rate == 0):
        return None
    return v / rate * scale
