"""Profile loading: references, search folders, overrides, ranges and strict validation."""

import pytest

from tokencalc.resolve import profiles as P
from tokencalc.errors import ProfileError, UnitError
from tokencalc.resolve.scenario import Request, resolve


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_bundled_default_scenario_loads_with_sources():
    res = resolve(Request())
    assert res.scenario.id == "default"
    assert res.hardware.id == "h100-sxm" and res.workload.id == "dense-65b-fp16"
    for key, prov in res.inputs.provenance.items():
        assert "(no source given)" not in prov.source, key


def test_user_folder_shadows_bundled(tmp_path):
    write(tmp_path / "hardware" / "h100-sxm.toml",
          'kind = "hardware"\nname = "mine"\ntdp = "600 W"\n[peak_flops]\nfp16 = "900 TFLOP/s"\n[sources]\ndefault = "me"\n')
    dirs = P.search_dirs([tmp_path])
    assert P.load("h100-sxm", "hardware", dirs).get("tdp") == 600.0
    assert P.load("h100-sxm", "hardware").get("tdp") == 700.0


def test_env_var_adds_folders(tmp_path, monkeypatch):
    write(tmp_path / "facilities" / "site.toml", 'kind = "facility"\nname = "s"\npue = 1.3\npower = "1 MW"\n')
    monkeypatch.setenv("TOKENCALC_PROFILES", str(tmp_path))
    assert P.load("site", "facility", P.search_dirs()).get("pue") == 1.3


def test_scenario_refs_resolve_relative_to_the_scenario(tmp_path):
    write(tmp_path / "w.toml", 'kind = "workload"\nname = "w"\n[model]\nc_tok = "1e11 FLOP/token"\n')
    s = write(tmp_path / "sub" / "s.toml", 'kind = "scenario"\nname = "s"\nworkload = "../w.toml"\n'
              'k_eff = "1e16 FLOP/s"\np_it = "1 MW"\ne_tok = "2 J/token"\n')
    res = resolve(Request(scenario=str(s)))
    assert res.inputs.c_tok == 1e11


def test_wrong_kind_is_an_error(tmp_path):
    f = write(tmp_path / "x.toml", 'kind = "lever"\nname = "x"\n')
    with pytest.raises(ProfileError, match="expected a hardware profile, got a lever profile"):
        P.load(str(f), "hardware")


def test_invalid_toml_names_the_file(tmp_path):
    f = write(tmp_path / "x.toml", 'kind = "hardware\n')
    with pytest.raises(ProfileError, match="x.toml: invalid TOML"):
        P.load_path(f)


@pytest.mark.parametrize("body,needle", [
    ('pue = 0.95', "pue in"),
    ('pue = "abc"', "could not read"),
    ('power = 5', "no unit"),
    ('power = "-1 MW"', "expected a value > 0"),
    ('power = "1 MJ"', "expected a power"),
    ('illustrative = "yes"', "expected true or false"),
    ('pue = { low = 1.5, mode = 1.2, high = 1.6 }', "low <= mode <= high"),
    ('pue = { value = 1.3, rel = 1.5 }', "rel"),
    ('pue = { lo = 1.1 }', "expected a value or a range"),
    ('[sources]\npue = 3', "citation"),
    ('[sources]\npue = { url = "x" }', "needs a title"),
])
def test_facility_validation(tmp_path, body, needle):
    f = write(tmp_path / "f.toml", f'kind = "facility"\nname = "f"\n{body}\n')
    with pytest.raises((ProfileError, UnitError), match=needle):
        P.load_path(f)


def test_ranges_keep_units_and_nominal():
    text = 'kind = "facility"\nname = "f"\npower = { low = "1 MW", mode = "1.5 MW", high = "2000 kW" }\npue = { value = 1.4, rel = 0.1 }\n'
    import tempfile, pathlib

    with tempfile.TemporaryDirectory() as d:
        f = pathlib.Path(d) / "f.toml"
        f.write_text(text)
        prof = P.load_path(f)
    assert prof.get("power") == 1.5e6
    assert prof.ranges["power"] == P.Range(1e6, 1.5e6, 2e6)
    assert prof.ranges["pue"].low == pytest.approx(1.26) and prof.ranges["pue"].high == pytest.approx(1.54)


def test_range_below_physical_bound_is_rejected(tmp_path):
    f = write(tmp_path / "f.toml", 'kind = "facility"\nname = "f"\npue = { value = 1.1, rel = 0.2 }\n')
    with pytest.raises(ProfileError, match="low end of the range"):
        P.load_path(f)


def test_source_lookup_longest_prefix():
    hw = P.load("h100-sxm", "hardware")
    assert "whitepaper" in hw.source_for("peak_flops.bf16").text.lower()
    assert "datasheet" in hw.source_for("tdp").text.lower()


def test_override_table_in_scenario(tmp_path):
    s = write(tmp_path / "s.toml", 'kind = "scenario"\nname = "s"\nhardware = "h100-sxm"\nfacility = "industry-average"\n'
              'workload = "dense-65b-fp16"\ndevices = 100\n[override]\n"facility.pue" = 1.2\n[override.hardware]\ntdp = "650 W"\n')
    res = resolve(Request(scenario=str(s)))
    assert res.inputs.pue == 1.2 and res.inputs.tdp == 650.0
    assert "override" in res.inputs.provenance["pue"].source


def test_override_of_unknown_key_is_an_error(tmp_path):
    s = write(tmp_path / "s.toml", 'kind = "scenario"\nname = "s"\nfacility = "industry-average"\n[override]\n"facility.peu" = 1.2\n')
    with pytest.raises(ProfileError, match="did you mean 'pue'"):
        resolve(Request(scenario=str(s)))


def test_token_bases_never_mixed_silently(tmp_path):
    w = write(tmp_path / "w.toml", 'kind = "workload"\nname = "w"\n[model]\nc_tok = "1e10 FLOP/token"\n'
              '[measured]\ne_tok = "0.5 J/token"\ntoken_basis = "total"\n')
    from tokencalc.errors import InputError

    from tokencalc.core import estimate

    with pytest.raises(InputError, match="token bases differ"):
        estimate(resolve(Request(bare=True, refs={"workload": str(w)},
                                 flags={"p_it": "1 MW", "k_eff": "1e15 FLOP/s"})).inputs)
    res = resolve(Request(bare=True, refs={"workload": str(w)},
                          flags={"p_it": "1 MW", "k_eff": "1e15 FLOP/s", "input_output_ratio": "3"}))
    e_tok = estimate(res.inputs).to_json()["inputs"]["e_tok"]
    assert e_tok["value"] == pytest.approx(2.0)  # 0.5 J per token x 4 tokens per output token
    assert "converted from total to output tokens" in e_tok["source"]


def test_list_profiles_sorted_and_complete():
    entries = P.list_profiles(None, P.search_dirs())
    kinds = [e.kind for e in entries]
    assert kinds == sorted(kinds, key=["hardware", "facility", "workload", "lever", "scenario"].index)
    assert {"hardware", "facility", "workload", "scenario"} <= set(kinds)
