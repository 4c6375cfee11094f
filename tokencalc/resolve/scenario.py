"""Resolve a scenario (+ flags, `--set` and `[override]`) into model `Inputs`.

Layering, lowest first: the referenced profiles, the scenario's own keys,
`--set` on scenario keys, then flags. Every resolved input records where it
came from; that record becomes the provenance table of reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import profiles as P
from . import schema as S
from ..core.inputs import Inputs
from ..errors import InputError
from .build import DEFAULT_HORIZON_S, build
from .fields import core_unit, partners

DEFAULT_SCENARIO = "default"
__all__ = ["DEFAULT_HORIZON_S", "DEFAULT_SCENARIO", "Request", "Resolved", "flag_text", "parse_set", "resolve",
           "resolve_with"]
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

    def changes(self) -> tuple[str, ...]:
        """What the request changes in its scenario, as the flags that say it (for titles)."""
        # A fixed order (not the order given), so the same request always gives the same title.
        out = [f"--{k} {self.refs[k]}" for k in PROFILE_PREFIXES if k in self.refs]
        out += [f"--lever {lv}" for lv in self.levers]
        out += [f"{'--' + k.replace('_', '-')} {self.flags[k]}" for k in S.CORE if k in self.flags]
        return tuple(out + [f"--set {s}" for s in self.sets])


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


@dataclass
class _Overrides:
    """`--set` and `[override]` values, routed to what they override."""

    scenario: list[tuple[str, Any, str]] = field(default_factory=list)
    profiles: dict[str, list[tuple[str, Any, str]]] = field(default_factory=lambda: {k: [] for k in PROFILE_PREFIXES})
    levers: dict[str, list[tuple[str, Any, str]]] = field(default_factory=dict)

    def route(self, key: str, value: Any, origin: str) -> None:
        head, _, rest = key.partition(".")
        if head in PROFILE_PREFIXES and rest:
            self.profiles[head].append((rest, value, origin))
        elif head == "levers" and rest and "." in rest:
            lid, _, lkey = rest.partition(".")
            self.levers.setdefault(lid, []).append((lkey, value, origin))
        elif head in S.SCENARIO and not isinstance(S.SCENARIO[head], S.Free) and not rest:
            self.scenario.append((key, value, origin))
        else:
            known = [*S.CORE, "devices", "hardware.<key>", "facility.<key>", "workload.<key>", "levers.<id>.<key>"]
            raise InputError(f"{key} ({origin}): not a scenario key or profile key" + P.suggest(key, known))


def resolve(req: Request) -> Resolved:
    """Load everything a request names and build the model inputs.

    Raises:
        TokencalcError: any invalid file, reference, key, unit or conflict.
    """
    dirs = P.search_dirs(req.profile_dirs)
    over = _Overrides()
    scenario = None
    if not req.bare:
        scenario = P.load(req.scenario or DEFAULT_SCENARIO, "scenario", dirs)
        for key, value in _flatten(scenario.raw.get("override", {})):
            over.route(key, value, f"[override] in {scenario.path}")
    for text in req.sets:
        key, value = parse_set(text)
        over.route(key, value, f"--set {key}")
    if scenario is not None and over.scenario:
        scenario = P.apply_overrides(scenario, over.scenario)
    elif over.scenario:  # --bare with --set on scenario keys: validate them on an empty scenario
        empty = P.Profile("(flags)", "scenario", "(flags)", "(flags)", {}, {}, {})
        scenario = P.apply_overrides(empty, over.scenario)
    loaded = _profiles(req, scenario, over, dirs)
    levers = _levers(req, scenario, over, dirs)
    inputs = build(req.flags, scenario, loaded["hardware"], loaded["facility"], loaded["workload"], levers,
                   bare=req.bare)
    if not req.bare:
        inputs = replace(inputs, modified_by=req.changes())
    if scenario is not None and scenario.get("prefill_fleet"):
        inputs = replace(inputs, prefill_elsewhere=True)  # a decode fleet: another fleet prefills (analysis)
    return Resolved(inputs, scenario, loaded["hardware"], loaded["facility"], loaded["workload"], levers, dirs)


def _base(scenario: P.Profile | None) -> Path | None:
    return Path(scenario.file).parent if scenario is not None and scenario.file else None


def _profiles(req: Request, scenario: P.Profile | None, over: _Overrides,
              dirs: list[Path]) -> dict[str, P.Profile | None]:
    """The hardware, facility and workload profiles: a flag's reference, else the scenario's."""
    loaded: dict[str, P.Profile | None] = {}
    for kind in PROFILE_PREFIXES:
        if kind in req.refs:
            ref, from_file = req.refs[kind], None
        elif scenario is not None and scenario.get(kind):
            ref, from_file = scenario.get(kind), scenario.path
        else:
            if over.profiles[kind]:
                raise InputError(f"{over.profiles[kind][0][2]}: there is no {kind} profile to override "
                                 f"(give --{kind} or a scenario with one)")
            loaded[kind] = None
            continue
        loaded[kind] = P.load(ref, kind, dirs, base=_base(scenario) if from_file else None,
                              overrides=over.profiles[kind], file=from_file, key=kind if from_file else f"--{kind}")
    return loaded


def _levers(req: Request, scenario: P.Profile | None, over: _Overrides, dirs: list[Path]) -> list[P.Profile]:
    """The scenario's levers and the `--lever` ones, each once, with their overrides."""
    refs = list(scenario.get("levers", []) if scenario is not None else []) + list(req.levers)
    levers: list[P.Profile] = []
    seen = set()
    for ref in refs:
        prof = P.load(ref, "lever", dirs, base=_base(scenario), overrides=over.levers.pop(Path(ref).stem, []),
                      file=scenario.path if scenario is not None and ref not in req.levers else None,
                      key="levers")
        if prof.id in seen:
            raise InputError(f"lever '{prof.id}' is listed twice")
        seen.add(prof.id)
        levers.append(prof)
    if over.levers:
        lid = next(iter(over.levers))
        raise InputError(f"{over.levers[lid][0][2]}: lever '{lid}' is not in this scenario's levers")
    return levers


def resolve_with(req: Request, values: dict[str, float], replace_partners: bool = False) -> Resolved:
    """Resolve `req` as if each key in `values` (SI) had been given as a flag.

    With `replace_partners`, flags that answer the same question as a key (and the
    key's own flag) give way to it: solving for `p_it` with `--p-facility 2MW` given.
    """
    flags = dict(req.flags)
    if replace_partners:
        for k in values:
            for other in partners(k):
                flags.pop(other, None)
    flags.update({k: flag_text(k, v) for k, v in values.items()})
    return resolve(replace(req, flags=flags))


def flag_text(key: str, value: float) -> str:
    """A flag value for `value` (SI), so a scenario resolves as if `--KEY value` were given."""
    if S.CORE[key].type == "int":
        return str(int(round(value)))
    unit = core_unit(key)
    return repr(float(value)) if unit == "1" else f"{float(value)!r} {unit}"
