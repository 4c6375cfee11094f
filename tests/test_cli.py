"""The `tokencalc` command: exit codes, JSON contract, errors, help, fuzzing."""

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

DOCUMENTED_KEYS = {
    "schema", "scenario", "binding", "binding_peak", "compute_ceiling_tokens_per_s", "power_ceiling_tokens_per_s",
    "token_rate_tokens_per_s", "gamma_j_per_flop", "gamma_star_j_per_flop", "gamma_star_peak_j_per_flop",
    "k_eff_flop_per_s", "k_peak_flop_per_s", "c_tok_flop_per_token", "e_tok_j_per_token", "e_tok_boundary",
    "p_facility_w", "pue", "p_it_w", "utilization", "phi_c", "phi_e", "horizon_s", "tokens_total", "energy_it_j",
    "energy_facility_j", "cost_usd", "emissions_kg_co2e", "inputs", "levers",
}

BARE = ["--bare", "--k-eff", "1.3e16 FLOP/s", "--c-tok", "1.3e11 FLOP/token", "--e-tok", "3 J/token",
        "--p-it", "800 kW"]


def test_default_estimate_json_has_the_documented_keys(cli):
    r = cli("estimate", "--format", "json")
    assert r.code == 0, r.err
    data = r.json()
    assert DOCUMENTED_KEYS <= set(data)
    assert data["schema"] == "tokencalc.estimate/1"
    assert data["scenario"] == "default"
    assert data["binding"] in ("compute", "power", "balanced")
    assert data["e_tok_boundary"] == "it"
    for key, entry in data["inputs"].items():
        assert set(entry) == {"value", "unit", "source"}, key
        assert entry["source"], f"input {key} has no source"
    for key in DOCUMENTED_KEYS - {"inputs", "levers", "schema", "scenario", "binding", "binding_peak", "e_tok_boundary"}:
        assert data[key] is None or isinstance(data[key], (int, float)), key


def test_default_scenario_is_the_worked_example(cli):
    data = cli("estimate", "-f", "json").json()
    assert data["binding"] == "compute"          # realized denominator
    assert data["binding_peak"] == "power"       # peak denominator
    assert data["gamma_star_peak_j_per_flop"] < data["gamma_j_per_flop"] < data["gamma_star_j_per_flop"]
    assert data["k_peak_flop_per_s"] == pytest.approx(1000 * 989.4e12)
    assert data["p_it_w"] == pytest.approx(2e6 / 1.56)


def test_json_is_deterministic(cli):
    assert cli("estimate", "-f", "json").out == cli("estimate", "-f", "json").out


def test_bare_flags_only(cli):
    data = cli("estimate", *BARE, "-f", "json").json()
    assert data["compute_ceiling_tokens_per_s"] == pytest.approx(1e5)
    assert data["power_ceiling_tokens_per_s"] == pytest.approx(8e5 / 3)
    assert data["binding"] == "compute"
    assert data["scenario"] == "bare"
    assert data["inputs"]["k_eff"]["source"] == "flag --k-eff"


def test_flag_overrides_scenario_and_profile(cli):
    base = cli("estimate", "-f", "json").json()
    r = cli("estimate", "-f", "json", "--pue", "1.2").json()
    assert r["pue"] == 1.2 and r["p_it_w"] == pytest.approx(2e6 / 1.2)
    assert r["inputs"]["pue"]["source"] == "flag --pue"
    assert base["inputs"]["pue"]["source"].startswith("facility industry-average")


def test_p_it_flag_replaces_facility_power(cli):
    r = cli("estimate", "-f", "json", "--p-it", "500 kW").json()
    assert r["p_it_w"] == pytest.approx(5e5)
    assert r["p_facility_w"] == pytest.approx(5e5 * 1.56)


def test_set_dotted_profile_key(cli):
    r = cli("estimate", "-f", "json", "--set", "facility.pue=1.1", "--set", "devices=500").json()
    assert r["pue"] == 1.1 and r["devices"] == 500
    assert "override" in r["inputs"]["pue"]["source"]


def test_e_tok_flag_is_it_boundary_unless_stated(cli):
    it = cli("estimate", "-f", "json", "--e-tok", "4 J/token").json()
    assert it["e_tok_j_per_token"] == pytest.approx(4.0)
    acc = cli("estimate", "-f", "json", "--e-tok", "4 J/token", "--e-tok-boundary", "accelerator").json()
    assert acc["e_tok_j_per_token"] == pytest.approx(4.0 * 1275 / 700)


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown", "latex"])
def test_every_format_renders(cli, fmt):
    r = cli("estimate", "--format", fmt)
    assert r.code == 0, r.err
    assert r.out.strip()


def test_csv_is_one_row_of_si_values(cli):
    rows = list(csv.reader(io.StringIO(cli("estimate", "-f", "csv").out)))
    assert len(rows) == 2
    row = dict(zip(*rows))
    assert float(row["p_it_w"]) == pytest.approx(2e6 / 1.56)
    assert row["binding"] == "compute"


def test_latex_is_booktabs(cli):
    out = cli("estimate", "-f", "latex").out
    for token in (r"\toprule", r"\midrule", r"\bottomrule", r"\begin{tabular}", r"\times10^{"):
        assert token in out


def test_table_highlights_binding_and_notes_disagreement(cli):
    out = cli("estimate").out
    assert "binds" in out and "Compute-bound" in out
    assert "conventions disagree" in out


def test_fail_if(cli):
    assert cli("estimate", "--fail-if", "compute-bound", "-f", "json").code == 3
    assert cli("estimate", "--fail-if", "power-bound", "-f", "json").code == 0


@pytest.mark.parametrize("args,needle", [
    (["--pue", "0.9"], "expected a value >= 1"),
    (["--utilization", "1.5"], "utilization"),
    (["--utilization", "0"], "utilization"),
    (["--e-tok", "3 W"], "expected an energy intensity"),
    (["--p-it", "3 J/token"], "expected a power"),
    (["--p-it", "lots"], "could not read 'lots'"),
    (["--horizon", "-1 day"], "horizon"),
    (["--hardware", "h100-sx"], "did you mean 'h100-sxm'"),
    (["--workload", "missing.toml"], "not found"),
    (["--set", "facility.pu=1.2"], "did you mean 'pue'"),
    (["--set", "nonsense"], "expected KEY=VALUE"),
    (["--set", "bogus=1"], "not a scenario key"),
    (["--precision", "fp4"], "lists no dense peak"),
    (["--k-eff", "1e16 FLOP/s", "--kernel-efficiency", "0.5"], "give only one"),
    (["--p-it", "1 MW", "--p-facility", "2 MW"], "give only one"),
    (["--profiles", "/nonexistent/dir"], "does not exist"),
    (["no-such-scenario"], "no scenario profile"),
])
def test_bad_input_is_exit_2_with_one_clear_line(cli, args, needle):
    r = cli("estimate", *args)
    assert r.code == 2, (args, r.out, r.err)
    assert needle in r.err
    assert r.err.startswith("tokencalc: error: ")
    assert "Traceback" not in r.err and r.out == ""


def test_profile_errors_name_file_and_key(cli, tmp_path):
    w = tmp_path / "w.toml"
    w.write_text('kind = "workload"\nname = "w"\n[measured]\ne_tok = "3 W"\n')
    r = cli("estimate", "--workload", str(w))
    assert r.code == 2
    assert "measured.e_tok in" in r.err and "w.toml" in r.err and "3 W" in r.err and "J/token" in r.err


def test_unknown_key_in_profile_suggests(cli, tmp_path):
    f = tmp_path / "f.toml"
    f.write_text('kind = "facility"\nname = "f"\npeu = 1.2\n')
    r = cli("estimate", "--facility", str(f))
    assert r.code == 2 and "peu" in r.err and "did you mean 'pue'" in r.err


def test_version(cli):
    from tokencalc import __version__

    r = cli("--version")
    assert r.code == 0 and __version__ in r.out


def _commands():
    import typer.main

    from tokencalc.cli import app

    group = typer.main.get_group(app)
    stack = [([], group)]
    while stack:
        path, cmd = stack.pop()
        yield path, cmd
        if hasattr(cmd, "list_commands"):
            for name in cmd.list_commands(None):
                stack.append((path + [name], cmd.get_command(None, name)))


def test_lazy_index_matches_the_modules():
    import typer.main

    from tokencalc.cli import root as cli

    for module in cli.COMMAND_MODULES:
        registered = typer.main.get_group(cli._load(module)).commands
        for name, cmd in registered.items():
            if module in {m for m, _ in cli.COMMANDS.values()}:
                assert name in cli.COMMANDS, f"{name} (from {module}) missing from cli.COMMANDS"
                assert cli.COMMANDS[name][0] == module
                first = (cmd.help or "").strip().split("\n\n")[0].replace("\n", " ")
                assert " ".join(first.split()) == cli.COMMANDS[name][1], f"index help of {name} is stale"
    assert {m for m, _ in cli.COMMANDS.values()} <= set(cli.COMMAND_MODULES)


def test_help_lists_commands_without_importing_them():
    import subprocess
    import sys

    code = ("import sys\nfrom tokencalc.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('LOADED=' + ','.join(sorted(m for m in sys.modules if m in ("
            "'tokencalc.cli.estimate', 'tokencalc.resolve.scenario', 'tokencalc.core.model'))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "estimate" in out.stdout and "profiles" in out.stdout
    assert out.stderr.strip().endswith("LOADED="), out.stderr


def test_every_command_has_help(cli):
    seen = 0
    for path, cmd in _commands():
        assert (cmd.help or "").strip(), f"{' '.join(path) or 'tokencalc'} has no help text"
        r = cli(*path, "--help")
        assert r.code == 0 and "Usage" in r.out, path
        for param in cmd.params:
            if getattr(param, "param_type_name", "") == "option" and param.name not in ("help",):
                assert (param.help or "").strip(), f"{' '.join(path)} {param.opts} has no help"
        seen += 1
    assert seen >= 5


def test_profiles_list_show_validate_schema(cli):
    r = cli("profiles", "list", "--format", "json")
    assert r.code == 0
    rows = r.json()
    assert {"id", "kind", "name", "path"} <= set(rows[0])
    assert any(x["id"] == "default" and x["kind"] == "scenario" for x in rows)
    show = cli("profiles", "show", "h100-sxm", "--format", "json").json()
    assert show["values"]["peak_flops.bf16"]["value"] == pytest.approx(989.4e12)
    assert show["values"]["peak_flops.bf16"]["unit"] == "FLOP/s"
    assert show["values"]["tdp"]["source"]
    assert cli("profiles", "show", "h100-sxm").code == 0
    assert cli("profiles", "show", "h100-sx").code == 2
    schema = cli("schema", "workload").json()
    assert schema["properties"]["kind"]["const"] == "workload"
    assert schema["properties"]["measured"]["additionalProperties"] is False


def test_validate_bundled_and_bad(cli, tmp_path):
    from tokencalc.resolve.profiles import bundled_dir

    r = cli("profiles", "validate", str(bundled_dir()))
    assert r.code == 0, r.err
    bad = tmp_path / "bad.toml"
    bad.write_text('kind = "hardware"\nname = "x"\ntdp = "700 J"\n')
    r = cli("profiles", "validate", str(bad))
    assert r.code == 2 and "tdp" in r.err and "expected a power" in r.err


# --- fuzzing: never a traceback -------------------------------------------

unit_words = st.sampled_from(["W", "kW", "J/token", "FLOP/s", "FLOP/token", "token/s", "GB", "TB/s", "USD/kWh",
                              "kg/kWh", "day", "%", "", "foo", "1/s", "J", "percent/year", "W/m", "**", "(", "e"])
values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(lambda x: repr(x)),
    st.builds(lambda n, u: f"{n} {u}", st.floats(-1e30, 1e30).map(repr), unit_words),
    st.text(max_size=12),
)
core_flags = st.sampled_from(["--k-eff", "--c-tok", "--e-tok", "--p-facility", "--p-it", "--pue", "--utilization",
                              "--devices", "--peak-flops", "--throughput-per-device", "--kernel-efficiency",
                              "--device-power", "--electricity-price", "--carbon-intensity", "--horizon",
                              "--it-overhead", "--cooling-capacity", "--e-tok-boundary", "--precision"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(core_flags, values), min_size=1, max_size=4), bare=st.booleans())
def test_fuzz_flags_exit_0_or_2(cli, pairs, bare):
    args = ["estimate", "-f", "json"] + (["--bare"] if bare else [])
    for flag, value in pairs:
        args += [flag, value]
    r = cli(*args)
    assert r.code in (0, 2), (args, r.err)
    assert "Traceback" not in r.err and "internal error" not in r.err
    if r.code == 0:
        json.loads(r.out)


toml_values = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
                        values, st.lists(st.integers(), max_size=2), st.dictionaries(st.sampled_from(["low", "high", "mode", "value", "rel", "x"]), st.floats(-5, 5), max_size=3))
keys = st.sampled_from(["power", "pue", "it_power", "electricity_price", "carbon_intensity", "cooling_capacity",
                        "illustrative", "region", "bogus", "name", "sources"])


def _toml(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v) if v == v else '"nan"'
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return "{ " + ", ".join(f"{k} = {_toml(x)}" for k, x in v.items()) + " }"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.dictionaries(keys, toml_values, max_size=5), raw=st.text(max_size=40))
def test_fuzz_profile_files_exit_0_or_2(cli, tmp_path_factory, entries, raw):
    d = tmp_path_factory.mktemp("fz")
    body = 'kind = "facility"\n' + "".join(f"{k} = {_toml(v)}\n" for k, v in entries.items() if k != "name")
    body += 'name = "fuzz"\n' if "name" not in entries else f"name = {_toml(entries['name'])}\n"
    f = d / "f.toml"
    f.write_text(body)
    g = d / "g.toml"
    g.write_text(raw)
    for path in (f, g):
        r = cli("estimate", "-f", "json", "--facility", str(path))
        assert r.code in (0, 2), (path.read_text(), r.err)
        assert "Traceback" not in r.err and "internal error" not in r.err


def test_closed_pipe_ends_quietly():
    # `tokencalc project ... | head`: no traceback, no "internal error", the SIGPIPE status of a Unix filter
    import shutil
    import signal
    import subprocess
    import sys
    from pathlib import Path

    exe = shutil.which("tokencalc", path=str(Path(sys.executable).parent))
    p = subprocess.Popen([exe, "project", "iea-energy-and-ai"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.read(20)
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait() in (0, -signal.SIGPIPE)
    assert err == ""
