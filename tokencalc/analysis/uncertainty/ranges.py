"""Which ranged inputs reach the evaluated model (docs/model.md §9).

Any quantity in a profile or scenario may be a range, `{ low, mode, high }`
(triangular) or `{ value, rel }`; `resolve.profiles` parses it and puts the mode
in the profile's values, so the point estimate is the estimate at the modes. A
range is sampled where the resolved input still comes from the profile key that
declared it (its structured origin says so) and the input enters the rate,
energy or cost, directly or through a derivation of the core; otherwise it is
listed as not sampled, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...core import RATE_FIELDS, Inputs, gate
from ...core.derive import readers
from ...core.engine import GATE_FIELDS
from ...core.inputs import FIELD_NAMES
from ...resolve import schema as S
from ...resolve.build import source_text
from ...resolve.fields import PROFILE_FIELDS, si_unit

LEVER_KEYS = ("c_tok_factor", "e_tok_factor")


@dataclass(frozen=True)
class RangedInput:
    """One input given as a range that feeds the model.

    Attributes:
        key: the dotted key as a user writes it (`utilization`, `facility.pue`,
            `workload.measured.e_tok`, `levers.<id>.e_tok_factor`).
        low, mode, high: the triangular range in SI units.
        unit: the SI unit of low/mode/high.
        source: where the range comes from (profile and citation).
        field: the `Inputs` field it sets, or `lever:<id>:<factor key>`.
    """

    key: str
    low: float
    mode: float
    high: float
    unit: str
    source: str
    field: str

    @property
    def feeds(self) -> tuple[str, ...]:
        """The field this input moves (a tuple, for the JSON `feeds` list)."""
        return (self.field,)

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON description (SI)."""
        return {"key": self.key, "feeds": list(self.feeds), "low": self.low, "mode": self.mode, "high": self.high,
                "unit": self.unit, "source": self.source}


@dataclass(frozen=True)
class NotSampled:
    """A range that was given but does not reach the sampled model, and why."""

    key: str
    reason: str

    def to_json(self) -> dict[str, str]:
        """Plain-JSON description."""
        return {"key": self.key, "reason": self.reason}


@dataclass(frozen=True)
class Ranges:
    """The ranges behind a resolved scenario: sampled ones and ignored ones, each sorted by key."""

    inputs: tuple[RangedInput, ...]
    not_sampled: tuple[NotSampled, ...]


def live(inp: Inputs, name: str) -> bool:
    """Whether an input enters the rate, energy or cost, directly or through a derivation that fires."""
    return name in RATE_FIELDS or any(d.target in RATE_FIELDS for d in readers(inp, name))


def _field_of(prof: Any, key: str, inp: Inputs) -> tuple[str | None, str | None]:
    """(the Inputs field a ranged profile key feeds, or the reason it cannot)."""
    if prof.kind == "scenario":
        return (key, None) if key in S.CORE and key in FIELD_NAMES else (None, None)
    if prof.kind == "hardware" and key.startswith("peak_flops."):
        if key != f"peak_flops.{inp.precision}":
            return None, f"another precision than the one in use ({inp.precision})"
        return "peak_flops", None
    if prof.kind == "workload" and key.startswith("quality."):
        return None, "feeds the lever gate (quality tolerance), decided at the nominal point"
    return PROFILE_FIELDS.get(prof.kind, {}).get(key), None


def _one(resolved: Any, prof: Any, key: str, rng: Any) -> RangedInput | NotSampled:
    inp: Inputs = resolved.inputs
    dotted = key if prof.kind == "scenario" else f"{prof.kind}.{key}"
    name, reason = _field_of(prof, key, inp)
    if reason is not None:
        return NotSampled(dotted, reason)
    if name in GATE_FIELDS:
        return NotSampled(dotted, "feeds the lever gate (latency SLO), decided at the nominal point")
    origin = inp.origin(name) if name is not None else None
    if origin is None or not origin.is_from(prof.kind, prof.id, key):
        if name is not None and origin is not None:
            return NotSampled(dotted, f"replaced by {inp.provenance[name].source}")
        return NotSampled(dotted, "not used at this operating point")
    if not live(inp, name):
        return NotSampled(dotted, "does not enter the token rate, energy or cost (only reported ratios)")
    unit = si_unit(S.leaf(prof.kind, key)) if prof.kind != "scenario" else si_unit(S.CORE[key])
    return RangedInput(dotted, rng.low, rng.mode, rng.high, unit,
                       _cite(inp.provenance[name].source, resolved.scenario, dotted), name)


def _lever(inp: Inputs, counted: dict[str, Any], lp: Any, key: str, rng: Any) -> RangedInput | NotSampled:
    dotted = f"levers.{lp.id}.{key}"
    if key not in LEVER_KEYS:
        return NotSampled(dotted, "feeds the lever gate, decided at the nominal point")
    if lp.id not in counted:
        return NotSampled(dotted, "the lever is not counted (it shifts the operating point)")
    return RangedInput(dotted, rng.low, rng.mode, rng.high, "1", source_text(lp, key), f"lever:{lp.id}:{key}")


def collect(resolved: Any) -> Ranges:
    """The ranges that feed the resolved inputs, and those that do not (with the reason).

    Args:
        resolved: a `resolve.Resolved`.

    Returns:
        The sampled ranges and the ignored ones, each sorted by key.
    """
    inp: Inputs = resolved.inputs
    found: list[RangedInput | NotSampled] = []
    for prof in (resolved.scenario, resolved.facility, resolved.hardware, resolved.workload):
        if prof is not None:
            found += [_one(resolved, prof, key, rng) for key, rng in sorted(prof.ranges.items())]
    counted = {s.id: s for s in gate(inp) if s.counted}
    for lp in resolved.levers:
        found += [_lever(inp, counted, lp, key, rng) for key, rng in sorted(lp.ranges.items())]
    sampled = sorted((x for x in found if isinstance(x, RangedInput)), key=lambda r: r.key)
    skipped = sorted((x for x in found if isinstance(x, NotSampled)), key=lambda n: n.key)
    return Ranges(tuple(sampled), tuple(skipped))


def _cite(text: str, scen: Any, dotted: str) -> str:
    """An `[override]` range takes its citation from the scenario's [sources] when it has one."""
    if scen is None or "override:" not in text:
        return text
    src = scen.sources.get(dotted) or scen.sources.get("override." + dotted)
    return f"{text}; {src.text}" if src is not None else text


def has_ranges(resolved: Any) -> bool:
    """Whether any input of a resolved scenario is a range that feeds the model."""
    return bool(collect(resolved).inputs)
