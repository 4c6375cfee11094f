"""Resolve a scenario (+ flags, `--set` and `[override]`) into model `Inputs`.

Layering, lowest first: the referenced profiles, the scenario's own keys,
`--set` on scenario keys, then flags. Every resolved input records where it
came from; that record becomes the provenance table of reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import profiles as P
from . import schema as S
from ..errors import InputError
from ..core.model import Inputs, Lever, Provenance
from ..units import DIMENSIONS

DEFAULT_SCENARIO = "default"
DEFAULT_HORIZON_S = 365 * 86400.0
PROFILE_PREFIXES = ("hardware", "facility", "workload")


@dataclass
class Request:
    """What the user asked for: a scenario reference plus command-line values.

    Attributes:
        scenario: id or path (None = the bundled default, unless `bare`).
        bare: start from an empty scenario.
        flags: core key -> raw text from a flag (e.g. {"pue": "1.2"}).
        refs: "hardware"/"facility"/"workload" -> id or path from flags.
        levers: lever refs from `--lever` (added to the scenario's).
        sets: raw `KEY=VALUE` strings from `--set`.
        profile_dirs: `--profiles` folders.
    """

    scenario: str | None = None
    bare: bool = False
    flags: dict[str, str] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    levers: list[str] = field(default_factory=list)
    sets: list[str] = field(default_factory=list)
    profile_dirs: list[str] = field(default_factory=list)


@dataclass
class Resolved:
    """The loaded profiles behind a set of inputs (for reports and provenance)."""

    inputs: Inputs
    scenario: P.Profile | None
    hardware: P.Profile | None
    facility: P.Profile | None
    workload: P.Profile | None
    levers: list[P.Profile]
    dirs: list[Path]

    def profiles(self) -> list[P.Profile]:
        """All profiles used, scenario first."""
        out = [p for p in (self.scenario, self.hardware, self.facility, self.workload) if p is not None]
        return out + list(self.levers)


def parse_set(text: str) -> tuple[str, str]:
    """Split `KEY=VALUE` from `--set`."""
    if "=" not in text:
        raise InputError(f"--set {text!r}: expected KEY=VALUE, e.g. --set facility.pue=1.3")
    key, value = text.split("=", 1)
    key = key.strip()
    if not key:
        raise InputError(f"--set {text!r}: the key is empty")
    return key, value.strip()


def _flatten(table: dict, prefix: str = "") -> list[tuple[str, Any]]:
    out = []
    for k, v in table.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and not _is_range(v):
            out += _flatten(v, path + ".")
        else:
            out.append((path, v))
    return out


def _is_range(v: dict) -> bool:
    keys = set(v)
    return bool(keys) and (keys <= {"low", "mode", "high"} or keys == {"value", "rel"})


def resolve(req: Request) -> Resolved:
    """Load everything a request names and build the model inputs.

    Raises:
        TokencalcError: any invalid file, reference, key, unit or conflict.
    """
    dirs = P.search_dirs(req.profile_dirs)
    # Overrides by target: scenario keys, profile keys, lever keys.
    scen_sets: list[tuple[str, Any, str]] = []
    prof_over: dict[str, list[tuple[str, Any, str]]] = {k: [] for k in PROFILE_PREFIXES}
    lever_over: dict[str, list[tuple[str, Any, str]]] = {}

    def route(key: str, value: Any, origin: str) -> None:
        head, _, rest = key.partition(".")
        if head in PROFILE_PREFIXES and rest:
            prof_over[head].append((rest, value, origin))
        elif head == "levers" and rest and "." in rest:
            lid, _, lkey = rest.partition(".")
            lever_over.setdefault(lid, []).append((lkey, value, origin))
        elif head in S.SCENARIO and not isinstance(S.SCENARIO[head], S.Free) and not rest:
            scen_sets.append((key, value, origin))
        else:
            known = [*S.CORE, "devices", "hardware.<key>", "facility.<key>", "workload.<key>", "levers.<id>.<key>"]
            raise InputError(f"{key} ({origin}): not a scenario key or profile key"
                             + P._suggest(key, known))

    scenario = None
    if not req.bare:
        ref = req.scenario or DEFAULT_SCENARIO
        scenario = P.load(ref, "scenario", dirs)
        for key, value in _flatten(scenario.raw.get("override", {})):
            route(key, value, f"[override] in {scenario.path}")
    for text in req.sets:
        key, value = parse_set(text)
        route(key, value, f"--set {key}")
    if scenario is not None and scen_sets:
        scenario = P.apply_overrides(scenario, [(k, v, o) for k, v, o in scen_sets])
    elif scen_sets:  # --bare with --set on scenario keys: validate them on an empty scenario
        empty = P.Profile("(flags)", "scenario", "(flags)", "(flags)", {}, {}, {})
        scenario = P.apply_overrides(empty, scen_sets)

    base = Path(scenario.file).parent if scenario is not None and scenario.file else None

    def ref_of(kind: str) -> tuple[str | None, str]:
        if kind in req.refs:
            return req.refs[kind], f"--{kind}"
        if scenario is not None and scenario.get(kind):
            return scenario.get(kind), kind
        return None, ""

    loaded: dict[str, P.Profile | None] = {}
    for kind in PROFILE_PREFIXES:
        ref, origin = ref_of(kind)
        if ref is None:
            if prof_over[kind]:
                raise InputError(f"{prof_over[kind][0][2]}: there is no {kind} profile to override "
                                 f"(give --{kind} or a scenario with one)")
            loaded[kind] = None
            continue
        from_file = scenario.path if (scenario is not None and origin == kind) else None
        loaded[kind] = P.load(ref, kind, dirs, base=base if from_file else None, overrides=prof_over[kind],
                              file=from_file, key=origin if from_file else origin)
    lever_refs = list(scenario.get("levers", []) if scenario is not None else []) + list(req.levers)
    levers: list[P.Profile] = []
    seen = set()
    for ref in lever_refs:
        prof = P.load(ref, "lever", dirs, base=base, overrides=lever_over.pop(Path(ref).stem, []),
                      file=scenario.path if scenario is not None and ref not in req.levers else None,
                      key="levers")
        if prof.id in seen:
            raise InputError(f"lever '{prof.id}' is listed twice")
        seen.add(prof.id)
        levers.append(prof)
    if lever_over:
        lid = next(iter(lever_over))
        raise InputError(f"{lever_over[lid][0][2]}: lever '{lid}' is not in this scenario's levers")

    inputs = _build(req, scenario, loaded["hardware"], loaded["facility"], loaded["workload"], levers)
    return Resolved(inputs, scenario, loaded["hardware"], loaded["facility"], loaded["workload"], levers, dirs)


# Which model input (an `Inputs` field) each profile key feeds. One table for
# resolution, trajectories (horizon) and ranges (uncertainty).
PROFILE_FIELDS: dict[str, dict[str, str]] = {
    "workload": {
        "model.c_tok": "c_tok", "model.active_params": "active_params", "model.n_layers": "n_layers",
        "model.d_attn": "d_attn", "model.kv_bytes_per_token": "kv_bytes_per_token",
        "operating_point.precision": "precision", "operating_point.batch_size": "batch_size",
        "operating_point.context_length": "context_length",
        "operating_point.devices_per_replica": "devices_per_replica",
        "operating_point.prefill_share": "prefill_share", "operating_point.input_output_ratio": "input_output_ratio",
        "operating_point.token_basis": "token_basis",
        "measured.e_tok": "e_tok", "measured.e_tok_boundary": "e_tok_boundary",
        "measured.throughput_per_device": "throughput_per_device", "measured.device_power": "device_power",
        "measured.utilization": "utilization", "measured.token_basis": "e_tok_basis",
        "service.tpot": "tpot_slo", "measured.tpot": "tpot_measured",
    },
    "hardware": {"tdp": "tdp", "hbm_bandwidth": "hbm_bandwidth", "server_power_per_device": "server_power_per_device"},
    "facility": {
        "power": "p_facility", "it_power": "p_it", "pue": "pue", "cooling_capacity": "cooling_capacity",
        "electricity_price": "electricity_price", "carbon_intensity": "carbon_intensity",
    },
}


def numeric_profile_fields(kind: str) -> dict[str, str]:
    """The entries of PROFILE_FIELDS[kind] whose profile key holds a number (quantity or whole number)."""
    return {k: f for k, f in PROFILE_FIELDS[kind].items() if S.leaf(kind, k).type in ("quantity", "int")}


def _unit(spec: S.Field | None) -> str:
    """The SI unit an input is reported in: the quantity's unit, "1" for counts, "" for text."""
    if spec is None:
        return ""
    if spec.type == "quantity":
        return DIMENSIONS[spec.dim][1]
    return "1" if spec.type == "int" else ""


def _src(prof: P.Profile, key: str) -> str:
    s = prof.source_for(key)
    label = f"{prof.kind} {prof.id}"
    return f"{label}: {s.text}" if s else f"{label} (no source given)"


def _build(req: Request, scen: P.Profile | None, hw: P.Profile | None, fac: P.Profile | None,
           wl: P.Profile | None, levers: list[P.Profile]) -> Inputs:
    vals: dict[str, Any] = {}
    prov: dict[str, Provenance] = {}
    layer_of: dict[str, int] = {}
    layer = 0  # 0 profiles, 1 scenario keys, 2 flags

    def put(key: str, value: Any, source: str, unit: str | None = None) -> None:
        if value is None:
            return
        vals[key] = value
        layer_of[key] = layer
        if unit is None:
            unit = _unit(S.CORE.get(key))
        prov[key] = Provenance(value, unit, source)

    def from_prof(prof: P.Profile | None, pkey: str, key: str, unit: str | None = None) -> None:
        if prof is not None and prof.get(pkey) is not None:
            put(key, prof.get(pkey), _src(prof, pkey), unit)

    # 1. profiles
    for kind, prof in (("workload", wl), ("hardware", hw), ("facility", fac)):
        for pkey, key in PROFILE_FIELDS[kind].items():
            from_prof(prof, pkey, key, _unit(S.leaf(kind, pkey)))
    if wl is not None:
        total = wl.get("model.total_params", wl.get("model.active_params"))
        if total is not None and wl.get("model.bytes_per_param") is not None:
            put("weight_bytes", total * wl.get("model.bytes_per_param"),
                f"derived: total params x bytes per param ({_src(wl, 'model.bytes_per_param')})", "B")
    # 2. scenario keys (and --set on them)
    layer = 1
    if scen is not None:
        for key in (*S.CORE, "allow_operating_point_shift"):
            if scen.get(key) is not None:
                put(key, scen.get(key), _src(scen, key) if scen.id != "(flags)" else f"--set {key}")
    # 3. flags
    layer = 2
    for key, raw in req.flags.items():
        spec = S.CORE[key]
        flag = "--" + key.replace("_", "-")
        value, _ = P._leaf_value(spec, P._coerce_text(spec, raw), "command line", flag)
        put(key, value, f"flag {flag}")

    _exclusive(vals, prov, layer_of, req)
    if "horizon" not in vals:  # a reporting window, not a physical input: default to a year
        put("horizon", DEFAULT_HORIZON_S, "default: 365 days (set --horizon)")

    # precision -> peak from the hardware table, unless given
    precision = vals.get("precision")
    if "peak_flops" not in vals and hw is not None:
        table = hw.table("peak_flops")
        if precision is None and table:
            raise InputError(f"no precision given: choose one of {', '.join(sorted(table))} for hardware "
                             f"'{hw.id}' (--precision or workload operating_point.precision)")
        if precision is not None:
            if precision not in table:
                raise InputError(f"--precision {precision!r}: hardware '{hw.id}' lists no dense peak at that precision; "
                                 f"it has {', '.join(sorted(table)) or 'none'}")
            put("peak_flops", table[precision], _src(hw, f"peak_flops.{precision}"))

    # token bases must agree, or be converted with a declared ratio
    basis = vals.get("token_basis", "output")
    measured_basis = vals.pop("e_tok_basis", None)
    prov.pop("e_tok_basis", None)
    if measured_basis and measured_basis != basis and any(k in vals and prov[k].source.startswith("workload")
                                                          for k in ("e_tok", "throughput_per_device")):
        ratio = vals.get("input_output_ratio")
        if ratio is None:
            raise InputError(f"token bases differ: the workload's measurements count {measured_basis} tokens, the "
                             f"scenario counts {basis} tokens; declare operating_point.input_output_ratio "
                             f"(or --input-output-ratio) to convert")
        per_output = 1.0 + ratio  # total tokens per output token
        scale = per_output if basis == "output" else 1.0 / per_output
        for key in ("e_tok", "throughput_per_device"):
            if key in vals and prov[key].source.startswith("workload"):
                new = vals[key] * scale if key == "e_tok" else vals[key] / scale
                put(key, new, prov[key].source + f" (converted from {measured_basis} to {basis} tokens, "
                    f"input:output = {ratio:g})")

    # IT overhead for accelerator-boundary figures: declared, or the hardware's server/board power ratio
    boundary = vals.get("e_tok_boundary", "it")
    overhead, overhead_src = vals.get("it_overhead"), None
    if overhead is not None:
        overhead_src = prov["it_overhead"].source
    elif boundary == "accelerator" and _has(vals, "server_power_per_device", "tdp"):
        overhead = vals["server_power_per_device"] / vals["tdp"]
        overhead_src = (f"hardware {hw.id}: server power per device {vals['server_power_per_device']:g} W / "
                        f"board power {vals['tdp']:g} W")
        put("it_overhead", overhead, "derived: " + overhead_src, "1")

    lever_objs = tuple(
        Lever(id=lp.id, name=lp.name, phase=lp.get("phase", "both"), c_tok_factor=lp.get("c_tok_factor", 1.0),
              e_tok_factor=lp.get("e_tok_factor", 1.0), latency_factor=lp.get("latency_factor", 1.0),
              quality_delta=lp.table("quality_delta"), confidence=lp.get("confidence"),
              source=_src(lp, "c_tok_factor"), precision=lp.get("precision"),
              min_context_length=lp.get("min_context_length"))
        for lp in levers)
    quality = {}
    if wl is not None:
        for k, v in wl.values.items():
            if k.startswith("quality.") and k.endswith(".score"):
                bench = k[len("quality."):-len(".score")]
                quality[bench] = (v, wl.get(f"quality.{bench}.tolerance"))

    notes = []
    measured_on = wl.get("measured.hardware") if wl is not None else None
    transferred = [k for k in ("throughput_per_device", "e_tok", "device_power")
                   if k in prov and prov[k].source.startswith("workload")]
    if measured_on and hw is not None and measured_on != hw.id and transferred:
        notes.append(f"The workload's {', '.join(transferred)} were measured on {measured_on}; applied here to {hw.id} "
                     "as they stand (replace them with a measurement on this hardware when you have one).")

    names = {f.name for f in Inputs.__dataclass_fields__.values()}  # type: ignore[attr-defined]
    kwargs = {k: v for k, v in vals.items() if k in names}
    kwargs.update(
        it_overhead=overhead, it_overhead_source=overhead_src, levers=lever_objs, quality=quality,
        scenario=(scen.id if scen is not None and scen.id != "(flags)" else ("bare" if req.bare else None)),
        scenario_name=(scen.name if scen is not None and scen.id != "(flags)" else None),
        resolution_notes=tuple(notes),
        provenance=prov, e_tok_basis=measured_basis,
        allow_operating_point_shift=bool(vals.get("allow_operating_point_shift", False)),
    )
    return Inputs(**kwargs)


# Inputs that answer the same question: a higher layer's answer replaces a lower
# layer's other answers (a flag --p-it must not lose to a facility's `power`).
EXCLUSIVE = (("k_eff", "throughput_per_device", "kernel_efficiency"), ("p_it", "p_facility"), ("e_tok", "device_power"))


def _exclusive(vals: dict, prov: dict, layer_of: dict, req: Request) -> None:
    for group in EXCLUSIVE:
        present = [k for k in group if k in vals]
        if len(present) < 2:
            continue
        top = max(layer_of[k] for k in present)
        flagged = [k for k in present if layer_of[k] == top == 2]
        if len(flagged) > 1:
            names = " and ".join("--" + k.replace("_", "-") for k in flagged)
            raise InputError(f"{names} answer the same question; give only one")
        for k in present:
            if layer_of[k] < top:
                del vals[k], prov[k]
    # The boundary travels with the energy figure it describes: a flag --e-tok
    # is at the IT boundary unless --e-tok-boundary says otherwise.
    energy = [layer_of[k] for k in ("e_tok", "device_power") if k in vals]
    if energy and "e_tok_boundary" in vals and layer_of["e_tok_boundary"] < max(energy):
        del vals["e_tok_boundary"], prov["e_tok_boundary"]


def _has(vals: dict, *keys: str) -> bool:
    return all(vals.get(k) is not None for k in keys)
