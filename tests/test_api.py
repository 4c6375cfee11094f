"""The Python front door: its exported members, and results equal to the commands' JSON."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import tokencalc

DATA = Path(__file__).parent / "data"


def test_exported_members():
    assert tokencalc.__all__ == sorted(["__version__", "calibrate", "compare", "estimate", "monte_carlo", "project",
                                        "solve", "sweep"])
    for name in tokencalc.__all__:
        assert getattr(tokencalc, name) is not None
    assert callable(tokencalc.estimate) and tokencalc.estimate.__doc__


def test_import_tokencalc_is_light():
    code = ("import sys, tokencalc\n"
            "heavy = [m for m in ('numpy', 'pint', 'matplotlib', 'weasyprint', 'rich', 'typer') if m in sys.modules]\n"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("call,args", [
    (lambda: tokencalc.estimate(), ["estimate"]),
    (lambda: tokencalc.estimate(hardware="h200-sxm", devices=512, pue=1.2),
     ["estimate", "--hardware", "h200-sxm", "--devices", "512", "--pue", "1.2"]),
    (lambda: tokencalc.estimate(bare=True, k_eff="1.3e16 FLOP/s", c_tok=1.3e11, e_tok="3 J/token", p_it=800e3),
     ["estimate", "--bare", "--k-eff", "1.3e16 FLOP/s", "--c-tok", "1.3e11 FLOP/token", "--e-tok", "3 J/token",
      "--p-it", "800 kW"]),
    (lambda: tokencalc.estimate(lever=["fp8", "flashattention"], set=["facility.pue=1.3"]),
     ["estimate", "--lever", "fp8", "--lever", "flashattention", "--set", "facility.pue=1.3"]),
    (lambda: tokencalc.monte_carlo("default-uncertain", n=2000, seed=3),
     ["estimate", "default-uncertain", "--mc", "2000", "--seed", "3"]),
    (lambda: tokencalc.project("iea-energy-and-ai", resolution="7 day"),
     ["project", "iea-energy-and-ai", "--resolution", "7 day"]),
    (lambda: tokencalc.compare(hardware=["h100-sxm", "b200"], sort="rate"),
     ["compare", "--hardware", "h100-sxm,b200", "--sort", "rate"]),
    (lambda: tokencalc.sweep(vary=["pue=1.1:1.6:6"]), ["sweep", "--vary", "pue=1.1:1.6:6", "-q"]),
    (lambda: tokencalc.solve(for_="devices"), ["solve", "--for", "devices"]),
    (lambda: tokencalc.calibrate(str(DATA / "calib_nvsmi_units.csv"), tokens="180000", workload="dense-65b-fp16",
                                 hardware="h100-sxm"),
     ["calibrate", "-p", str(DATA / "calib_nvsmi_units.csv"), "--tokens", "180000", "--workload", "dense-65b-fp16",
      "--hardware", "h100-sxm"]),
], ids=["estimate", "estimate-flags", "estimate-bare-si", "estimate-levers", "monte-carlo", "project", "compare",
        "sweep", "solve", "calibrate"])
def test_to_dict_equals_the_command_json(cli, call, args):
    got = call().to_dict()
    r = cli(*args, "--format", "json")
    assert r.code == 0, r.err
    assert got == r.json()


def test_results_show_as_tables_in_a_notebook():
    for result in (tokencalc.estimate(), tokencalc.solve(for_="pue"), tokencalc.compare(hardware=["h100-sxm"])):
        html = result._repr_html_()
        assert html.startswith("<table>") and "</table>" in html


def test_user_text_is_escaped_in_the_notebook_table(tmp_path):
    scen = tmp_path / "<b>site.toml"   # a row's label is the reference the user gave
    scen.write_text('kind = "scenario"\nname = "s"\nk_eff = "1.3e16 FLOP/s"\n'
                    'c_tok = "1.3e11 FLOP/token"\ne_tok = "3 J/token"\np_it = "800 kW"\n')
    out = tokencalc.compare(str(scen))._repr_html_()
    assert "<b>" not in out and "&lt;b&gt;site.toml" in out


def test_an_unknown_input_is_a_type_error_with_a_suggestion():
    with pytest.raises(TypeError, match="did you mean 'pue'"):
        tokencalc.estimate(puee=1.2)


def test_bad_input_raises_the_same_error_as_the_command():
    from tokencalc.errors import UnitError

    with pytest.raises(UnitError, match="expected a power"):
        tokencalc.estimate(p_it="3 J/token")
