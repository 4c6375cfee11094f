"""A value strategy for every flag of every command, keyed by the flag's parameter name.

`STRATEGIES[name](ctx)` draws an :class:`~tests.fuzz.case.Arg` (the tokens and any files
they need); `ctx` is the :class:`Context` of the case (the command, and the local profile
files it may reference). `commands.py` checks that every parameter of every command has
an entry here, so a new flag is fuzzed from the day it exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from hypothesis import strategies as st

from tokencalc.resolve import schema as S

from . import logs, profiles as P, specs, values as V
from .case import Arg

PATH_JUNK = ["", " ", "/dev/null", "/dev/zero", "missing.toml", "a" * 300, ".", "prof", "nofolder/x", "\x1b[2J"]
# `calibrate --energy`: the serving-stack report fixtures, and reports with broken values or no known format.
ENERGY_REPORTS = st.sampled_from(
    [f.read_bytes() for f in sorted((__import__("pathlib").Path(__file__).parent.parent / "data" / "energy").iterdir())]
    + [b"{}", b"[]", b"\xff", b'{"gpu_energy_j": NaN, "total_output_tokens": 10, "energy_gpu_ids": [0]}',
       b'{"steady_state_energy": -1, "steady_state_duration": 1, "steady_state_energy_per_token": 0, "num_gpus": 1}',
       b'{"details": {"energy_mj": Infinity, "generated_tokens": 1}}', b'{"task": "x", "configurations": []}'])


@dataclass
class Context:
    """What the flags of one case may refer to."""

    command: str
    local: dict[str, tuple[str, ...]] = field(default_factory=dict)    # kind -> local profile paths
    files: dict[str, bytes] = field(default_factory=dict)        # files already drawn
    has_profiles_dir: bool = False


def flag(name: str) -> Callable[[Context], st.SearchStrategy[Arg]]:
    """A boolean switch."""
    return lambda ctx: st.just(Arg([name]))


def valued(name: str, strategy: st.SearchStrategy[str]) -> st.SearchStrategy[Arg]:
    """`NAME VALUE`."""
    return strategy.map(lambda v: Arg([name, v]))


def repeated(name: str, strategy: st.SearchStrategy[str], max_size: int = 3) -> st.SearchStrategy[Arg]:
    """`NAME V1 NAME V2 ...` (at least one)."""
    return st.lists(strategy, min_size=1, max_size=max_size).map(lambda vs: Arg([t for v in vs for t in (name, v)]))


def choice(name: str, choices: list[str]) -> Callable[[Context], st.SearchStrategy[Arg]]:
    """One of the choices, or (rarely) one that is not."""
    values = V.mixed(st.sampled_from(choices), st.sampled_from(["", "JSON", "nope", choices[0] + "x"]), 9)
    return lambda ctx: valued(name, values)


def ints(lo: int, hi: int, junk: list[str]) -> st.SearchStrategy[str]:
    """Whole numbers in a range, or junk."""
    return V.mixed(st.integers(lo, hi).map(str), st.sampled_from(junk))


def ref(kind: str) -> Callable[[Context], st.SearchStrategy[Arg]]:
    """`--hardware/--facility/--workload REF` (`calibrate` too)."""
    return lambda ctx: valued(f"--{kind}", P.refs_for(kind, ctx.local.get(kind)))


def ref_list(kind: str) -> Callable[[Context], st.SearchStrategy[Arg]]:
    """compare's comma lists: ids, local files, `all`, `none` for levers, `+` lever sets."""
    def build(ctx: Context) -> st.SearchStrategy[Arg]:
        one = P.refs_for(kind, ctx.local.get(kind))
        item = st.one_of(one, one, st.lists(one, min_size=1, max_size=2).map("+".join)) if kind == "lever" else one
        items = st.lists(V.mixed(st.one_of(item, item, item, st.just("all")), st.sampled_from(["none", "", " "])),
                         min_size=1, max_size=3)
        return valued(f"--{kind}", items.map(",".join))
    return build


def scenario_ref(ctx: Context) -> st.SearchStrategy[str]:
    """A positional SCENARIO: a bundled id, a local file, or one that does not resolve."""
    return P.refs_for("scenario", ctx.local.get("scenario"))


def output(name: str, suffixes: list[str]) -> Callable[[Context], st.SearchStrategy[Arg]]:
    """An output path in the case folder: sometimes existing already, a folder, or in a missing folder."""
    @st.composite
    def build(draw, ctx: Context) -> Arg:
        kind = draw(st.sampled_from(["new"] * 6 + ["existing"] * 3 + ["folder", "missing", "unicode"]))
        suffix = draw(st.sampled_from(suffixes))
        path = {"folder": "outdir", "missing": f"nofolder/out{suffix}", "unicode": f"ünï cödé{suffix}"}.get(
            kind, f"out-{name.strip('-')}{suffix}")
        arg = Arg([name, path], outputs=[path])
        if kind == "existing":
            arg.preexisting.append(path)
        if kind == "folder":
            arg.dirs.append(path)
        return arg
    return build


def file_arg(name: str, path: str, content: st.SearchStrategy[bytes]) -> Callable[[Context], st.SearchStrategy[Arg]]:
    """`NAME PATH` with the file's bytes drawn (or, rarely, a path that is not a readable file)."""
    def build(ctx: Context) -> st.SearchStrategy[Arg]:
        made = content.map(lambda blob: Arg([name, path], files={path: blob}))
        return V.mixed(made, st.sampled_from(PATH_JUNK).map(lambda p: Arg([name, p])), 6)
    return build


def power_logs(ctx: Context) -> st.SearchStrategy[Arg]:
    """One to three `-p LOG` files, nvidia-smi CSV or DCGM text, mutated or not."""
    def one(i: int) -> st.SearchStrategy[Arg]:
        nv = logs.nvidia_smi().map(lambda b: Arg(["-p", f"gpu{i}.csv"], files={f"gpu{i}.csv": b}))
        dc = logs.dcgm().map(lambda b: Arg(["-p", f"dcgm{i}.prom"], files={f"dcgm{i}.prom": b}))
        junk = st.sampled_from(PATH_JUNK).map(lambda p: Arg(["-p", p]))
        return V.mixed(st.one_of(nv, nv, dc), junk, 6)
    return st.integers(1, 3).flatmap(lambda n: st.tuples(*[one(i) for i in range(n)])).map(
        lambda parts: sum(parts, Arg()))


@st.composite
def template_dir(draw, ctx: Context) -> Arg:
    """`--template DIR` with a report.html.j2 that extends the bundled one, replaces it, or is broken."""
    body = draw(st.sampled_from([
        '{% extends "tokencalc/report.html.j2" %}{% block header %}<h1>{{ scenario_name }}</h1>{% endblock %}',
        "<html><body>{{ scenario_name }}</body></html>", "{% if %}", "{{ nope }}", "{{ 1 / 0 }}",
        "{{ ''.__class__.__mro__ }}", '{% include "/etc/passwd" %}', '{% include "../x" %}',
        '<img src="file:///etc/passwd"><img src="http://example.org/x.png">{{ scenario_name }}',
        '{% extends "tokencalc/nope.j2" %}', "{{ range(10**9) | list }}"]))
    files = {"tpl/report.html.j2": body.encode()}
    if draw(st.booleans()):
        files["tpl/report.css"] = draw(st.sampled_from([b"body{}", b"@import url(http://x);", b"\xff"]))
    return draw(V.mixed(st.just(Arg(["--template", "tpl"], files=files)),
                        st.sampled_from(["missing", "/dev/null", "."]).map(lambda p: Arg(["--template", p]))))


def profiles_dir(ctx: Context) -> st.SearchStrategy[Arg]:
    """`--profiles DIR`: the case's profile folder (when it has one) or one that is not a folder."""
    bad = st.sampled_from(["missing-dir", "/dev/null", "tpl", "prof/hardware"]).map(lambda p: Arg(["--profiles", p]))
    if ctx.has_profiles_dir:
        return V.mixed(st.just(Arg(["--profiles", "prof"])), bad)
    return bad if V.hostile_case() else st.just(Arg())


TIMES = V.mixed(st.sampled_from(["1 day", "1 hour", "6 hour", "1 week", "30 day"]),
                st.sampled_from(["0 s", "-1 day", "1 W", "nan day", "1e-9 s", "1e50 s", "x", ""]))
WINDOW = V.mixed(st.sampled_from(["0 s", "5 s", "30 s", "-5 s", "2024-05-01T12:00:00", "2024-05-01T12:00:02Z"]),
                 st.sampled_from(["-1e9 s", "1e50 s", "nan s", "2024-13-01T00:00:00", "12:00:00", "10 W", "",
                                  "0001-01-01T00:00:00", "9999-12-31T23:59:59"]))


def core_flag(key: str) -> Callable[[Context], st.SearchStrategy[Arg]]:
    """`--KEY VALUE` for a core input, from the schema."""
    spec = S.CORE[key]
    return lambda ctx: valued("--" + key.replace("_", "-"), V.field_text(spec, key))


def _strategies() -> dict[str, Callable[[Context], st.SearchStrategy[Arg]]]:
    out: dict[str, Callable[[Context], st.SearchStrategy[Arg]]] = {k: core_flag(k) for k in S.CORE}
    formats = ["table", "json", "csv", "markdown", "latex", "jsonl"]
    out.update({
        "hardware": ref("hardware"), "facility": ref("facility"), "workload": ref("workload"),
        "lever": lambda ctx: repeated("--lever", P.refs_for("lever", ctx.local.get("lever"))),
        "bare": flag("--bare"), "whole_token": flag("--whole-token-levers"),
        "allow_shift": flag("--allow-operating-point-shift"),
        "set_": lambda ctx: repeated("--set", specs.set_arg()),
        "profiles": profiles_dir,
        "format": lambda ctx: valued("-f", V.mixed(st.sampled_from(formats), st.sampled_from(["", "yaml"]))),
        "fmt": choice("-f", ["table", "json"]),
        "fail_if": choice("--fail-if", ["power-bound", "compute-bound"]),
        "mc": lambda ctx: valued("--mc", ints(1, 20000, ["0", "-1", "5000001", "99999999999999999999", "x", "1e3"])),
        "seed": lambda ctx: valued("--seed", ints(-5, 2**40, ["-1", str(2**64), str(-2**63), "x"])),
        "resolution": lambda ctx: valued("--resolution", TIMES),
        "period": choice("--period", ["day", "week", "month", "quarter", "year"]),
        "target_tokens": lambda ctx: valued("--target-tokens", V.mixed(
            st.one_of(V.magnitudes(3, 22).map(lambda x: f"{x:g}"), st.sampled_from(["1e15 token", "1 Gtoken"])),
            st.sampled_from(["nan", "-1", "1e400", "5 W", "0", "inf", "", "1e200"]))),
        "trajectory": lambda ctx: repeated("--trajectory", specs.trajectory_arg(), 2),
        "csv_table": choice("--csv-table", ["series", "periods"]),
        "series": lambda ctx: st.sampled_from([Arg(["--series"]), Arg(["--no-series"])]),
        "chart": lambda ctx: (output("--chart", [".svg", ".svg", ".png", ""])(ctx) if ctx.command == "sensitivity"
                              else st.sampled_from([Arg(["--chart"]), Arg(["--no-chart"])])),
        "relative": choice("--relative", ["first", "best"]),
        "sort": lambda ctx: valued("--sort", V.mixed(st.sampled_from(
            ["rate", "compute", "power", "j_per_token", "tokens", "energy", "cost", "relative", "label", "binding",
             "eta_k", "gamma_j_per_flop"]), st.sampled_from(["scenario_modified_by", "inputs", "levers", "nope", ""]))),
        "reverse": flag("--reverse"), "skip_errors": flag("--skip-errors"), "force": flag("--force"),
        "quiet": flag("-q"), "no_counter": flag("--no-counter"),
        "output": lambda ctx: output("-o", {"compare": [".json", ".csv", ".md", ".tex"], "sweep": [".csv", ".jsonl", ".json"],
                                            "report": [".html", ".html", ".html", ".txt", ""],
                                            "profiles docs": [".md"]}.get(ctx.command, [".out"]))(ctx),
        "vary": lambda ctx: st.lists(specs.vary_arg(), min_size=1, max_size=3).map(_vary_tokens),
        "for_": lambda ctx: valued("--for", specs.for_arg()),
        "template": template_dir,
        "paper": choice("--paper", ["a4", "letter"]),
        "metric": choice("-m", ["token_rate_tokens_per_s", "tokens_total", "compute_ceiling_tokens_per_s",
                                "power_ceiling_tokens_per_s", "e_tok_j_per_token", "energy_it_j", "energy_facility_j",
                                "cost_usd", "emissions_kg_co2e"]),
    })
    out.update(_calibrate_strategies())
    return out


def _vary_tokens(varies: list[tuple[str, int]]) -> Arg:
    """The `--vary` tokens, dropping axes once the grid would exceed 300,000 points (keeps each case short)."""
    tokens, size = [], 1
    for text, n in varies:
        if size * n > 300_000 and tokens:
            break
        tokens += ["--vary", text]
        size *= n
    return Arg(tokens)


def _calibrate_strategies() -> dict[str, Callable[[Context], st.SearchStrategy[Arg]]]:
    power = S.CORE["device_power"]
    return {
        "power_log": power_logs,
        "tokens": lambda ctx: valued("--tokens", V.mixed(
            st.one_of(V.magnitudes(2, 9).map(lambda x: f"{x:g}"), V.magnitudes(2, 9).map(lambda x: str(int(x)))),
            st.sampled_from(["nan", "-5", "0", "1e400", "1.2e6 token", "12 W", "", "1e30", "inf"]))),
        "token_basis": choice("--token-basis", ["output", "total"]),
        "bench": file_arg("--bench", "bench.json", logs.bench()),
        "energy": file_arg("--energy", "energy.json", ENERGY_REPORTS),
        "start": lambda ctx: valued("--start", WINDOW),
        "end": lambda ctx: valued("--end", WINDOW),
        "idle_power": lambda ctx: valued("--idle-power", V.field_text(power, "device_power")),
        "idle_window": lambda ctx: valued("--idle-window", V.mixed(
            st.sampled_from(["0 s:4 s", "0 s..4 s", "0 s:2 s"]),
            st.one_of(st.tuples(WINDOW, st.sampled_from([":", ".."]), WINDOW).map("".join),
                      st.sampled_from(["x", "", ":", "4 s:0 s"])))),
        "log_format": choice("--log-format", ["auto", "nvidia-smi", "dcgm"]),
        "interval": lambda ctx: valued("--interval", V.mixed(st.sampled_from(["1 s", "100 ms", "0.5 s"]), st.sampled_from(
            ["0 s", "-1 s", "1 W", "nan s", "1e-300 s", "1e50 s", "", "x"]))),
        "utc_offset": lambda ctx: valued("--utc-offset", V.mixed(st.sampled_from(["+02:00", "-05:30", "Z", "+00:00"]),
                                                                  st.sampled_from(["+25:00", "+02", "0200", "x", "",
                                                                                   "+99:99", "-23:59"]))),
        "c_tok": core_flag("c_tok"),
        "precision": lambda ctx: valued("--precision", V.choice_value(None)),
        "sm_active_reference": lambda ctx: valued("--sm-active-reference", V.mixed(
            st.floats(0, 1).map(repr), st.sampled_from(["0", "nan", "inf", "-0.1", "1.5", "x"]))),
        "write_profile": output("--write-profile", [".toml"]),
        "save_log": output("--save-log", [".csv"]),
        "name": lambda ctx: valued("--name", V.plain_text(30)),
        "gpu": lambda ctx: repeated("--gpu", ints(0, 8, ["-1", "x", "99999999999999999999"])),
        "check": file_arg("--check", "check.md", st.sampled_from([b"", b"# x\n"])),
        # `profiles import-mlenergy`: leaderboard model ids and task ids, and ones that are not
        "model": lambda ctx: repeated("--model", V.mixed(st.sampled_from(
            ["meta-llama/Llama-3.1-8B-Instruct", "acme/Tiny-7B-Instruct"]), st.sampled_from(["", "x", "ünï", "-"]))),
        "task": lambda ctx: valued("--task", V.mixed(st.sampled_from(["lm-arena-chat", "gpqa"]),
                                                     st.sampled_from(["", "nope", "../x"]))),
        # `profiles new workload --from-config`: the hfconfig fixtures, and configs that are not ones
        "from_config": file_arg("--from-config", "config.json", st.sampled_from(
            [f.read_bytes() for f in sorted((__import__("pathlib").Path(__file__).parent.parent / "data" / "hfconfig")
                                            .iterdir())] + [b"{}", b"[]", b"\xff", b'{"hidden_size": 1e999}', b"{" * 5000])),
    }


STRATEGIES = _strategies()
