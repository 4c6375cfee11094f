"""A disaggregated deployment: one fleet prefills the prompts, another decodes (docs/model.md §5.2).

The scenario is the decode fleet; its `prefill_fleet` names the scenario of the prefill fleet, whose
tokens are prompt tokens. Each fleet is one evaluation of the core (its own devices, power, PUE and
utilization); a request needs `n_in` prefill tokens and `n_out` decode tokens, so

    ceilings [request/s]:  prefill  Q̇_K,pre / n_in,  Q̇_P,pre / n_in      decode  Q̇_K,dec / n_out,  Q̇_P,dec / n_out
    realized requests/s  = min(U_pre · min(prefill ceilings), U_dec · min(decode ceilings))
    E_request (IT)       = n_in · e_tok,pre + n_out · e_tok,dec      (facility: each fleet's PUE)

and the binding constraint is the lowest of the four ceilings (fleet and constraint).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core import Result
from ..core import estimate as core_estimate
from ..errors import InputError, TokencalcError
from ..resolve.scenario import Request, Resolved, resolve

CEILINGS = (("prefill", "compute"), ("prefill", "power"), ("decode", "compute"), ("decode", "power"))


@dataclass
class Disaggregated:
    """The two fleets' results and the deployment's figures per request."""

    prefill_scenario: str
    prefill: Result
    decode: Result
    values: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"prefill_scenario": self.prefill_scenario, **self.values}


def prefill_ref(resolved: Resolved) -> str | None:
    """The scenario's `prefill_fleet`, a path relative to the scenario's folder (None: not disaggregated).

    Resolution marks the decode fleet's inputs `prefill_elsewhere` (no prefill term in c_tok or the step), so
    every command sees the same decode fleet."""
    sc = resolved.scenario
    ref = None if sc is None else sc.get("prefill_fleet")
    if ref is None or not ref.endswith(".toml") or sc.file is None or Path(ref).is_absolute():
        return ref
    return str(Path(sc.file).parent / ref)


def disaggregate(resolved: Resolved, decode: Result, request: Request) -> Disaggregated | None:
    """Evaluate the prefill fleet and combine it with the decode fleet (None when the scenario is not disaggregated)."""
    ref = prefill_ref(resolved)
    if ref is None:
        return None
    try:
        pre_resolved = resolve(Request(scenario=ref, profile_dirs=list(request.profile_dirs)))
    except TokencalcError as exc:
        raise type(exc)(f"prefill_fleet {sc_ref(resolved)!r}: {exc}") from None
    if prefill_ref(pre_resolved) is not None:
        raise InputError(f"prefill_fleet {ref!r} is itself disaggregated (it names a prefill_fleet): name a scenario "
                         "of one fleet")
    return Disaggregated(ref, (pre := core_estimate(pre_resolved.inputs)), decode, combine(pre, decode))


def combine(pre: Result, dec: Result) -> dict[str, Any]:
    """The deployment's request ceilings, realized rate, binding fleet and energy per request."""
    n_in, n_out = dec.values["input_tokens_per_request"], dec.values["output_tokens_per_request"]
    if n_in is None or n_out is None:
        raise InputError("a disaggregated deployment (prefill_fleet) needs input_tokens and output_tokens on the "
                         "decode scenario (or one of them and input_output_ratio)")
    per = {"prefill": (pre, n_in), "decode": (dec, n_out)}
    ceilings = {f"{fleet}_{kind}_ceiling_requests_per_s": _div(per[fleet][0].values[f"{kind}_ceiling_tokens_per_s"],
                                                               per[fleet][1]) for fleet, kind in CEILINGS}
    known = {k: v for k, v in ceilings.items() if v is not None}
    binding = min(known, key=known.get).removesuffix("_ceiling_requests_per_s") if len(known) == 4 else None
    realized = None
    rates = [_div(r.values["token_rate_tokens_per_s"], n) for r, n in per.values()]
    if all(x is not None for x in rates):
        realized = min(rates)
    e_pre, e_dec = pre.values["e_tok_j_per_token"], dec.values["e_tok_j_per_token"]
    e_it = n_in * e_pre + n_out * e_dec if e_pre is not None and e_dec is not None else None
    f_pre, f_dec = pre.values["e_tok_facility_j_per_token"], dec.values["e_tok_facility_j_per_token"]
    e_fac = n_in * f_pre + n_out * f_dec if f_pre is not None and f_dec is not None else None
    p = [r.values["p_facility_w"] for r in (pre, dec)]
    return {"input_tokens_per_request": n_in, "output_tokens_per_request": n_out, **ceilings,
            "binding": binding, "requests_per_s": realized,
            "energy_per_request_it_j": e_it, "energy_per_request_j": e_fac,
            "prefill_energy_share": n_in * e_pre / e_it if e_it else None,
            "p_facility_w": p[0] + p[1] if None not in p else None}


def sc_ref(resolved: Resolved) -> str:
    return resolved.scenario.get("prefill_fleet") if resolved.scenario is not None else ""


def _div(x: Any, n: Any) -> Any:
    return None if x is None else x / n
