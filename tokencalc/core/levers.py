"""Levers (Φ_system): the gate that decides which count, and the one phase-correct product.

A lever multiplies c_tok and e_tok on its phase. With prefill share s, the factor
on the whole token is

    f = Π(both) · [ s · Π(prefill) + (1 − s) · Π(decode) ]

(docs/model.md §7); with s unknown a one-phase lever is not counted unless the
scenario allows whole-token levers (`whole_token_levers`), and its reason says so. :func:`compose` is the only place that multiplies
lever factors; every command goes through it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping

from .arith import known, product
from .inputs import Inputs, Lever


@dataclass(frozen=True)
class LeverStatus:
    """Whether a lever counts at the operating point, and why.

    Attributes:
        c_tok_factor, e_tok_factor: the lever's factors on the whole token, alone
            (its phase factor weighted by the phase share).
        phase_c_tok_factor, phase_e_tok_factor: its factors on its own phase (a
            precision lever's compute factor comes from the hardware's peaks).
    """

    id: str
    name: str
    counted: bool
    reason: str
    c_tok_factor: float
    e_tok_factor: float
    confidence: str | None
    phase: str = "both"
    phase_c_tok_factor: float = 1.0
    phase_e_tok_factor: float = 1.0


def compose(entries: Iterable[tuple[str, Any]], prefill_share: Any) -> Any:
    """The whole-token factor of (phase, factor) pairs; factors and the share may be arrays."""
    entries = list(entries)
    both = product(f for ph, f in entries if ph == "both")
    prefill = product(f for ph, f in entries if ph == "prefill")
    decode = product(f for ph, f in entries if ph == "decode")
    if prefill_share is None:
        return both * prefill * decode
    return both * (prefill_share * prefill + (1.0 - prefill_share) * decode)


def factors(statuses: Iterable[LeverStatus], prefill_share: Any,
            values: Mapping[str, Mapping[str, Any]] | None = None) -> tuple[Any, Any]:
    """(f_c, f_e): the products of the counted levers' factors on the whole token.

    Args:
        statuses: from :func:`gate`.
        prefill_share: s (float, array or None).
        values: lever id -> {"c_tok_factor"/"e_tok_factor": value} replacing a counted
            lever's phase factor (ranges and trajectories on lever factors).
    """
    values = values or {}
    counted = [s for s in statuses if s.counted]

    def one(name: str, attr: str) -> Any:
        return compose(((s.phase, values.get(s.id, {}).get(name, getattr(s, attr))) for s in counted), prefill_share)

    return one("c_tok_factor", "phase_c_tok_factor"), one("e_tok_factor", "phase_e_tok_factor")


def gate(inp: Inputs) -> list[LeverStatus]:
    """Decide for each lever whether it preserves the operating point (q*, s*).

    At the settled operating point (core/operating.py): its ITL is the TPOT the latency check reads.
    """
    from .operating import settle  # operating builds on the byte half of this gate (gate_bytes)

    inp = settle(inp)
    return [_gate_one(inp, lv) for lv in inp.levers]


def gate_bytes(inp: Inputs) -> tuple[Any, Any]:
    """(weight bytes factor, KV bytes factor): the products over the levers that count on quality,
    precision and context (latency is checked once the operating point is found) and act on decode."""
    free = replace(inp, tpot_slo=None, whole_token_levers=True)  # bytes act on the decode step: no split needed
    w: Any = 1.0
    kv: Any = 1.0
    for lv in inp.levers:
        if (lv.weight_bytes_factor == 1.0 and lv.kv_bytes_factor == 1.0) or lv.phase == "prefill":
            continue
        if _gate_one(free, lv).counted:
            w, kv = w * lv.weight_bytes_factor, kv * lv.kv_bytes_factor
    return w, kv


def _gate_one(inp: Inputs, lv: Lever) -> LeverStatus:
    if lv.min_context_length is not None and inp.context_length is not None \
            and inp.context_length < lv.min_context_length:
        return _status(inp, lv, False, f"not counted: its factors hold from {lv.min_context_length:,} tokens of "
                       f"context, this operating point has {int(inp.context_length):,}", 1.0, 1.0)
    fc, fe, why_fc = (1.0 if lv.c_tok_factor is None else lv.c_tok_factor), lv.e_tok_factor, None
    if lv.precision is not None:
        fc, why_fc, refusal = _precision_factor(inp, lv)
        if refusal is not None:
            return _status(inp, lv, False, refusal, 1.0 if lv.c_tok_factor is None else lv.c_tok_factor, fe)
    quality_problems, caveats = _quality(inp, lv)
    latency_problems, latency_caveats = _latency(inp, lv)
    problems = quality_problems + latency_problems
    if lv.min_context_length is not None and inp.context_length is None:
        caveats.append(f"holds from {lv.min_context_length:,} tokens of context; context length unknown, not checked")
    caveats += latency_caveats
    if lv.through_serving:
        caveats.append(f"acts through the serving model (bytes per weight x{lv.weight_bytes_factor:g}, KV bytes "
                       f"x{lv.kv_bytes_factor:g}); its e_tok factor is not applied on top")
    if why_fc:
        caveats.append(why_fc)
    if lv.through_serving and lv.phase != "both" and inp.prefill_share is None:
        caveats.append(f"its other factors are {lv.phase}-only and the workload declares no prefill/decode split: "
                       "not applied")
        fc, fe = 1.0, 1.0
    elif lv.phase != "both" and inp.prefill_share is None:
        if not inp.whole_token_levers:
            return _status(inp, lv, False, f"not counted: it acts on the {lv.phase} phase only and the workload "
                           "declares no prefill/decode split (set workload.operating_point.prefill_share, or count "
                           "it on the whole token with --whole-token-levers)", fc, fe)
        caveats.append(f"{lv.phase} only, applied to the whole token (no phase split; --whole-token-levers)")
    elif lv.phase != "both":
        caveats.append(f"{lv.phase} only: applied to the {lv.phase} share")
    if problems and not inp.allow_operating_point_shift:
        reason = "not comparable: " + "; ".join(problems) + " (the operating point shifts)"
        return _status(inp, lv, False, reason, fc, fe)
    if problems:
        caveats.insert(0, "counted although " + "; ".join(problems) + " (operating-point shift allowed)")
    reason = "counted: " + ("; ".join(caveats) if caveats else "within the quality tolerances and the latency SLO")
    return _status(inp, lv, True, reason, fc, fe)


def _status(inp: Inputs, lv: Lever, counted: bool, reason: str, fc: float, fe: float) -> LeverStatus:
    share = inp.prefill_share if not hasattr(inp.prefill_share, "shape") else None
    return LeverStatus(lv.id, lv.name, counted, reason, compose([(lv.phase, fc)], share),
                       compose([(lv.phase, fe)], share), lv.confidence, lv.phase, fc, fe)


def _precision_factor(inp: Inputs, lv: Lever) -> tuple[float, str | None, str | None]:
    """A precision lever's compute factor from the hardware's dense peaks: (factor, caveat, refusal)."""
    prec = lv.precision
    if inp.precision == prec:
        return 1.0, None, (f"already in the operating point: the scenario runs at {prec}, whose peak carries "
                           "this gain (counting it again would double count)")
    hw = f"hardware {inp.hardware}" if inp.hardware else "the hardware"
    if not inp.peak_table:
        return 1.0, None, (f"not counted: its compute gain is the hardware's {prec} / {inp.precision or 'operating'} "
                           "peak ratio, and no hardware profile gives the peaks (give --hardware)")
    if prec not in inp.peak_table:
        return 1.0, None, (f"not counted: {hw} lists no dense {prec} peak ({', '.join(sorted(inp.peak_table))}), "
                           f"so it has no {prec} tensor throughput to gain")
    if lv.c_tok_factor is not None:  # declared (e.g. a scenario's adoption ramp): it wins over the peaks
        return lv.c_tok_factor, f"compute factor {lv.c_tok_factor:.4g} as declared", None
    base = inp.peak_table.get(inp.precision) if inp.precision is not None else None
    base = base if base is not None else inp.peak_flops
    if base is None:
        return 1.0, None, "not counted: the operating precision's peak is unknown (give --precision)"
    fc = base / inp.peak_table[prec]
    gain = "no compute gain" if fc == 1.0 else f"compute factor {fc:.4g}"
    return fc, (f"{gain} from the dense peaks of {hw} ({inp.precision or 'given'} {base / 1e12:.6g} / "
                f"{prec} {inp.peak_table[prec] / 1e12:.6g} TFLOP/s)"), None


def _quality(inp: Inputs, lv: Lever) -> tuple[list[str], list[str]]:
    problems, caveats = [], []
    for bench, delta in sorted(lv.quality_delta.items()):
        target = inp.quality.get(bench)
        tol = target[1] if target else None
        if tol is None:
            if delta < 0:
                caveats.append(f"{bench} {delta:+g} pts not checked (no tolerance declared)")
        elif delta < -tol:
            problems.append(f"{bench} {delta:+g} pts exceeds the tolerance of {tol:g}")
    return problems, caveats


def _latency(inp: Inputs, lv: Lever) -> tuple[list[str], list[str]]:
    lf = lv.latency_factor
    if lf <= 1.0:
        return [], []
    if known(inp.tpot_measured, inp.tpot_slo):
        slowed = inp.tpot_measured * lf
        if slowed > inp.tpot_slo:
            return [f"TPOT {inp.tpot_measured * 1e3:.3g} ms x {lf:g} = {slowed * 1e3:.3g} ms breaks the "
                    f"{inp.tpot_slo * 1e3:.3g} ms SLO"], []
        return [], []
    if inp.tpot_slo is not None:
        return [], [f"latency x{lf:g} not checked (no measured TPOT)"]
    return [], []
