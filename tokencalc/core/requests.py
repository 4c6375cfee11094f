"""Requests: input and output tokens, energy per request and the ceilings in requests/s (docs/model.md §5.2).

A request carries `n_in` prompt tokens (prefill) and `n_out` generated tokens (decode). On the output
basis one token is one output token, and e_tok already carries its share ρ = n_in / n_out of prefill
(measurements divide all energy by output tokens; the serving model amortises prefill the same way), so

    E_request = e_tok · n_basis          n_basis = n_out (output basis) or n_in + n_out (total basis)
              = n_in · e_in + n_out · e_out
    e_in  = s · E_request / n_in         e_out = (1 − s) · E_request / n_out

where s is the prefill share of the energy: declared (`prefill_share`, after the levers that act on one
phase) or modeled (the serving model's prefill time share of a step, both phases at the step's power).
Rates divide by n_basis: requests/s = Q̇ / n_basis, and likewise each ceiling.
"""

from __future__ import annotations

from typing import Any

from .arith import is_array, known


def io_ratio(d: Any) -> Any:
    """Input tokens per output token ρ: declared, or n_in / n_out from tokens per request (None: unknown)."""
    if d.input_output_ratio is not None:
        return d.input_output_ratio
    if known(d.input_tokens, d.output_tokens):
        return d.input_tokens / d.output_tokens
    return None


def per_request(d: Any) -> tuple[Any, Any]:
    """(n_in, n_out) tokens per request: given, or one of them from the other and ρ (None where unknown)."""
    n_in, n_out, rho = d.input_tokens, d.output_tokens, d.input_output_ratio
    if n_out is None and known(n_in, rho) and rho > 0:
        n_out = n_in / rho
    if n_in is None and known(n_out, rho):
        n_in = n_out * rho
    return n_in, n_out


def prefill_energy_share(d: Any, r: dict[str, Any], f_e_prefill: Any) -> tuple[Any, str | None]:
    """(s, how it is known): the share of a request's energy spent in prefill, after the levers."""
    if d.prefill_share is not None:
        s = d.prefill_share
        if f_e_prefill is not None and r["phi_e"] is not None:
            s = s * f_e_prefill * r["phi_e"]  # prefill's lever product over the whole token's (phi_e = 1/f_e)
        return s, "declared prefill_share"
    step = r.get("serving")
    if step is not None and r["e_tok_origin"] is not None and known(step.t_prefill, step.itl_s):
        t_pre = step.t_prefill
        if isinstance(t_pre, float) and t_pre <= 0.0:
            return None, None
        return t_pre / (step.itl_s + t_pre), "modeled: the serving model's prefill time share, equal power"
    return None, None


def requests(d: Any, r: dict[str, Any], rate: Any, qk: Any, qp: Any, e_tok: Any, pue: Any,
             f_e_prefill: Any = None) -> dict[str, Any]:
    """Tokens per request, requests/s (realized and both ceilings), energy per request and its split."""
    n_in, n_out = per_request(d)
    out: dict[str, Any] = dict.fromkeys((
        "input_tokens_per_request", "output_tokens_per_request", "requests_rate", "compute_ceiling_requests",
        "power_ceiling_requests", "energy_per_request_it", "energy_per_request", "energy_per_request_all_in",
        "e_tok_input", "e_tok_output", "prefill_energy_share"))
    out["e_tok_split"] = None
    if n_out is None:
        return out
    n_basis = n_out if d.token_basis == "output" else (n_in + n_out if n_in is not None else None)
    out.update(input_tokens_per_request=n_in, output_tokens_per_request=n_out)
    if n_basis is None:
        return out
    per = {"requests_rate": rate, "compute_ceiling_requests": qk, "power_ceiling_requests": qp}
    out.update({k: v / n_basis if v is not None else None for k, v in per.items()})
    if e_tok is None:
        return out
    e_req = e_tok * n_basis
    out["energy_per_request_it"] = e_req
    out["energy_per_request"] = e_req * pue if pue is not None else None
    out["energy_per_request_all_in"] = _all_in(r, out["requests_rate"], pue)
    s, how = prefill_energy_share(d, r, f_e_prefill)
    if s is not None and n_in is not None and (is_array(n_in) or n_in > 0):
        out.update(prefill_energy_share=s, e_tok_split=how, e_tok_input=s * e_req / n_in,
                   e_tok_output=(1.0 - s) * e_req / n_out)
    return out


def _all_in(r: dict[str, Any], requests_rate: Any, pue: Any) -> Any:
    """Facility energy per request with the idle capacity's share: average facility power / requests/s."""
    it_power = r.get("it_power")
    if not known(it_power, requests_rate, pue) or r.get("idle_power_it") is None:
        return None
    return it_power * pue / requests_rate
