"""Whole cases: a command, its positional arguments, a subset of its flags, and the files they need.

The flags come from the CLI itself (the click parameters of every command), so every
flag of every command is drawn; `options.STRATEGIES` says how to draw each one's value,
and choice-typed flags draw from their own choices. `case()` is the strategy the
campaign runs.
"""

from __future__ import annotations

from functools import lru_cache

from hypothesis import strategies as st

from tokencalc.resolve import schema as S

from . import logs, profiles as P, specs, values as V
from .case import Arg, Case, join
from .options import STRATEGIES, Context, choice, scenario_ref

# How often each command is drawn (report is slow: HTML only, and rarely).
WEIGHTS = {"estimate": 22, "project": 12, "compare": 9, "sweep": 12, "solve": 8, "report": 3, "sensitivity": 6,
           "calibrate": 14, "measure": 1, "profiles list": 2, "profiles show": 5, "profiles validate": 4,
           "profiles docs": 1, "schema": 1}
REQUIRED = {"report": ["output"], "calibrate": ["power_log"], "sweep": ["vary"], "solve": ["for_"]}
# A required input that has alternatives: calibrate reads a power log or a serving stack's energy report.
ALTERNATIVES = {"calibrate": ["power_log", "energy"]}
SHARED = {"hardware", "facility", "workload", "lever", "bare", "set_", "profiles", "whole_token", "allow_shift"}
JSON_FORMATS = {"json": "stdout", "jsonl": "jsonl"}
NOISE = [["--nope"], ["--format"], ["--", "x"], ["-f", "json", "-f", "table"], ["--set"], ["--vary=pue=1:2:3"],
         ["--help"], ["--debug"], ["--pue", "1.2", "--pue", "1.3"], ["\x00"], ["--devices=-1"]]


@lru_cache(maxsize=1)
def parameters() -> dict[str, list]:
    """Command path -> its click parameters, from the real CLI."""
    import typer
    from typer import _click as click

    from tokencalc.cli import root

    group = typer.main.get_command(root.app)
    ctx = click.Context(group)
    out: dict[str, list] = {}

    def walk(cmd, path: list[str]) -> None:
        if hasattr(cmd, "list_commands"):
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name), path + [name])
        else:
            out[" ".join(path)] = list(cmd.params)

    walk(group, [])
    return out


def missing_strategies() -> list[str]:
    """Flags of the CLI that no strategy draws (must be empty: a new flag is fuzzed from day one)."""
    return [f"{cmd} {p.opts[0]}" for cmd, params in parameters().items() for p in params
            if p.param_type_name == "option" and p.name not in STRATEGIES and not _choices(p)]


def _choices(param) -> list[str] | None:
    return list(param.type.choices) if hasattr(param.type, "choices") else None


def option_strategy(command: str, param, ctx: Context) -> st.SearchStrategy[Arg]:
    """The value strategy of one flag."""
    custom = {"lever", "chart"} if command != "compare" else {"chart"}
    if _choices(param) and param.name not in custom:
        choices = _choices(param)
        if param.name in ("format", "fmt"):  # machine-readable output is what the oracle checks deepest
            choices = choices + [c for c in choices if c in JSON_FORMATS] * 4
        return choice(max(param.opts, key=len), choices)(ctx)
    if command == "compare" and param.name in ("hardware", "facility", "workload", "lever"):
        from .options import ref_list

        return ref_list(param.name)(ctx)
    return STRATEGIES[param.name](ctx)


@st.composite
def local_profiles(draw, command: str) -> Context:
    """Profile files in the case folder that flags and scenarios may reference."""
    ctx = Context(command)
    for kind in ("hardware", "facility", "workload", "lever"):
        if draw(st.integers(0, 3)) == 0:
            name = f"my-{kind}.toml"
            ctx.files[name] = draw(P.profile_bytes(kind))
            ctx.local[kind] = (f"./{name}",)
    if draw(st.integers(0, 6)) == 0:
        ctx.has_profiles_dir = True
        for kind in ("hardware", "workload", "scenario"):
            ctx.files[f"prof/{S.FOLDERS[kind]}/fz-{kind}.toml"] = draw(P.profile_bytes(kind, ctx.local))
    if draw(st.integers(0, 2)) == 0:
        ctx.files["scen.toml"] = draw(P.profile_bytes("scenario", ctx.local))
        ctx.local["scenario"] = ("scen.toml", "./scen.toml")
    if command in ("project", "report", "estimate"):
        ctx.files["series.csv"] = draw(specs.series_csv())
        ctx.files["series2.csv"] = draw(specs.series_csv())
    return ctx


@st.composite
def positional(draw, command: str, ctx: Context) -> Arg:
    """The positional arguments of a command."""
    if command in ("estimate", "project", "sweep", "solve", "report", "sensitivity"):
        return Arg([draw(scenario_ref(ctx))]) if draw(st.integers(0, 2)) else Arg()
    if command == "compare":
        return Arg(draw(st.lists(scenario_ref(ctx), max_size=3)))
    if command == "measure":
        return Arg(["--", draw(st.sampled_from(["true", "false", "echo"]))])
    if command == "profiles list":
        return Arg(draw(st.sampled_from([[], [], ["hardware"], ["scenario"], ["lever"], ["workload"]])))
    if command == "profiles show":
        kind = draw(st.sampled_from(list(S.KINDS)))
        return Arg([draw(P.refs_for(kind, ctx.local.get(kind)))])
    if command == "profiles validate":
        return draw(validate_paths(ctx))
    if command == "schema":
        return Arg([draw(V.mixed(st.sampled_from(list(S.KINDS)), st.sampled_from(["nope", ""])))])
    return Arg()


@st.composite
def validate_paths(draw, ctx: Context) -> Arg:
    """Files for `profiles validate`: drawn profiles of any kind, the folder, or paths that are not files."""
    kinds = draw(st.lists(st.sampled_from(list(S.KINDS)), min_size=1, max_size=2))
    files = {f"v{i}-{k}.toml": draw(P.profile_bytes(k, ctx.local)) for i, k in enumerate(kinds)}
    paths = list(files)
    extra = draw(V.mixed(st.sampled_from([[], ["."]]), st.sampled_from([["missing.toml"], ["/dev/null"]])))
    return Arg(paths + extra, files=files)


@st.composite
def flags(draw, command: str, ctx: Context) -> Arg:
    """A subset of the command's flags: the required ones, up to four core inputs, a few others."""
    params = [p for p in parameters()[command] if p.param_type_name == "option"]
    core = [p for p in params if p.name in S.CORE]
    required = REQUIRED.get(command, [])
    if command in ALTERNATIVES:
        required = [draw(st.sampled_from(ALTERNATIVES[command]))]
    other = [p for p in params if p.name not in S.CORE and p.name not in required
             and p.name not in ALTERNATIVES.get(command, []) + ["format", "fmt"]]
    chosen = [p for p in params if p.name in required
              and not (V.hostile_case() and draw(st.integers(0, 15)) == 0)]
    chosen += [p for p in params if p.name in ("format", "fmt") and draw(st.integers(0, 3))]
    if core:
        chosen += draw(st.lists(st.sampled_from(core), unique_by=lambda p: p.name, max_size=4))
    if other:
        chosen += draw(st.lists(st.sampled_from(other), unique_by=lambda p: p.name, max_size=min(len(other), 5)))
    names = {p.name for p in chosen}
    if not V.hostile_case() and "output" in names and "format" not in names and command in ("compare", "sweep"):
        chosen += [p for p in params if p.name == "format"]   # -o needs a file format
    if not V.hostile_case() and "seed" in names and "mc" not in names:
        chosen += [p for p in params if p.name == "mc"]       # --seed needs --mc
    parts = [draw(option_strategy(command, p, ctx)) for p in chosen]
    if V.hostile_case() and draw(st.integers(0, 12)) == 0:
        parts.append(Arg(list(draw(st.sampled_from(NOISE)))))
    return join(parts)


def expected_json(command: str, tokens: list[str]) -> str | None:
    """Where JSON is expected on success: "stdout", "jsonl", a file (-o with -f json), or None."""
    fmt, out = None, None
    for i, tok in enumerate(tokens[:-1]):
        if tok in ("-f", "--format"):
            fmt = tokens[i + 1]
        elif tok in ("-o", "--output"):
            out = tokens[i + 1]
    if command == "schema":
        return "stdout"
    where = JSON_FORMATS.get(fmt or "")
    if where is None or "--help" in tokens:
        return None
    if out is not None and command in ("compare", "sweep"):
        return f"file:{out}" if where == "stdout" else f"jsonl-file:{out}"
    return where


@st.composite
def case(draw) -> Case:
    """One fuzz case for any command."""
    names = [name for name, w in WEIGHTS.items() for _ in range(w)]
    command = draw(st.sampled_from(names))
    V.HOSTILE[0] = draw(st.booleans())
    ctx = draw(local_profiles(command))
    pos, opts = draw(positional(command, ctx)), draw(flags(command, ctx))
    arg = opts + pos if command == "measure" else pos + opts  # `measure [OPTIONS] -- CMD`
    tokens = command.split() + [t.replace("\x00", "") for t in arg.tokens]  # argv cannot carry NUL
    env = {}
    if V.hostile_case() and draw(st.integers(0, 20)) == 0:
        env["TOKENCALC_PROFILES"] = draw(st.sampled_from(["prof", "missing", "/dev/null", ":", "prof:prof"]))
    return Case(command, tokens, files={**ctx.files, **arg.files}, dirs=arg.dirs, outputs=arg.outputs,
                preexisting=arg.preexisting, json=expected_json(command, tokens), env=env, hostile=V.hostile_case())


__all__ = ["case", "missing_strategies", "parameters", "logs"]
