"""No hang, no crash, no silent nonsense: each case here failed (hung, crashed or misled) before."""

from __future__ import annotations

import os

import pytest

BARE = ["--bare", "--k-eff", "1.3e16 FLOP/s", "--c-tok", "1.3e11 FLOP/token", "--e-tok", "3 J/token",
        "--p-it", "800 kW"]


def one_line_error(r, *needles):
    lines = [x for x in r.err.splitlines() if x.strip()]
    assert r.code == 2, r.err
    assert len(lines) == 1 and lines[0].startswith("tokencalc: error: "), r.err
    assert "Traceback" not in r.err and "internal error" not in r.err
    for n in needles:
        assert n in r.err


def test_latex_emissions_keep_their_prefix(cli):
    out = cli("estimate", "-f", "latex").out
    assert r"Emissions & $1.67$~kt~CO$_2$e" in out   # the table says 1.67 ktCO2e


@pytest.mark.parametrize("args,needle", [
    (["estimate", "--foo"], "No such option: --foo"),
    (["estimate", "--devices", "abc"], "'abc' is not a valid int"),
    (["nosuchcommand"], "No such command"),
    (["sweep", "--vary"], "--vary"),
])
def test_usage_errors_are_one_line(cli, args, needle):
    one_line_error(cli(*args), needle, "--help")


def test_a_profile_id_too_long_for_the_file_system_is_not_found(cli):
    one_line_error(cli("estimate", "--workload", "a" * 300), "no workload profile")


def test_deeply_nested_toml_is_an_input_error(cli, tmp_path):
    f = tmp_path / "deep.toml"
    f.write_text('kind = "hardware"\nname = "x"\nx = ' + "[" * 5000 + "]" * 5000 + "\n")
    one_line_error(cli("profiles", "show", str(f)), "deep.toml", "nested too deeply")


def test_control_characters_in_profile_text_never_reach_the_output(cli, tmp_path):
    f = tmp_path / "h.toml"
    f.write_text('kind = "hardware"\nname = "evil\\u001b[2J\\u001b]0;pwned\\u0007"\ntdp = "700 W"\n'
                 '[peak_flops]\nbf16 = "1 PFLOP/s"\n')
    for r in (cli("profiles", "show", str(f)), cli("profiles", "show", str(f), "-f", "json")):
        assert r.code == 0 and "\x1b" not in r.out and "\x07" not in r.out


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifos_and_devices_are_refused_not_read(cli, tmp_path):
    fifo = tmp_path / "p.toml"
    os.mkfifo(fifo)
    r = cli("profiles", "validate", str(tmp_path))
    assert r.code == 2 and "not a regular file" in r.err
    r = cli("project", *BARE, "--trajectory", 'pue={ csv = "/dev/zero", column = "v" }')
    one_line_error(r, "not a regular file")


def test_a_scenario_reads_only_series_beside_it_and_never_echoes_a_file(cli, tmp_path):
    scen = tmp_path / "s.toml"
    scen.write_text('kind = "scenario"\nname = "s"\nk_eff = "1.3e16 FLOP/s"\nc_tok = "1.3e11 FLOP/token"\n'
                    'e_tok = "3 J/token"\np_it = "800 kW"\n[trajectory]\npue = { csv = "/etc/passwd", column = "v" }\n')
    one_line_error(cli("project", str(scen)), "outside the scenario's folder")
    secret = tmp_path / "secret.csv"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\nx\n")
    r = cli("project", *BARE, "--trajectory", f'pue={{ csv = "{secret}", column = "v" }}')
    one_line_error(r, "not a header of column names")
    assert "root:x" not in r.err


def test_a_non_utf8_series_is_an_input_error(cli, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_bytes(b"day,v\n0,\xff\xfe\n")
    one_line_error(cli("project", *BARE, "--trajectory", f'pue={{ csv = "{f}", column = "v" }}'), "not UTF-8")


@pytest.mark.parametrize("spec", ['facility.power={ growth = "1e5 percent/day" }',
                                  'facility.power={ growth = "1e300 percent/day" }'])
def test_a_growth_to_infinity_is_an_input_error_not_a_memory_blow_up(cli, spec):
    one_line_error(cli("project", "--trajectory", spec, "-f", "json", "--no-series"))


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_a_non_finite_target_is_an_input_error(cli, value):
    one_line_error(cli("project", "--target-tokens", value), "--target-tokens")


def test_a_foreign_files_kind_is_not_echoed(cli, tmp_path):
    f = tmp_path / "k.toml"
    f.write_text('kind = "root:x:0:0:secret"\nname = "x"\n')
    r = cli("profiles", "show", str(f))
    one_line_error(r, "got something else")
    assert "secret" not in r.err
    f.write_text('kind = "hardwre"\nname = "x"\n')
    assert "'hardwre'" in cli("profiles", "show", str(f)).err   # a typo is still shown


def test_a_calibration_window_far_outside_any_calendar_is_an_input_error(cli):
    from pathlib import Path

    log = str(Path(__file__).parent / "data" / "calib_nvsmi_units.csv")
    one_line_error(cli("calibrate", "-p", log, "--start", "1e50 s"), "window")


@pytest.mark.parametrize("text", ["1\x0c2", "1\x1b[2J", "x\u2028y", "a\x85b", "a\nb"])
def test_control_characters_in_the_input_do_not_break_the_one_line_error(cli, text):
    # Found by the fuzz harness: the message echoed them raw (a form feed or U+2028 starts a new line,
    # an escape sequence reaches the terminal).
    r = cli("estimate", "--pue", text)
    one_line_error(r, "--pue")
    assert not any(c in r.err[:-1] for c in "\x0c\x1b\u2028\x85\n")
    assert repr(text[1])[1:-1] in r.err


def test_a_trajectory_nested_too_deeply_is_an_input_error(cli):
    # Found by the fuzz harness: tomllib's RecursionError was an internal error (exit 1).
    spec = "{ a = " * 3000 + "1" + " }" * 3000
    one_line_error(cli("project", *BARE, "--trajectory", f"p_it={spec}"), "--trajectory p_it", "nested too deeply")


def test_a_json_series_too_long_for_one_document_is_refused_not_a_memory_error(cli):
    # Found by the fuzz harness: a 4.9-million-point series in JSON needed over 10 GB (MemoryError, exit 1).
    r = cli("project", *BARE, "--horizon", "57 day", "--resolution", "1 s", "-f", "json")
    one_line_error(r, "--format json", "4,924,801 points", "--no-series")
    r = cli("project", *BARE, "--horizon", "57 day", "--resolution", "1 s", "-f", "json", "--no-series")
    assert r.code == 0 and "series" not in r.json()


@pytest.mark.parametrize("args,needle", [
    (["estimate", "--it-overhead", "1e308", "-f", "json"], "--it-overhead"),          # was ZeroDivisionError
    (["report", "--p-facility", "1e308 W", "-o", "never.html"], "--p-facility"),       # was TypeError
])
def test_absurd_magnitudes_are_one_line_input_errors(cli, tmp_path, monkeypatch, args, needle):
    monkeypatch.chdir(tmp_path)
    one_line_error(cli(*args), needle, "outside any physical range")
    assert not (tmp_path / "never.html").exists()


def test_calibrate_window_beyond_any_calendar_is_an_input_error(cli):
    from pathlib import Path

    log = str(Path(__file__).parent / "data" / "calib_nvsmi_units.csv")
    r = cli("calibrate", "-p", log, "--tokens", "4500", "--start", "1e308 s", "-f", "json")
    assert r.code == 2 and r.out == "" and "Traceback" not in r.err and "internal error" not in r.err


def test_a_flag_that_replaces_what_the_scenario_names_shows_in_its_title(cli, tmp_path):
    """`--hardware h200-sxm` on the default: the title may not claim H100s without saying it was changed."""
    table = cli("estimate", "--hardware", "h200-sxm").out
    assert "modified by --hardware h200-sxm" in " ".join(table.split()[:30])
    doc = cli("estimate", "--hardware", "h200-sxm", "-f", "json").json()
    assert doc["scenario_modified_by"] == ["--hardware h200-sxm"]
    assert cli("estimate", "-f", "json").json()["scenario_modified_by"] == []
    out = tmp_path / "r.html"
    assert cli("report", "--hardware", "h200-sxm", "--pue", "1.2", "-o", str(out)).code == 0
    html = out.read_text(encoding="utf-8")
    title = html.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "modified by" in title and "--hardware h200-sxm" in title and "--pue 1.2" in title
