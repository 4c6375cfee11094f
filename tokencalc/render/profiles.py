"""Profiles for people: the `profiles list` table and one profile's values with their sources."""

from __future__ import annotations

from typing import Any

from . import humanize as H


def list_table(entries: list[Any]) -> Any:
    """The profiles as a rich Table (kind, id, name, path)."""
    from rich import box
    from rich.table import Table

    t = Table(box=box.SIMPLE_HEAVY, header_style="bold")
    for col in ("kind", "id", "name", "path"):
        t.add_column(col, overflow="fold")
    for e in entries:
        t.add_row(e.kind, e.id, e.name, e.path)
    return t


def show_json(prof: Any, rows: list[tuple]) -> dict[str, Any]:
    """One profile as plain data: every value in SI with its unit, source and range."""
    return {"id": prof.id, "kind": prof.kind, "name": prof.name, "path": prof.path,
            "description": prof.get("description"), "notes": prof.get("notes"), "sha256": prof.sha256,
            "values": {k: {"value": v, "unit": u, "source": s,
                           **({"range": {"low": r.low, "mode": r.mode, "high": r.high}} if r else {})}
                       for k, v, u, s, r in rows}}


def show_renderable(prof: Any, rows: list[tuple]) -> Any:
    """One profile as rich renderables: its name, description, values with sources, and notes."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = [Text.assemble((prof.name, "bold"), (f"  [{prof.kind} {prof.id}]  {prof.path}", "dim"))]
    if prof.get("description"):
        parts.append(Text(prof.get("description")))
    t = Table(box=box.SIMPLE_HEAVY, header_style="bold")
    t.add_column("key")
    t.add_column("value", justify="right")
    t.add_column("source", overflow="fold", style="dim")
    for key, value, unit, src, rng in rows:
        if isinstance(value, list):
            shown = ", ".join(value) or "(none)"
        elif isinstance(value, float):
            shown = H.quantity(value, unit or "1", 4)
        else:
            shown = str(value)
        if rng is not None:
            shown += f"  [{H.sig(rng.low, 3)} … {H.sig(rng.high, 3)}]"
        t.add_row(key, shown, src or "—")
    parts.append(t)
    if prof.get("notes"):
        parts.append(Text("Notes: " + prof.get("notes"), style="dim"))
    return Group(*parts)
