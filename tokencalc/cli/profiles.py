"""`tokencalc profiles list|show|validate|docs|import-mlenergy|new` and `tokencalc schema KIND`."""

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


def _dirs(profiles: Optional[List[str]]) -> list:
    from ..resolve.profiles import search_dirs

    return search_dirs(profiles or [])


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
    from rich.console import Console

    from ..render.profiles import list_table

    Console().print(list_table(entries))


def show(
    ref: Annotated[str, typer.Argument(metavar="ID", help="profile id or path", show_default=False)],
    kind: Annotated[Optional[Kind], typer.Option("--kind", help="kind, when an id exists in several kinds")] = None,
    format: Annotated[ListFormat, typer.Option("--format", "-f", help="output format")] = ListFormat.table,
    profiles: ProfilesOpt = None,
) -> None:
    """Show one profile: every value with its unit and its source (JSON: SI values)."""
    from ..render import profiles as RP
    from ..resolve.profiles import find, value_rows

    prof = find(ref, kind.value if kind else None, _dirs(profiles))
    rows = value_rows(prof)
    if format is ListFormat.json:
        sys.stdout.write(json.dumps(RP.show_json(prof, rows), indent=2, ensure_ascii=False) + "\n")
        return
    from rich.console import Console

    Console().print(RP.show_renderable(prof, rows))


def validate(
    paths: Annotated[List[Path], typer.Argument(help="profile files or folders (folders are searched for *.toml)", show_default=False)],
) -> None:
    """Check profile files: TOML syntax, known keys, units, ranges and references. Exit 2 on the first error list."""
    from ..errors import one_line
    from ..resolve.profiles import check_files

    results = check_files(paths)
    for f, prof, error in results:
        sys.stdout.write(f"ok  {f}  ({prof.kind} {prof.id})\n" if error is None else f"ERR {f}\n")
    errors = [e for _, _, e in results if e is not None]
    if errors:
        for e in errors:
            sys.stderr.write(f"tokencalc: error: {one_line(str(e))}\n")
        raise typer.Exit(2)


def docs(
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="write here instead of stdout (atomically)")] = None,
    force: Annotated[bool, typer.Option("--force", help="replace an existing --output file")] = False,
    check: Annotated[Optional[Path], typer.Option("--check", help="exit 1 if this file is not the current catalogue")] = None,
) -> None:
    """Render the Markdown catalogue of the bundled profiles (docs/profiles.md): key figures and sources."""
    from ..render.catalogue import check_current, render_markdown

    if check is not None:
        if not check_current(check):
            sys.stderr.write(f"tokencalc: {check} is out of date; regenerate with `tokencalc profiles docs -o {check} --force`\n")
            raise typer.Exit(1)
        return
    emit(render_markdown(), output, force)


def import_mlenergy(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="the ML.ENERGY Leaderboard's data folder (index.json and one <task>.json per task)", show_default=False)],
    model: Annotated[List[str], typer.Option("--model", help="model_id as the leaderboard writes it, e.g. meta-llama/Llama-3.1-8B-Instruct (repeatable)", show_default=False)],
    task: Annotated[str, typer.Option("--task", help="leaderboard task id")] = "lm-arena-chat",
    gpu: Annotated[Optional[List[str]], typer.Option("--gpu", help="only this GPU: H100 or B200 (repeatable; default all)", show_default=False)] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="write here instead of stdout (atomically)")] = None,
    force: Annotated[bool, typer.Option("--force", help="replace an existing --output file")] = False,
) -> None:
    """Measured operating curves from the ML.ENERGY Leaderboard's data files, as workload TOML.

    Writes `[measured]` (accelerator boundary, output tokens) and one `[[measured.curve]]` row per
    configuration: per-device throughput and power (the leaderboard's figures cover all num_gpus of a
    replica), batch = avg_batch_size, itl = median ITL, with a `[sources]` entry for `measured.curve`.
    """
    from ..calibration.mlenergy import import_curves, to_toml

    emit(to_toml(import_curves(folder, model, task=task, gpus=gpu)), output, force)


def new(
    kind: Annotated[Kind, typer.Argument(help="profile kind (workload)", show_default=False)],
    from_config: Annotated[Path, typer.Option("--from-config", help="a Hugging Face config.json to derive the architecture from", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="the workload profile to write (atomically)", show_default=False)],
    force: Annotated[bool, typer.Option("--force", help="replace an existing --output file")] = False,
    name: Annotated[Optional[str], typer.Option("--name", help="model name for the profile (default: from the config)")] = None,
) -> None:
    """Write a new profile: a workload from a Hugging Face config.json (parameters, KV bytes, arithmetic as comments)."""
    from ..errors import InputError
    from ..resolve.hfconfig import new_workload

    if kind is not Kind.workload:
        raise InputError(f"profiles new {kind.value}: only `workload --from-config` is supported")
    arch = new_workload(from_config, output, force=force, name=name)
    sys.stderr.write(f"tokencalc: wrote {output} ({arch.active:.3g} active of {arch.total:.3g} parameters)\n")


def schema_(kind: Annotated[Kind, typer.Argument(help="profile kind", show_default=False)]) -> None:
    """Print the JSON Schema of a profile kind (for editor validation of TOML profiles, e.g. taplo)."""
    sys.stdout.write(json.dumps(S.json_schema(kind.value), indent=2, ensure_ascii=False) + "\n")


def register(app: typer.Typer) -> None:
    """Add the `profiles` group and `schema` to the app."""
    group = typer.Typer(help="Browse, check and import hardware, facility, workload, lever and scenario profiles.",
                        no_args_is_help=True, rich_markup_mode=None)
    app.add_typer(group, name="profiles")
    group.command("list")(list_)
    group.command("show")(show)
    group.command("validate")(validate)
    group.command("docs")(docs)
    group.command("import-mlenergy")(import_mlenergy)
    group.command("new")(new)
    app.command("schema")(schema_)


def emit(text: str, output: Optional[Path], force: bool) -> None:
    """`text` on stdout, or atomically to `output` (never over an existing file without --force)."""
    if output is None:
        sys.stdout.write(text)
        return
    from ..fileio import write_atomic

    write_atomic(output, text, force=force, flag="--output")
    sys.stderr.write(f"tokencalc: wrote {output}\n")
