"""`tokencalc profiles list|show|validate` and `tokencalc schema KIND`."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from ..resolve import schema as S


class Kind(str, Enum):
    """Profile kinds."""

    hardware = "hardware"
    facility = "facility"
    workload = "workload"
    lever = "lever"
    scenario = "scenario"


class ListFormat(str, Enum):
    """Formats of `profiles list` / `show`."""

    table = "table"
    json = "json"


ProfilesOpt = Annotated[Optional[List[str]], typer.Option("--profiles", help="extra profile folder (repeatable; also TOKENCALC_PROFILES)")]


def _dirs(profiles: Optional[List[str]]):
    from ..resolve.profiles import search_dirs

    return search_dirs(profiles or [])


def register(app: typer.Typer) -> None:
    """Add the `profiles` group and `schema` to the app."""
    group = typer.Typer(help="Browse and check hardware, facility, workload, lever and scenario profiles.",
                        no_args_is_help=True, rich_markup_mode=None)
    app.add_typer(group, name="profiles")

    @group.command("list")
    def list_(
        kind: Annotated[Optional[Kind], typer.Argument(help="only this kind", show_default=False)] = None,
        format: Annotated[ListFormat, typer.Option("--format", "-f", help="output format")] = ListFormat.table,
        profiles: ProfilesOpt = None,
    ) -> None:
        """List the profiles tokencalc can see (bundled and --profiles folders)."""
        from ..resolve.profiles import list_profiles

        entries = list_profiles(kind.value if kind else None, _dirs(profiles))
        if format is ListFormat.json:
            sys.stdout.write(json.dumps([e.__dict__ for e in entries], indent=2) + "\n")
            return
        from rich import box
        from rich.console import Console
        from rich.table import Table

        t = Table(box=box.SIMPLE_HEAVY, header_style="bold")
        for col in ("kind", "id", "name", "path"):
            t.add_column(col, overflow="fold")
        for e in entries:
            t.add_row(e.kind, e.id, e.name, e.path)
        Console().print(t)

    @group.command("show")
    def show(
        ref: Annotated[str, typer.Argument(metavar="ID", help="profile id or path", show_default=False)],
        kind: Annotated[Optional[Kind], typer.Option("--kind", help="kind, when an id exists in several kinds")] = None,
        format: Annotated[ListFormat, typer.Option("--format", "-f", help="output format")] = ListFormat.table,
        profiles: ProfilesOpt = None,
    ) -> None:
        """Show one profile: every value with its unit and its source (JSON: SI values)."""
        from ..errors import ProfileError
        from ..resolve.profiles import list_profiles, load, load_path, looks_like_path

        dirs = _dirs(profiles)
        if looks_like_path(ref):
            prof = load_path(Path(ref), kind.value if kind else None) if Path(ref).is_file() else None
            if prof is None:
                raise ProfileError(f"profile file '{ref}' not found")
        else:
            kinds = [kind.value] if kind else [e.kind for e in list_profiles(None, dirs) if e.id == ref]
            if not kinds:
                known = sorted({e.id for e in list_profiles(None, dirs)})
                import difflib

                hint = difflib.get_close_matches(ref, known, n=3, cutoff=0.5)
                raise ProfileError(f"no profile '{ref}'" + (f"; did you mean {', '.join(map(repr, hint))}?" if hint else
                                                            " (see `tokencalc profiles list`)"))
            if len(kinds) > 1:
                raise ProfileError(f"'{ref}' is a {' and a '.join(kinds)} profile; choose one with --kind")
            prof = load(ref, kinds[0], dirs)
        rows = []
        for key, value in prof.values.items():
            if key in ("kind", "name", "description", "notes"):
                continue
            spec = S.leaf(prof.kind, key)
            src = prof.source_for(key)
            rows.append((key, value, _unit(spec), src.text if src else None, prof.ranges.get(key)))
        if format is ListFormat.json:
            out = {"id": prof.id, "kind": prof.kind, "name": prof.name, "path": prof.path,
                   "description": prof.get("description"), "notes": prof.get("notes"), "sha256": prof.sha256,
                   "values": {k: {"value": v, "unit": u, "source": s,
                                  **({"range": {"low": r.low, "mode": r.mode, "high": r.high}} if r else {})}
                              for k, v, u, s, r in rows}}
            sys.stdout.write(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
            return
        from rich import box
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        from ..render.humanize import si, sig

        console = Console()
        console.print(Text(f"{prof.name}", style="bold"), Text(f"  [{prof.kind} {prof.id}]  {prof.path}", style="dim"))
        if prof.get("description"):
            console.print(prof.get("description"))
        t = Table(box=box.SIMPLE_HEAVY, header_style="bold")
        t.add_column("key")
        t.add_column("value", justify="right")
        t.add_column("source", overflow="fold", style="dim")
        for key, value, unit, src, rng in rows:
            if isinstance(value, float) and unit not in ("", "1"):
                shown = si(value, unit)
            elif isinstance(value, float):
                shown = sig(value, 4)
            elif isinstance(value, list):
                shown = ", ".join(value) or "(none)"
            else:
                shown = str(value)
            if rng is not None:
                shown += f"  [{sig(rng.low, 3)} … {sig(rng.high, 3)}]"
            t.add_row(key, shown, src or "—")
        console.print(t)
        if prof.get("notes"):
            console.print(Text("Notes: " + prof.get("notes"), style="dim"))

    @group.command("validate")
    def validate(
        paths: Annotated[List[Path], typer.Argument(help="profile files or folders (folders are searched for *.toml)", show_default=False)],
    ) -> None:
        """Check profile files: TOML syntax, known keys, units, ranges and references. Exit 2 on the first error list."""
        from ..errors import TokencalcError
        from ..resolve.profiles import load_path, resolve_ref, search_dirs

        files: list[Path] = []
        for p in paths:
            if p.is_dir():
                files += sorted(p.rglob("*.toml"))
            elif p.is_file():
                files.append(p)
            else:
                raise TokencalcError(f"'{p}' does not exist")
        if not files:
            raise TokencalcError("no .toml files found in " + ", ".join(map(str, paths)))
        dirs = search_dirs()
        errors = []
        for f in files:
            try:
                prof = load_path(f)
                if prof.kind == "scenario":  # references must resolve too
                    for k in ("hardware", "facility", "workload"):
                        if prof.get(k):
                            resolve_ref(prof.get(k), k, [f.parent.parent, *dirs], base=f.parent, file=str(f), key=k)
                    for ref in prof.get("levers", []):
                        resolve_ref(ref, "lever", [f.parent.parent, *dirs], base=f.parent, file=str(f), key="levers")
                sys.stdout.write(f"ok  {f}  ({prof.kind} {prof.id})\n")
            except TokencalcError as exc:
                errors.append(str(exc))
                sys.stdout.write(f"ERR {f}\n")
        if errors:
            for e in errors:
                sys.stderr.write(f"tokencalc: error: {e}\n")
            raise typer.Exit(2)

    @group.command("docs")
    def docs(
        output: Annotated[Optional[Path], typer.Option("--output", "-o", help="write here instead of stdout (replaced atomically)")] = None,
        check: Annotated[Optional[Path], typer.Option("--check", help="exit 1 if this file is not the current catalogue")] = None,
    ) -> None:
        """Render the Markdown catalogue of the bundled profiles (docs/profiles.md): key figures and sources."""
        from ..render.catalogue import check_current, render_markdown

        if check is not None:
            if not check_current(check):
                sys.stderr.write(f"tokencalc: {check} is out of date; regenerate with `tokencalc profiles docs -o {check}`\n")
                raise typer.Exit(1)
            return
        text = render_markdown()
        if output is None:
            sys.stdout.write(text)
            return
        from ..fileio import write_atomic

        write_atomic(output, text, force=True, flag="--output")
        sys.stderr.write(f"wrote {output}\n")

    @app.command("schema")
    def schema_(kind: Annotated[Kind, typer.Argument(help="profile kind", show_default=False)]) -> None:
        """Print the JSON Schema of a profile kind (for editor validation of TOML profiles, e.g. taplo)."""
        sys.stdout.write(json.dumps(S.json_schema(kind.value), indent=2, ensure_ascii=False) + "\n")


def _unit(spec) -> str:
    from ..units import DIMENSIONS

    if spec is None or spec.type != "quantity":
        return ""
    return DIMENSIONS[spec.dim][1]
