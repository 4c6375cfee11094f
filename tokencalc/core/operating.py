"""The operating point (q*, s*) fixes: its batch, and where its figures come from (docs/model.md §4.6).

Sources, best first: a measured curve of this workload on this hardware (`measured` at a measured
batch, `interpolated` between two), else the serving model (`modeled`, core/serving.py). A scalar
measurement of the workload (its `[measured]` throughput, e_tok, device power) or an input the user
gave directly is used as it stands, unless the user asks for another operating point (`--batch`,
an SLO flag, `--operating-point modeled`). With a latency SLO (a flag or the workload's s*) and no
fixed batch, the batch is the one that maximises tokens (or minimises J/token) with ITL within the
TPOT SLO, TTFT within its SLO and the KV cache within HBM.

:func:`settle` runs at the top of every evaluation (and of the lever gate), so estimate, sweep,
project, Monte Carlo, solve and calibrate see the same operating point. It is elementwise: a sweep
over batch or bandwidth searches every point.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import InputError
from .arith import both, is_array, known, where
from .inputs import Inputs, Origin, Provenance
from .opmodel import FIELDS_ASKED, curve_for, levers_on_bytes, model_of, point_at, replica

MODES = ("auto", "measured", "modeled")
OBJECTIVES = ("tokens", "energy")
# The search's grid: every batch to 16, then steps of 12.5 % up to the memory limit (at most MAX_BATCH),
# refined by bisection to the exact whole batch where the SLO or memory cuts.
MAX_BATCH = 8192.0
DENSE_UNTIL = 16
GRID_RATIO = 1.125
BISECTIONS = 12
# Inputs a scalar measurement or the user can give that an operating point would otherwise fill.
POINT_FIELDS = ("throughput_per_device", "e_tok", "device_power", "k_eff")


@dataclass(frozen=True)
class OperatingPoint:
    """The operating point the estimate holds at (JSON `operating_point`)."""

    batch_size: Any
    context_length: Any
    devices_per_replica: Any
    itl_s: Any
    ttft_s: Any
    throughput_per_device: Any
    device_power: Any
    e_tok_accelerator: Any
    memory_required_bytes: Any
    memory_capacity_bytes: Any
    max_batch: Any
    source: str                     # measured | interpolated | modeled
    chosen_by: str                  # workload | fixed | slo
    objective: str = "tokens"
    limiter: str | None = None
    notes: tuple[str, ...] = ()
    step: Any = field(default=None, repr=False, compare=False)  # the serving model's step at this batch
    cap: Any = field(default=None, repr=False, compare=False)   # a power cap's effect (core/powercap.py)

    def to_json(self) -> dict[str, Any]:
        """The documented `operating_point` object (SI units)."""
        from .estimate import plain

        keys = ("batch_size", "context_length", "devices_per_replica")
        out: dict[str, Any] = {k: plain(getattr(self, k)) for k in keys}
        out.update({"itl_s": plain(self.itl_s), "ttft_s": plain(self.ttft_s),
                    "throughput_per_device_tokens_per_s": plain(self.throughput_per_device),
                    "device_power_w": plain(self.device_power),
                    "e_tok_accelerator_j_per_token": plain(self.e_tok_accelerator),
                    "memory_required_bytes": plain(self.memory_required_bytes),
                    "memory_capacity_bytes": plain(self.memory_capacity_bytes),
                    "max_batch": plain(self.max_batch), "source": self.source, "chosen_by": self.chosen_by,
                    "objective": self.objective, "limited_by": self.limiter})
        return out


def settle(inp: Inputs) -> Inputs:
    """The inputs at their operating point (idempotent: settled inputs come back as they are)."""
    if inp.settled:
        return inp
    mode = inp.operating_point or "auto"
    route = _route(inp, mode)
    if route is None:
        return replace(inp, settled=True, op=_described(inp))
    curve, model = route
    search = _searches(inp)
    batch, chosen = (_search(inp, curve, model) if search else (inp.batch_size, _chosen_by(inp)))
    if batch is None:
        raise InputError("the operating point needs a batch size: give --batch (or operating_point.batch_size "
                         "in the workload), or a latency SLO (--tpot-slo) to search for one")
    p = point_at(inp, curve, model, batch, strict=not is_array(batch))
    notes = tuple(p.notes) + ((_search_note(inp),) if search else ()) + _memory_note(p.source, batch, inp, p.mem_required, p.mem_capacity)
    notes += (p.cap.note(),) if p.cap is not None else ()
    op = OperatingPoint(batch, inp.context_length, replica(inp), p.itl, p.ttft, p.throughput,
                        p.power, p.e_acc, p.mem_required, p.mem_capacity, p.max_batch, p.source, chosen,
                        inp.objective or "tokens", p.limiter, notes, p.step, p.cap)
    return _apply(inp, op, p)


def _route(inp: Inputs, mode: str) -> tuple[Any, Any] | None:
    """(measured curve or None, serving model or None) when an operating point is to be found; None to keep the inputs."""
    curve = curve_for(inp) if mode != "modeled" else None
    given = [k for k in POINT_FIELDS if getattr(inp, k) is not None]
    if mode != "modeled" and curve is None and given and (mode == "measured" or not _asked(inp)
                                                         or _user_gave(inp, given)):
        return None  # the scalar measurement or the given figures stand
    model = model_of(inp) if mode != "measured" else None
    if mode == "modeled":
        if model is None:
            raise InputError("--operating-point modeled: the serving model needs the architecture (active and "
                             "total params, bytes per param, layers, attention width, KV bytes per token), the "
                             "hardware's peak, HBM bandwidth, capacity and board power; missing: "
                             + ", ".join(_missing(inp)))
        return None, model
    if curve is not None:
        return curve, model
    return (None, model) if model is not None else None


def _asked(inp: Inputs) -> bool:
    """Whether the user asked for another operating point than the workload's (a flag, --set or a scenario key)."""
    return any(_layer(inp, k) in ("flag", "set", "scenario") for k in FIELDS_ASKED)


def _user_gave(inp: Inputs, keys: list[str]) -> bool:
    """Whether any of `keys` came from the user (a flag, --set, a scenario key) rather than a profile."""
    return any(_layer(inp, k) in ("flag", "set", "scenario") for k in keys)


def _layer(inp: Inputs, key: str) -> str | None:
    o = inp.origin(key)
    return None if o is None else o.layer


def _searches(inp: Inputs) -> bool:
    """A batch search runs under a latency SLO when the user did not fix the batch."""
    fixed = _layer(inp, "batch_size") in ("flag", "set", "scenario")
    return not fixed and (inp.tpot_slo is not None or inp.ttft_slo is not None or inp.objective is not None)


def _chosen_by(inp: Inputs) -> str:
    return "fixed" if _layer(inp, "batch_size") in ("flag", "set", "scenario") else "workload"


def _search_note(inp: Inputs) -> str:
    slo = []
    if inp.tpot_slo is not None:
        slo.append(f"ITL ≤ {_ms(inp.tpot_slo)}")
    if inp.ttft_slo is not None and inp.input_tokens is not None:
        slo.append(f"TTFT ≤ {_ms(inp.ttft_slo)}")
    what = "minimises J/token" if inp.objective == "energy" else "maximises tokens/s"
    text = f"Batch chosen by the SLO search: the one that {what} with {', '.join(slo + ['the KV cache in HBM'])}"
    if inp.ttft_slo is not None and inp.input_tokens is None:
        text += f" (the TTFT SLO of {_ms(inp.ttft_slo)} is not checked: give --input-tokens)"
    return text + "."


def _ms(seconds: Any) -> str:
    if is_array(seconds):
        return "the SLO"
    return f"{seconds * 1e3:.3g} ms" if seconds < 1.0 else f"{seconds:.3g} s"


def _grid(limit: float) -> list[float]:
    out = [float(b) for b in range(1, DENSE_UNTIL + 1)]
    while out[-1] < limit:
        out.append(float(int(out[-1] * GRID_RATIO) + 1))
    return out


def _search(inp: Inputs, curve: Any, model: Any) -> tuple[Any, str]:
    """The best feasible batch (elementwise): a grid, then bisection on the edge where feasibility ends."""
    energy = inp.objective == "energy"
    best_b: Any = 0.0
    best_s: Any = None
    for b in _grid(MAX_BATCH):
        p = point_at(inp, curve, model, b, strict=False)
        if energy and p.e_acc is None:
            raise InputError("--objective energy: the power model needs the board power, and "
                             f"{'hardware ' + inp.hardware if inp.hardware else 'the hardware'} gives none (tdp); "
                             "use --objective tokens, or give one with --set hardware.tdp=\"700 W\"")
        score = -p.e_acc if energy else p.throughput
        better = p.feasible if best_s is None else both(p.feasible, score > best_s)
        best_b = where(better, b, best_b)
        best_s = where(better, score, -1e300 if best_s is None else best_s)
    lo = best_b
    hi = where(lo > 0, lo * GRID_RATIO + 1.0, 0.0)
    for _ in range(BISECTIONS):  # the largest whole batch past the grid point that is feasible and no worse
        mid = (lo + hi) // 2.0
        p = point_at(inp, curve, model, where(mid > 0, mid, 1.0), strict=False)
        score = -p.e_acc if energy else p.throughput
        ok = both(p.feasible, score >= best_s, mid > lo)
        lo, hi = where(ok, mid, lo), where(ok, hi, mid)
        best_s = where(ok, score, best_s)
    if not is_array(lo) and lo <= 0:
        raise InputError(_infeasible(inp, curve, model))
    return (where(lo > 0, lo, 1.0) if is_array(lo) else lo), "slo"


def _infeasible(inp: Inputs, curve: Any, model: Any) -> str:
    p = point_at(inp, curve, model, 1.0, strict=False)
    if model is not None and known(p.max_batch) and p.max_batch < 1:
        from .serving import check_fits

        check_fits(model[0], model[1], replica(inp), 1, inp.context_length)  # raises: needs, has, devices
    parts = []
    if inp.tpot_slo is not None and p.itl is not None and p.itl > inp.tpot_slo:
        parts.append(f"at batch 1 the ITL is {_ms(p.itl)} against a TPOT SLO of {_ms(inp.tpot_slo)}")
    if inp.ttft_slo is not None and p.ttft is not None and p.ttft > inp.ttft_slo:
        parts.append(f"the TTFT of a {inp.input_tokens:,.0f}-token prompt is {_ms(p.ttft)} against an SLO of "
                     f"{_ms(inp.ttft_slo)}")
    if known(p.max_batch) and p.max_batch < 1:
        parts.append("not even one sequence's KV cache fits beside the weights")
    return ("no batch meets the latency SLO: " + "; ".join(parts or ["nothing is feasible"])
            + " (relax --tpot-slo / --ttft-slo, or use more --devices-per-replica)")


def _apply(inp: Inputs, op: OperatingPoint, p: Any) -> Inputs:
    """The inputs with the operating point's throughput, device power and ITL in place, with provenance."""
    origin = Origin("derived", rule=p.rule, citation=p.citation)
    prov = dict(inp.provenance)
    changes: dict[str, Any] = {"settled": True, "op": op, "batch_size": op.batch_size}
    fill = {"throughput_per_device": (p.throughput, "token/s"), "device_power": (p.power, "W"),
            "tpot_measured": (p.itl, "s")}
    for key, (value, unit) in fill.items():
        if value is None or _user_gave(inp, [key]):
            continue
        changes[key] = value
        prov[key] = Provenance(value, unit, origin)
    if "device_power" in changes and not _user_gave(inp, ["e_tok"]):
        # The operating point's power is at the accelerator boundary; e_tok follows from it (modeled e_tok).
        changes.update(e_tok=None, e_tok_boundary="accelerator", e_tok_basis=None)
        prov.pop("e_tok", None)
        prov.pop("e_tok_boundary", None)
    if _user_gave(inp, ["k_eff"]) is False and inp.k_eff is not None:
        changes["k_eff"] = None
        prov.pop("k_eff", None)
    changes["throughput_basis"] = None if inp.token_basis == "output" else "output"
    if op.chosen_by == "slo":
        prov["batch_size"] = Provenance(op.batch_size, "1", Origin("derived", rule=op.notes[-1]))
    changes["provenance"] = prov
    if op.source == "modeled":  # only the serving model reads the bytes; a measured curve knows nothing of the lever
        changes["levers"] = levers_on_bytes(inp)
    return replace(inp, **changes)


def _described(inp: Inputs) -> OperatingPoint | None:
    """The operating point as the inputs state it (a scalar measurement, or values given directly)."""
    if inp.throughput_per_device is None and inp.e_tok is None and inp.device_power is None:
        return None
    model = model_of(inp)
    mem = (None, None, None)
    if model is not None and known(inp.batch_size, inp.context_length) and not is_array(inp.batch_size):
        from .serving import memory

        mem = memory(model[0], model[1], inp.batch_size, inp.context_length, replica(inp))
    power = inp.device_power
    if power is None and known(inp.e_tok, inp.throughput_per_device) and inp.e_tok_boundary == "accelerator":
        power = inp.e_tok * inp.throughput_per_device
    e_acc = inp.e_tok if inp.e_tok_boundary == "accelerator" else None
    return OperatingPoint(inp.batch_size, inp.context_length, replica(inp), inp.tpot_measured,
                          None, inp.throughput_per_device, power, e_acc, mem[0], mem[1], mem[2], "measured",
                          _chosen_by(inp), inp.objective or "tokens",
                          notes=_memory_note("measured", inp.batch_size, inp, mem[0], mem[1]) + _uncapped_note(inp))


def _uncapped_note(inp: Inputs) -> tuple[str, ...]:
    """A power cap cannot act on figures given directly or measured only: it acts through the serving model."""
    if inp.power_cap is None:
        return ()
    return ("The power cap does not act on this operating point: its throughput, power or e_tok are given directly "
            "or measured only; a cap acts through the serving model (docs/model.md §4.7). Drop the given figures "
            "or use --operating-point modeled.",)


def _memory_note(source: str, batch: Any, inp: Inputs, required: Any, capacity: Any) -> tuple[str, ...]:
    """A measured batch the memory model says cannot fit: the measurement's sequences held less context."""
    if source == "modeled" or not known(batch, required, capacity, inp.context_length) or any(
            is_array(x) for x in (batch, required, capacity, inp.context_length)):
        return ()  # a note is for one point; a sweep's points carry their figures
    if required <= capacity:
        return ()
    return (f"The measurement ran at batch {batch:,.0f}; at the workload's context of {inp.context_length:,.0f} "
            f"tokens that batch would need {required / 1e9:,.0f} GB of HBM against "
            f"{capacity / 1e9:,.0f} GB, so its sequences held less context on average (the memory "
            "figures are modeled).",)


def _missing(inp: Inputs) -> list[str]:
    need = ("active_params", "total_params", "bytes_per_param", "n_layers", "d_attn", "kv_bytes_per_token",
            "peak_flops", "hbm_bandwidth", "hbm_capacity", "tdp", "context_length")
    return [k for k in need if getattr(inp, k, None) is None] or ["nothing (check the profiles)"]
