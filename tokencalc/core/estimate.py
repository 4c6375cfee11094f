"""One operating point: the engine's result with its lever gate, notes and provenance."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from . import fields as F
from . import ladder
from .arith import known
from .classify import label
from .derive import provenance as derived_provenance
from .engine import evaluate
from .inputs import Inputs, Provenance
from .levers import LeverStatus, gate
from .operating import settle
from .series import series_json, series_notes

SCHEMA = "tokencalc.estimate/1"
# JSON keys reported in a unit other than the engine's SI one: key -> engine units per reported unit.
SCALED = {"emissions_g_co2e_per_token": 1e-3, "embodied_g_co2e_per_token": 1e-3,  # kgCO2e -> gCO2e
          "water_ml_per_token": 1e-3, "water_ml_per_request": 1e-3}                # L -> mL


@dataclass
class Result:
    """Everything `estimate` reports for one operating point.

    Attributes:
        values: the documented JSON keys (SI units, plain numbers, labels).
        levers: the lever gate.
        notes: what was assumed, converted or could not be computed, and why.
        inputs: the resolved inputs.
        derived: provenance of the inputs the core derived (weight bytes, IT overhead, ...).
        engine: the engine's full result (for renderers and analysis).
        warnings: results no deployment can physically reach (K_eff above the peak, η_E above 1),
            naming the inputs to check.
    """

    values: dict[str, Any]
    levers: list[LeverStatus]
    notes: list[str]
    inputs: Inputs
    derived: dict[str, Provenance]
    engine: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def provenance(self) -> dict[str, Provenance]:
        """Every input, given or derived, by key."""
        return {**self.inputs.provenance, **self.derived}

    def to_json(self) -> dict[str, Any]:
        """The documented JSON object of `estimate --format json`, SI units, plain numbers."""
        out = {k: plain(v) for k, v in self.values.items()}
        out["inputs"] = {k: {"value": plain(p.value), "unit": p.unit, "source": p.source}
                         for k, p in sorted(self.provenance.items())}
        out["levers"] = [{"id": s.id, "name": s.name, "counted": s.counted, "reason": s.reason,
                          "c_tok_factor": s.c_tok_factor, "e_tok_factor": s.e_tok_factor,
                          "confidence": s.confidence, "phase": s.phase} for s in self.levers]
        out["e_tok_by_boundary"] = {k: plain(v) for k, v in self.engine["e_tok_by_boundary"].items()}
        out["boundary_ladder"] = ladder_rows(self.inputs, self.engine)
        op = self.engine.get("operating_point")
        out["operating_point"] = op.to_json() if op is not None else None
        cap = getattr(op, "cap", None)  # a power cap's effect on both ceilings (docs/model.md §4.7)
        out["power_cap"] = (cap.to_json(self.values.get("compute_ceiling_tokens_per_s"),
                                        self.values.get("power_ceiling_tokens_per_s")) if cap is not None else None)
        out["input_series"] = series_json(self.inputs)  # hourly price / carbon series (docs/model.md §8.2)
        out["notes"] = list(self.notes)
        out["warnings"] = list(self.warnings)
        return out


def ladder_rows(inp: Inputs, r: dict[str, Any]) -> list[dict[str, Any]]:
    """The boundary ladder's rungs: from, to, factor, how it is known (declared, provisioned, not declared)."""
    d = r["inputs"]
    rows = [{"from": g.lower, "to": g.upper, "overhead": plain(g.factor), "basis": g.basis,
             "source": _rung_source(inp, g)} for g in ladder.path(d, "accelerator")]
    rows.append({"from": "it", "to": "facility", "overhead": plain(d.pue), "basis": "declared" if d.pue else
                 "not declared", "source": inp.provenance["pue"].source if "pue" in inp.provenance else None})
    return rows


def _rung_source(inp: Inputs, g: Any) -> str | None:
    if g.basis == "declared":
        return inp.provenance[g.key].source if g.key in inp.provenance else None
    if g.basis == "provisioned":
        p = inp.provenance.get("server_power_per_device")
        return "server power per device / board power (nameplate)" + (f"; {p.source}" if p else "")
    return None


def plain(v: Any) -> Any:
    """A JSON-ready scalar: bools, ints, strings and None as they are, anything numeric as float."""
    if isinstance(v, bool) or v is None or isinstance(v, (str, int)):
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


def estimate(inp: Inputs) -> Result:
    """Evaluate one operating point with its lever gate, notes and provenance."""
    inp = settle(inp)
    statuses = gate(inp)
    try:
        r = evaluate(inp, statuses)
    except (ZeroDivisionError, OverflowError):
        raise InputError("the inputs give no finite result (a division by zero or an overflow): "
                         + _extremes(inp)) from None
    d = r["inputs"]
    book = {
        "schema": SCHEMA, "scenario": inp.scenario, "scenario_name": inp.scenario_name,
        "scenario_modified_by": list(inp.modified_by),
        "e_tok_boundary": "it" if r["e_tok"] is not None else None,
        "k_eff_limited_by": limited_by(r), "token_basis": inp.token_basis, "devices": inp.devices,
        "e_tok_input_boundary": inp.e_tok_boundary if r["e_tok_at_boundary"] is not None else None,
        "conventions_disagree": (r["binding"] is not None and r["binding_peak"] is not None
                                 and r["binding"] != r["binding_peak"]),
    }
    values: dict[str, Any] = {}
    for f in F.ESTIMATE:
        if f.engine is None:
            values[f.json] = book[f.json]
        elif f.engine in ("binding", "binding_peak"):
            values[f.json] = label(r[f.engine])
        elif f.json in SCALED:
            v = r[f.engine]
            values[f.json] = None if v is None else v / SCALED[f.json]
        else:
            values[f.json] = r.get(f.engine, getattr(d, f.engine, None))
    bad = [k for k, v in values.items() if isinstance(v, float) and not math.isfinite(v)]
    if bad:
        raise InputError(f"the inputs give a non-finite {', '.join(bad)}: " + _extremes(inp))
    derived = derived_provenance(inp, d, r["derived"])
    return Result(values, statuses, notes(inp, r, statuses), inp, derived, r, sanity(inp, r))


def _extremes(inp: Inputs) -> str:
    """The inputs furthest from ordinary magnitudes, to check first."""
    nums = [(abs(math.log10(abs(p.value))), k, p) for k, p in inp.provenance.items()
            if isinstance(p.value, (int, float)) and not isinstance(p.value, bool) and p.value]
    top = [f"{k} = {p.value:.3g} {p.unit} ({p.source})" for _, k, p in sorted(nums, reverse=True)[:3]]
    return "check " + "; ".join(top) if top else "check the inputs"


def sanity(inp: Inputs, r: dict[str, Any]) -> list[str]:
    """Loud warnings for results no deployment can reach, naming the input to check."""
    out = []
    eta_k, conv = r["eta_k"], r["k_eff_convention"]
    if eta_k is not None and eta_k > 1 + 1e-9 and conv in ("realized", "given"):
        key = "k_eff" if conv == "given" else "throughput_per_device"
        src = inp.provenance[key].source if key in inp.provenance else key
        out.append(f"K_eff is {100 * eta_k:,.0f} % of the hardware's dense peak (K_peak = N × peak): no deployment "
                   f"serves above its peak. Check {key} ({src}), c_tok and the peak at {inp.precision or 'this'} "
                   "precision.")
    eta_e = r["eta_e"]
    if eta_e is not None and eta_e > 1 + 1e-9:
        src = inp.provenance["e_tok"].source if "e_tok" in inp.provenance else "modeled from device power"
        out.append(f"η_E = {100 * eta_e:,.0f} %: e_tok at the accelerator ({r['e_tok_accelerator']:.4g} J/token, "
                   f"{src}) is below its physical floor c_tok·TDP/peak = {r['e_ref']:.4g} J/token (every FLOP at "
                   "peak, the board at TDP). Check e_tok, c_tok, TDP and the peak.")
    return out


def limited_by(r: dict[str, Any]) -> str | None:
    """Why K_eff is below peak: memory bandwidth or kernel efficiency (modeled), or 'peak (upper bound)'."""
    conv, roof, op = r["k_eff_convention"], r["roofline"], r.get("operating_point")
    if conv == "modeled" and op is not None and op.source == "modeled" and op.limiter is not None:
        return OP_LIMITS[op.limiter]
    if conv == "modeled":
        return "memory bandwidth" if roof is not None and roof["t_memory"] > roof["t_compute"] else "kernel efficiency"
    return "peak (upper bound)" if conv == "peak" else None


# What limits a modeled decode step, in the words of `k_eff_limited_by`.
OP_LIMITS = {"memory": "memory bandwidth", "compute": "kernel efficiency", "interconnect": "interconnect",
             "overhead": "per-step overhead"}


def notes(inp: Inputs, r: dict[str, Any], statuses: list[LeverStatus]) -> list[str]:
    """What was assumed, converted or could not be computed, and why."""
    out = list(inp.resolution_notes) + series_notes(inp)
    out += _operating_notes(r.get("operating_point"))
    out += _compute_notes(r)
    out += _energy_notes(r["inputs"], r)
    out += _power_notes(inp, r)
    out += _idle_notes(inp, r)
    out += _cost_notes(inp, r)
    out += _request_notes(r)
    binding, binding_peak, conv = label(r["binding"]), label(r["binding_peak"]), r["k_eff_convention"]
    if binding is None:
        out.append("Binding constraint unknown: one of the ceilings cannot be computed from the inputs.")
    if binding is not None and binding_peak is not None and binding != binding_peak and conv != "peak":
        out.append(f"The conventions disagree: {_regime(binding)} under the {conv} K_eff, {_regime(binding_peak)} "
                   f"under the peak denominator. Report the {conv} one; the peak is an upper-bound calibration "
                   "only (docs/model.md §3).")
    if inp.horizon is None:
        out.append("No horizon given: no totals.")
    elif r["energy_facility"] is None and r["energy_it"] is not None:
        out.append("PUE unknown: facility energy, cost and emissions not computed.")
    dropped = [s.id for s in statuses if not s.counted]
    if dropped:
        out.append("Levers not counted (they shift the operating point): " + ", ".join(dropped) + ".")
    return out


def _operating_notes(op: Any) -> list[str]:
    """Where the operating point comes from, in one line, then what its search or curve said."""
    if op is None or op.source == "measured" and op.chosen_by == "workload" and op.itl_s is None:
        return list(op.notes) if op is not None else []
    parts = [f"batch {op.batch_size:g}" if op.batch_size is not None else None,
             f"ITL {op.itl_s * 1e3:.3g} ms" if op.itl_s is not None else None,
             f"TTFT {op.ttft_s * 1e3:.3g} ms" if op.ttft_s is not None else None,
             f"{op.throughput_per_device:.4g} token/s per device" if op.throughput_per_device is not None else None,
             f"{op.device_power:.4g} W per device" if op.device_power is not None else None]
    what = {"modeled": "modeled by the serving model (docs/model.md §4.3)", "interpolated":
            "interpolated between measured batches", "measured": "measured"}[op.source]
    head = f"Operating point {what}: " + ", ".join(p for p in parts if p) + "."
    if op.limiter:
        head = head[:-1] + f"; the decode step is {op.limiter}-limited."
    return [head, *op.notes]


def _regime(b: str) -> str:
    return "balanced" if b == "balanced" else f"{b}-bound"


def _compute_notes(r: dict[str, Any]) -> list[str]:
    out = []
    conv, roof = r["k_eff_convention"], r["roofline"]
    if conv == "peak":
        out.append("No realized throughput, K_eff or efficiency given: K_eff is the peak (an upper bound); "
                   "give --throughput-per-device or --kernel-efficiency for the realized convention.")
    elif conv == "modeled" and r.get("operating_point") is not None and r["operating_point"].source == "modeled":
        out.append("K_eff is modeled: N x the serving model's token rate per device x c_tok, not measured.")
    elif conv == "modeled":
        out.append("K_eff is modeled (N x peak x efficiency" + (", the serving model's decode step at this batch)"
                                                                 if roof is not None else ")") + ", not measured.")
        if roof is not None and roof["t_memory"] > roof["t_compute"]:
            out.append(f"Memory bandwidth, not FLOPs, limits K_eff: a decode step needs {roof['t_memory'] * 1e3:.3g} "
                       f"ms to move weights and KV cache vs {roof['t_compute'] * 1e3:.3g} ms of compute.")
    if conv is None:
        out.append("K_eff unknown (no hardware + devices, throughput or --k-eff): no compute ceiling.")
    if r["c_tok"] is None:
        out.append("c_tok unknown (give --c-tok or a workload with its architecture): no compute ceiling.")
    elif r["c_tok_origin"] == "architecture":
        out.append("c_tok from the architecture: 2·N_active + 2·n_layers·n_ctx·d_attn (Kaplan et al. 2020).")
    if r["e_tok_origin"] == "modeled":
        out.append("e_tok is modeled: device power / token rate per device at the operating point.")
    return out


def _energy_notes(d: Inputs, r: dict[str, Any]) -> list[str]:
    b = d.e_tok_boundary
    if r["e_tok_at_boundary"] is None:
        return [] if r["e_tok"] is not None else [
            "e_tok unknown (give --e-tok, --device-power, or a workload with measured e_tok): no power ceiling."]
    if r["e_tok"] is None and b in ("accelerator", "node", "rack"):
        return [f"e_tok is at the {b} boundary and no overhead up to IT is declared (--it-overhead, the ladder's "
                "--node-overhead / --rack-overhead / --fabric-overhead, or a hardware profile's "
                "server_power_per_device): no power ceiling rather than a silently mixed boundary."]
    if r["e_tok"] is None and b == "facility":
        return ["e_tok is at the facility boundary and no PUE is known: cannot convert it to the IT boundary."]
    if b in ("accelerator", "node", "rack"):
        if "it_overhead" in r["derived"] or d.it_overhead is None:
            src = ladder.describe(d, b)
        else:
            src = d.provenance["it_overhead"].source if "it_overhead" in d.provenance else "declared"
        return [f"e_tok converted from the {b} boundary to IT with overhead ×{r['it_overhead_used']:.3g}: {src}."]
    if b == "facility":
        return [f"e_tok converted from the facility boundary to IT by dividing by PUE {d.pue:g}."]
    return []


def _idle_notes(inp: Inputs, r: dict[str, Any]) -> list[str]:
    """What the idle capacity draws, or why it is not counted."""
    u, idle = r["utilization"], r["idle_power_it"]
    if idle is None:
        if inp.devices is None or u >= 1.0 or r["token_rate"] is None:
            return []
        why = ("no idle power is known" + (f" for hardware {inp.hardware}" if inp.hardware else "")
               if inp.idle_power is None else "the ladder from the accelerator to IT is unknown")
        return [f"Idle capacity not counted: {why}; give --idle-power (board power with no work) to count the "
                f"{100 * (1 - u):.3g} % of device time without tokens (\"0 W\" says it is left out on purpose)."]
    if idle == 0:
        return ["Idle capacity left out: idle power 0 W."]
    share = r["energy_idle_it"] / r["energy_it"] if known(r["energy_idle_it"], r["energy_it"]) and r["energy_it"] else None
    out = [f"Idle capacity: {100 * (1 - u):.3g} % of {inp.devices:,} devices at {inp.idle_power:g} W each (board), "
           f"{idle / 1e3:.4g} kW at IT" + (f", {100 * share:.3g} % of IT energy" if share is not None else "") + "."]
    if known(r["it_power"], r["p_it"]) and r["it_power"] > r["p_it"] * (1 + 1e-9):
        out.append(f"Average IT power with the idle capacity ({r['it_power'] / 1e3:.4g} kW) exceeds P_IT "
                   f"({r['p_it'] / 1e3:.4g} kW): the deployment cannot idle that many devices within its envelope.")
    return out


def _cost_notes(inp: Inputs, r: dict[str, Any]) -> list[str]:
    """Which parts of the cost are counted, and what would add the missing ones."""
    d, out = r["inputs"], []
    own = r["ownership"]
    if own == "owned" and d.lifetime is None:
        out.append("Device price not amortised: no lifetime given (--lifetime, or the hardware's lifetime).")
    if d.embodied_carbon is not None and d.lifetime is None:
        out.append("Embodied carbon not amortised: no lifetime given (--lifetime).")
    if d.capex_per_it_power is not None and d.facility_lifetime is None:
        out.append("Data-center capital cost not amortised: no facility_lifetime given.")
    if r["capex_rate"] is not None or r["opex_rate"] is not None:
        if r["energy_cost_rate"] is None:
            out.append("Cost not totalled: capital or operating cost is given but no electricity price.")
        elif own is None and inp.devices is not None:
            hw = f" for hardware {inp.hardware}" if inp.hardware else ""
            out.append(f"Device cost not counted: no device price or hourly price{hw} (give --device-price or "
                       "--device-hourly-price; tokencalc bundles only published prices).")
    return out


def _request_notes(r: dict[str, Any]) -> list[str]:
    if r["output_tokens_per_request"] is None or r["energy_per_request_it"] is None or r["e_tok_split"] is not None:
        return []
    return ["Energy per request not split into prefill and decode: declare operating_point.prefill_share, or let the "
            "serving model run (a batch and the hardware's serving parameters) with input tokens per request."]


def _power_notes(inp: Inputs, r: dict[str, Any]) -> list[str]:
    out = []
    if r["p_it"] is None:
        if inp.p_facility is not None and inp.pue is None:
            out.append("P_facility given without PUE: P_IT unknown, no power ceiling.")
        else:
            out.append("No delivered power given (--p-facility or --p-it, or a facility): no power ceiling.")
    if known(r["p_it_uncapped"], inp.cooling_capacity) and inp.cooling_capacity < r["p_it_uncapped"]:
        out.append(f"P_IT capped by cooling capacity ({inp.cooling_capacity / 1e3:.4g} kW).")
    if inp.utilization is None:
        out.append("Utilization not given: U = 1 (the realized rate is the binding ceiling itself).")
    return out
