"""Build the model `Inputs` from loaded profiles, scenario keys and flags.

Layering, lowest first: the referenced profiles, the scenario's own keys (and
`--set` on them), then flags. Every input records its origin as structured
data. Nothing is derived here: the core derives (docs/model.md §6).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.inputs import FIELD_NAMES, Inputs, Lever, Origin, Provenance
from ..errors import InputError
from ..units import factor
from . import schema as S
from .curves import curves_of
from .fields import EXCLUSIVE, PROFILE_FIELDS, flag_of, si_unit
from .profiles import Profile, coerce_text, leaf_value
from .series import DIMS as SERIES_DIMS, read_series

DEFAULT_HORIZON_S = 365 * factor("day", "time")
SWITCHES = ("allow_operating_point_shift", "whole_token_levers")   # scenario booleans of the lever gate
RANK = {"default": 0, "profile": 0, "scenario": 1, "set": 1, "flag": 2}


@dataclass
class _Values:
    """Values being layered: value, provenance and layer rank by key."""

    vals: dict[str, Any] = field(default_factory=dict)
    prov: dict[str, Provenance] = field(default_factory=dict)

    def put(self, key: str, value: Any, origin: Origin, unit: str | None = None) -> None:
        if value is None:
            return
        self.vals[key] = value
        self.prov[key] = Provenance(value, si_unit(S.CORE.get(key)) if unit is None else unit, origin)

    def rank(self, key: str) -> int:
        return RANK[self.prov[key].origin.layer]

    def drop(self, key: str) -> None:
        del self.vals[key], self.prov[key]


def origin_of(prof: Profile, key: str) -> Origin:
    """Where a profile key's value comes from (its citation, if the profile gives one)."""
    src = prof.source_for(key)
    layer = "scenario" if prof.kind == "scenario" else "profile"
    return Origin(layer, kind=prof.kind, profile=prof.id, key=key, citation=src.text if src else None)


def source_text(prof: Profile, key: str) -> str:
    """The one-line source of a profile key."""
    return origin_of(prof, key).text


def build(flags: dict[str, str], scen: Profile | None, hw: Profile | None, fac: Profile | None,
          wl: Profile | None, levers: list[Profile], *, bare: bool) -> Inputs:
    """The inputs of one operating point.

    Args:
        flags: core key -> raw text from a flag.
        scen, hw, fac, wl: the loaded profiles (None when not used).
        levers: the lever profiles, in order.
        bare: the request started from an empty scenario.

    Raises:
        InputError: conflicting flags, a precision the hardware has no peak for.
    """
    v = _Values()
    for kind, prof in (("workload", wl), ("hardware", hw), ("facility", fac)):
        if prof is None:
            continue
        for pkey, key in PROFILE_FIELDS[kind].items():
            if prof.get(pkey) is not None:
                v.put(key, prof.get(pkey), origin_of(prof, pkey), si_unit(S.leaf(kind, pkey)))
    if scen is not None:
        for key in (*S.CORE, *SWITCHES):
            if scen.get(key) is not None:
                origin = origin_of(scen, key) if scen.id != "(flags)" else Origin("set", key=key)
                v.put(key, scen.get(key), origin)
    for key, raw in flags.items():
        spec = S.CORE[key]
        value, _ = leaf_value(spec, coerce_text(spec, raw), "command line", flag_of(key))
        v.put(key, value, Origin("flag", key=flag_of(key)))
    _exclusive(v)
    if "horizon" not in v.vals:  # a reporting window, not a physical input: default to a year
        v.put("horizon", DEFAULT_HORIZON_S, Origin("default", citation="365 days (set --horizon)"))
    series_notes = _series(v, scen, fac)
    _peak(v, hw)
    measured = wl.get("measured.token_basis") if wl is not None else None
    from_workload = {k for k in ("e_tok", "throughput_per_device") if k in v.prov and v.prov[k].origin.is_from("workload")}
    kwargs = {k: x for k, x in v.vals.items() if k in FIELD_NAMES}
    kwargs.update(
        e_tok_basis=measured if "e_tok" in from_workload else None,
        throughput_basis=measured if "throughput_per_device" in from_workload else None,
        peak_table=dict(hw.table("peak_flops")) if hw is not None else {},
        hardware=hw.id if hw is not None else None,
        levers=tuple(_lever(lp) for lp in levers), quality=_quality(wl), curves=curves_of(wl),
        scenario=(scen.id if scen is not None and scen.id != "(flags)" else ("bare" if bare else None)),
        scenario_name=(scen.name if scen is not None and scen.id != "(flags)" else None),
        resolution_notes=tuple(_transfer_note(wl, hw, _from_wl(v)) + series_notes),
        provenance=v.prov,
        **{key: bool(v.vals.get(key, False)) for key in SWITCHES},
    )
    return Inputs(**kwargs)


def _from_wl(v: _Values) -> set[str]:
    return {k for k, p in v.prov.items() if p.origin.is_from("workload")}


def _exclusive(v: _Values) -> None:
    """A higher layer's answer to a question replaces a lower layer's other answers."""
    for group in EXCLUSIVE:
        present = [k for k in group if k in v.vals]
        if len(present) < 2:
            continue
        top = max(v.rank(k) for k in present)
        flagged = [k for k in present if v.rank(k) == top == RANK["flag"]]
        if len(flagged) > 1:
            raise InputError(f"{' and '.join(flag_of(k) for k in flagged)} answer the same question; give only one")
        for k in present:
            if v.rank(k) < top:
                v.drop(k)
    # The boundary travels with the energy figure it describes: a flag --e-tok
    # is at the IT boundary unless --e-tok-boundary says otherwise.
    energy = [v.rank(k) for k in ("e_tok", "device_power") if k in v.vals]
    if energy and "e_tok_boundary" in v.vals and v.rank("e_tok_boundary") < max(energy):
        v.drop("e_tok_boundary")


def _series(v: _Values, scen: Profile | None, fac: Profile | None) -> list[str]:
    """Read the hourly series the layers name (docs/model.md §8.2); a series replaces a scalar given at its layer."""
    notes: list[str] = []
    start = scen.get("start_date") if scen is not None else None
    for key, (target, _, _) in SERIES_DIMS.items():
        if key not in v.vals:
            continue
        origin = v.prov[key].origin
        base, confined, where = _series_base(origin, key, scen, fac)
        series = read_series(key, v.vals[key], where=where, base_dir=base, confined=confined, source=origin.text,
                             start_date=start)
        v.vals[key] = series
        v.prov[key] = Provenance(series.path, "", origin)
        if target in v.vals:
            notes.append(f"{target} ({v.prov[target].source}) is replaced by the hourly series {series.path} "
                         "given at the same layer.")
            v.drop(target)
    return notes


def _series_base(origin: Origin, key: str, scen: Profile | None, fac: Profile | None) -> tuple[Path | None, bool, str]:
    """Where a series path is read from: a flag's (or `--set`'s) from the working folder, a profile's from its
    own folder and confined to it (an `[override]` counts as the scenario's)."""
    cite = origin.citation or ""
    if origin.layer == "flag":
        return None, False, flag_of(key)
    if origin.layer == "set" or cite.startswith("override: --set"):
        return None, False, f"--set {origin.key}"
    prof = scen if origin.kind == "scenario" or cite.startswith("override: [override]") else fac
    if prof is None or not prof.file:
        return None, False, f"{origin.key}"
    return Path(prof.file).parent, True, f"{origin.key} in {prof.path}"


def _peak(v: _Values, hw: Profile | None) -> None:
    """The dense peak at the operating precision, from the hardware table unless given."""
    precision = v.vals.get("precision")
    if "peak_flops" in v.vals or hw is None:
        return
    table = hw.table("peak_flops")
    if precision is None and table:
        raise InputError(f"no precision given: choose one of {', '.join(sorted(table))} for hardware "
                         f"'{hw.id}' (--precision or workload operating_point.precision)")
    if precision is not None:
        if precision not in table:
            raise InputError(f"--precision {precision!r}: hardware '{hw.id}' lists no dense peak at that precision; "
                             f"it has {', '.join(sorted(table)) or 'none'}")
        v.put("peak_flops", table[precision], origin_of(hw, f"peak_flops.{precision}"))


def _lever(lp: Profile) -> Lever:
    # A precision lever without a declared compute factor takes it from the hardware's peaks.
    declared = lp.get("c_tok_factor", None if lp.get("precision") is not None else 1.0)
    return Lever(id=lp.id, name=lp.name, phase=lp.get("phase", "both"), c_tok_factor=declared,
                 e_tok_factor=lp.get("e_tok_factor", 1.0), latency_factor=lp.get("latency_factor", 1.0),
                 quality_delta=lp.table("quality_delta"), confidence=lp.get("confidence"),
                 source=source_text(lp, "c_tok_factor"), precision=lp.get("precision"),
                 min_context_length=lp.get("min_context_length"),
                 weight_bytes_factor=lp.get("weight_bytes_factor", 1.0), kv_bytes_factor=lp.get("kv_bytes_factor", 1.0))


def _quality(wl: Profile | None) -> dict[str, tuple[float, float | None]]:
    out = {}
    if wl is not None:
        for k, val in wl.values.items():
            if k.startswith("quality.") and k.endswith(".score"):
                bench = k[len("quality."):-len(".score")]
                out[bench] = (val, wl.get(f"quality.{bench}.tolerance"))
    return out


def _transfer_note(wl: Profile | None, hw: Profile | None, transferred: set[str]) -> list[str]:
    measured_on = wl.get("measured.hardware") if wl is not None else None
    keys = [k for k in ("throughput_per_device", "e_tok", "device_power") if k in transferred]
    if measured_on and hw is not None and measured_on != hw.id and keys:
        return [f"The workload's {', '.join(keys)} were measured on {measured_on}; applied here to {hw.id} "
                "as they stand (replace them with a measurement on this hardware when you have one)."]
    return []
