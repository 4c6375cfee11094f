"""Derived inputs: one declared table, evaluated inside the core at every evaluation.

Each :class:`Derivation` names the input it fills (or converts), the inputs it
reads and its rule (docs/model.md §6). Because the engine applies the table on
every call, a range or a trajectory on a source input (a board power, a token
ratio, a parameter count) moves what is derived from it, and no other module
re-derives anything. Provenance of a derived value is structured
(`Origin(layer="derived", rule=..., reads=...)`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

from ..errors import InputError
from . import ladder
from .arith import known
from .inputs import Inputs, Origin, Provenance
from .requests import io_ratio


@dataclass(frozen=True)
class Derivation:
    """One derived input.

    Attributes:
        target: the `Inputs` field it fills (or, for a conversion, rewrites).
        reads: the fields the rule reads.
        rule: the rule in words, as provenance shows it.
        unit: SI unit of the target.
        applies: whether the rule fires for these inputs (never on array values, so
            the decision is the same at every point of a sweep or sample).
        compute: the derived value (floats or arrays).
        conversion: True when it rewrites a given value instead of filling a missing one.
    """

    target: str
    reads: tuple[str, ...]
    rule: str
    unit: str
    applies: Callable[[Inputs], bool]
    compute: Callable[[Inputs], Any]
    conversion: bool = False


def kaplan_c_tok(active_params: Any, n_layers: Any, context_length: Any, d_attn: Any) -> Any:
    """Forward FLOPs per token, c ≈ 2·N_active + 2·n_layers·n_ctx·d_attn (Kaplan et al. 2020)."""
    return 2.0 * active_params + 2.0 * n_layers * context_length * d_attn


def c_tok_on_basis(i: Inputs) -> Any:
    """c_tok per token of the declared basis: a decode token at n_ctx plus, per output token, its ρ prompt tokens'
    prefill at half the prompt's length on average (the serving model's prefill term, docs/model.md §5.2).

    Without a declared input/output ratio (or tokens per request) the decode token alone, as before."""
    c_dec = kaplan_c_tok(i.active_params, i.n_layers, i.context_length, i.d_attn)
    rho = None if i.prefill_elsewhere else io_ratio(i)
    if rho is None:
        return c_dec
    n_pre = i.input_tokens / 2.0 if i.input_tokens is not None else i.context_length
    per_output = c_dec + rho * kaplan_c_tok(i.active_params, i.n_layers, n_pre, i.d_attn)
    return per_output if i.token_basis == "output" else per_output / (1.0 + rho)


def basis_scale(inp: Inputs, measured_basis: str) -> Any:
    """Factor from a figure per `measured_basis` token to one per `inp.token_basis` token (e_tok; 1/x for rates)."""
    rho = io_ratio(inp)
    if rho is None:
        raise InputError(f"token bases differ: the workload's measurements count {measured_basis} tokens, the "
                         f"scenario counts {inp.token_basis} tokens; declare operating_point.input_output_ratio "
                         "(or --input-output-ratio) to convert")
    per_output = 1.0 + rho  # total tokens per output token
    return per_output if inp.token_basis == "output" else 1.0 / per_output


def _converts(basis_field: str, value_field: str) -> Callable[[Inputs], bool]:
    def applies(inp: Inputs) -> bool:
        basis = getattr(inp, basis_field)
        return basis is not None and basis != inp.token_basis and getattr(inp, value_field) is not None
    return applies


DERIVATIONS: tuple[Derivation, ...] = (
    Derivation("e_tok", ("e_tok", "e_tok_basis", "token_basis", "input_output_ratio", "input_tokens", "output_tokens"),
               "token-basis conversion of a measured e_tok", "J/token",
               _converts("e_tok_basis", "e_tok"), lambda i: i.e_tok * basis_scale(i, i.e_tok_basis), conversion=True),
    Derivation("throughput_per_device", ("throughput_per_device", "throughput_basis", "token_basis", "input_output_ratio",
                                         "input_tokens", "output_tokens"),
               "token-basis conversion of a measured throughput", "token/s",
               _converts("throughput_basis", "throughput_per_device"),
               lambda i: i.throughput_per_device / basis_scale(i, i.throughput_basis), conversion=True),
    Derivation("c_tok", ("active_params", "n_layers", "context_length", "d_attn", "input_output_ratio", "input_tokens",
                         "output_tokens", "token_basis"),
               "2·N_active + 2·n_layers·n_ctx·d_attn (Kaplan et al. 2020), per token of the declared basis", "FLOP/token",
               lambda i: i.c_tok is None and known(i.active_params, i.n_layers, i.d_attn, i.context_length),
               lambda i: c_tok_on_basis(i)),
    Derivation("weight_bytes", ("total_params", "active_params", "bytes_per_param"), "total params × bytes per param", "B",
               lambda i: i.weight_bytes is None and i.bytes_per_param is not None
               and (i.total_params is not None or i.active_params is not None),
               lambda i: (i.total_params if i.total_params is not None else i.active_params) * i.bytes_per_param),
    Derivation("it_overhead", ("server_power_per_device", "tdp", "node_overhead", "rack_overhead", "fabric_overhead"),
               "node × rack × fabric overhead (the boundary ladder)", "1",
               lambda i: i.it_overhead is None and i.e_tok_boundary in ("accelerator", "node", "rack")
               and ladder.to_it(i, i.e_tok_boundary) is not None,
               lambda i: ladder.to_it(i, i.e_tok_boundary)),
    # An hourly series gives the mean over the horizon: facility power is constant at one operating
    # point, so cost = E_facility · mean price exactly (docs/model.md §8.2); `project` integrates the hours.
    *(Derivation(key, (field, "horizon"), "mean of the hourly series over the horizon", unit,
                 lambda i, f=field, k=key: getattr(i, f) is not None and getattr(i, k) is None and i.horizon is not None,
                 lambda i, f=field: getattr(i, f).mean(0.0, i.horizon))
      for key, field, unit in (("electricity_price", "electricity_price_series", "USD/J"),
                               ("carbon_intensity", "carbon_intensity_series", "kgCO2e/J"))),
)

BY_TARGET = {d.target: d for d in DERIVATIONS}


def derive(inp: Inputs) -> tuple[Inputs, tuple[str, ...]]:
    """Apply every derivation that fires.

    The derivations are independent (none reads what another derives; a test checks it), so all
    are computed from the inputs as given and applied in one copy.

    Returns:
        (the inputs with derived fields filled or converted, the targets derived).
    """
    changes = {d.target: d.compute(inp) for d in DERIVATIONS if d.applies(inp)}
    return (replace(inp, **changes) if changes else inp), tuple(changes)


def readers(inp: Inputs, name: str) -> tuple[Derivation, ...]:
    """The derivations that fire for `inp` and read the field `name`."""
    return tuple(d for d in DERIVATIONS if name in d.reads and d.target != name and d.applies(inp))


def provenance(inp: Inputs, derived: Inputs, targets: tuple[str, ...]) -> dict[str, Provenance]:
    """Provenance of the derived values of one operating point (scalars)."""
    out: dict[str, Provenance] = {}
    for t in targets:
        d = BY_TARGET[t]
        value = getattr(derived, t)
        if d.conversion:
            basis = getattr(inp, "e_tok_basis" if t == "e_tok" else "throughput_basis")
            note = (f"converted from {basis} to {inp.token_basis} tokens, input:output = {io_ratio(inp):g}")
            old = inp.provenance.get(t)
            origin = replace(old.origin, note=note) if old is not None else Origin("derived", rule=d.rule, reads=d.reads)
            out[t] = Provenance(value, d.unit, origin)
            continue
        out[t] = Provenance(value, d.unit, Origin("derived", rule=d.rule, reads=d.reads, citation=_citation(inp, d)))
    return out


def _citation(inp: Inputs, d: Derivation) -> str | None:
    if d.target == "it_overhead":
        return ladder.describe(inp, inp.e_tok_boundary)
    if d.reads[0].endswith("_series"):
        return getattr(inp, d.reads[0]).describe()
    sources = dict.fromkeys(inp.provenance[r].source for r in d.reads if r in inp.provenance)
    return "; ".join(sources) if sources else None
