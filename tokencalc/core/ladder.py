"""The boundary ladder: accelerator → node → rack → IT → facility (docs/model.md §5.1).

Each rung multiplies power (and energy per token) by a declared overhead:

    node   = accelerator × node_overhead      host CPUs, DRAM, NICs, fans (server power per device / board power)
    rack   = node × rack_overhead             switch trays, power shelves, rack management
    IT     = rack × fabric_overhead           data-center network and storage outside the racks
    facility = IT × PUE                       cooling, power conversion, lighting

A conversion crosses rungs only where at least one of them is declared (or, for the node rung,
derived from a hardware profile's server power). Undeclared rack and fabric rungs count as ×1 and are
marked "not declared", so the ladder shows what the IT figure leaves out instead of inventing a share.
A declared `it_overhead` (the whole step from the stated boundary to IT) replaces the rungs it spans.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .arith import known

ORDER = ("accelerator", "node", "rack", "it", "facility")
# rung key -> (from boundary, to boundary, what it counts)
RUNGS = {
    "node_overhead": ("accelerator", "node", "host CPUs, DRAM, NICs, fans"),
    "rack_overhead": ("node", "rack", "switch trays, power shelves"),
    "fabric_overhead": ("rack", "it", "data-center network and storage"),
}


@dataclass(frozen=True)
class Rung:
    """One step of the ladder: its factor and how it is known ("declared", "provisioned", "not declared")."""

    key: str
    lower: str
    upper: str
    factor: Any
    basis: str


def rung(d: Any, key: str) -> Rung:
    """One rung's factor: declared, derived from the hardware's server power (node, provisioned), or ×1 undeclared."""
    lower, upper, _ = RUNGS[key]
    value = getattr(d, key)
    if value is not None:
        return Rung(key, lower, upper, value, "declared")
    if key == "node_overhead" and known(d.server_power_per_device, d.tdp):
        # Server power per device is a nameplate (provisioned) rating: the host's drawn share is lower.
        return Rung(key, lower, upper, d.server_power_per_device / d.tdp, "provisioned")
    return Rung(key, lower, upper, None if key == "node_overhead" else 1.0, "not declared")


def path(d: Any, boundary: str) -> list[Rung]:
    """The rungs from `boundary` up to IT (empty at or above IT)."""
    start = ORDER.index(boundary)
    return [rung(d, k) for k, (lower, _, _) in RUNGS.items() if ORDER.index(lower) >= start]


def to_it(d: Any, boundary: str) -> Any:
    """IT power per unit of power at `boundary` (None when the path crosses no declared rung, or the node rung
    is unknown). 1 at the IT boundary; facility is not handled here (divide by PUE)."""
    if boundary == "it":
        return 1.0
    rungs = path(d, boundary)
    if any(r.factor is None for r in rungs) or all(r.basis == "not declared" for r in rungs):
        return None
    out: Any = 1.0
    for r in rungs:
        out = out * r.factor
    return out


def by_boundary(d: Any, e_it: Any, boundary: str, kappa: Any, kappa_given: bool) -> dict[str, Any]:
    """e_tok at every boundary that can be derived from the IT figure (None where a rung is unknown).

    Below the stated boundary the rungs are used only when the conversion itself used them (no declared
    `it_overhead`, `kappa_given`, standing in for them); the stated boundary's own value is then e_it / kappa.
    """
    out: dict[str, Any] = dict.fromkeys(ORDER)
    if e_it is None:
        return out
    out["it"] = e_it
    out["facility"] = e_it * d.pue if d.pue is not None else None
    if kappa_given and boundary != "it":
        out[boundary] = e_it / kappa if kappa is not None else None
        return out
    value = e_it
    for key in reversed(tuple(RUNGS)):
        r = rung(d, key)
        if r.factor is None:
            break
        value = value / r.factor
        out[r.lower] = value
    return out


def undeclared(d: Any, boundary: str) -> list[str]:
    """The rungs between `boundary` and IT that count as ×1 because nothing declares them."""
    return [r.key for r in path(d, boundary) if r.basis == "not declared"]


def describe(d: Any, boundary: str) -> str:
    """The rungs of a conversion in words, for provenance and notes."""
    parts = []
    for r in path(d, boundary):
        if r.basis == "provisioned":
            hw = f" from hardware {d.hardware}" if d.hardware else ""
            parts.append(f"node ×{r.factor:.3g}{hw}: {d.server_power_per_device:g} W server power per device / "
                         f"{d.tdp:g} W board power, provisioned")
        elif r.basis == "declared":
            parts.append(f"{r.upper if r.upper != 'it' else 'network/storage'} ×{r.factor:.3g} (declared)")
    missing = [RUNGS[k][2] for k in undeclared(d, boundary)]
    if missing:
        parts.append(", ".join(missing) + " not declared (×1)")
    return "; ".join(parts)
