"""The bundled profile catalogue: every file loads, every figure is cited, key datasheet values
are what their sources say, and docs/profiles.md is current."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokencalc.render import catalogue
from tokencalc.resolve import profiles as P
from tokencalc.resolve import schema as S

BUNDLED = P.bundled_dir()
FILES = sorted(BUNDLED.rglob("*.toml"))
MINIMUM = {"hardware": 14, "facility": 6, "workload": 8, "lever": 8, "scenario": 6}
REQUIRED_IDS = {
    "hardware": {"v100-sxm2-32gb", "a100-sxm-80gb", "h100-sxm", "h100-pcie", "h200-sxm", "b200", "gb200", "mi300x",
                 "mi325x", "tpu-v5e", "tpu-v5p", "tpu-v6e", "gaudi3", "l40s"},
    "facility": {"industry-average"},
    "workload": {"dense-65b-fp16", "llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "qwen3-32b", "deepseek-v3",
                 "mixtral-8x7b", "llama-2-70b"},
    "lever": {"flashattention", "pagedattention", "fp8", "int4-awq", "mla", "nsa-sparse-attention", "kv-eviction",
              "diffadapt", "deepseek-v4-stack", "speculative-decoding"},
    "scenario": {"default", "epoch-1-2020-22", "epoch-2-2023-24", "epoch-3-2025-26", "power-constrained-region",
                 "h200-server-8x"},
}


def _load(kind: str, pid: str) -> P.Profile:
    return P.load(pid, kind, [BUNDLED])


@pytest.fixture(scope="module")
def bundled() -> list[P.Profile]:
    return [P.load_path(f) for f in FILES]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(BUNDLED).as_posix())
def test_every_bundled_profile_loads_from_its_kind_folder(path: Path) -> None:
    prof = P.load_path(path)
    assert path.parent.name == S.FOLDERS[prof.kind]
    assert prof.id == path.stem


def test_counts_per_kind_meet_the_minimums(bundled: list[P.Profile]) -> None:
    for kind, least in MINIMUM.items():
        assert sum(p.kind == kind for p in bundled) >= least, kind


def test_contract_ids_exist(bundled: list[P.Profile]) -> None:
    have = {(p.kind, p.id) for p in bundled}
    for kind, ids in REQUIRED_IDS.items():
        missing = {i for i in ids if (kind, i) not in have}
        assert not missing, f"{kind}: {sorted(missing)}"


def test_every_numeric_value_has_a_source(bundled: list[P.Profile]) -> None:
    uncited = [f"{p.path}: {key}" for p in bundled for key, value in p.values.items()
               if isinstance(value, (int, float)) and not isinstance(value, bool) and p.source_for(key) is None]
    assert not uncited, "\n".join(uncited)


def test_scenario_references_resolve(bundled: list[P.Profile]) -> None:
    for scen in (p for p in bundled if p.kind == "scenario"):
        for kind in ("hardware", "facility", "workload"):
            if scen.get(kind):
                P.load(scen.get(kind), kind, [BUNDLED])
        for lever in scen.get("levers", []):
            P.load(lever, "lever", [BUNDLED])


def test_measured_hardware_ids_exist(bundled: list[P.Profile]) -> None:
    hardware = {p.id for p in bundled if p.kind == "hardware"}
    for w in (p for p in bundled if p.kind == "workload" and p.get("measured.hardware")):
        assert w.get("measured.hardware") in hardware, w.id
        assert w.get("measured.e_tok_boundary") in S.BOUNDARIES, w.id
        assert w.get("measured.token_basis") in S.TOKEN_BASES, w.id


def test_lever_quality_deltas_use_workload_benchmarks(bundled: list[P.Profile]) -> None:
    benches = {k.split(".")[1] for p in bundled if p.kind == "workload" for k in p.values if k.startswith("quality.")}
    benches.add("longbench")  # declared by the NSA lever for long-context workloads
    for lever in (p for p in bundled if p.kind == "lever"):
        assert set(lever.table("quality_delta")) <= benches, lever.id


# Datasheet values: SI floats must be what the sources print.

@pytest.mark.parametrize(("pid", "precision", "flop_s"), [
    ("h100-sxm", "bf16", 989.4e12),
    ("h100-sxm", "fp8", 1978.9e12),
    ("a100-sxm-80gb", "bf16", 312e12),
    ("b200", "fp8", 4.5e15),
    ("b200", "fp4", 9e15),
    ("mi300x", "bf16", 1307.4e12),
    ("tpu-v6e", "bf16", 918e12),
    ("gaudi3", "bf16", 1835e12),
])
def test_dense_peaks_match_the_datasheets(pid: str, precision: str, flop_s: float) -> None:
    assert _load("hardware", pid).get(f"peak_flops.{precision}") == pytest.approx(flop_s, rel=1e-9)


@pytest.mark.parametrize(("pid", "tdp_w"), [("h100-sxm", 700.0), ("a100-sxm-80gb", 400.0), ("b200", 1000.0),
                                           ("mi300x", 750.0), ("h200-sxm", 700.0)])
def test_board_power_matches_the_datasheets(pid: str, tdp_w: float) -> None:
    assert _load("hardware", pid).get("tdp") == pytest.approx(tdp_w)


def test_memory_figures_are_in_si_bytes() -> None:
    h100 = _load("hardware", "h100-sxm")
    assert h100.get("hbm_capacity") == pytest.approx(80e9)
    assert h100.get("hbm_bandwidth") == pytest.approx(3.35e12)
    assert _load("hardware", "h200-sxm").get("hbm_capacity") == pytest.approx(141e9)


def test_dgx_h100_server_power_per_gpu() -> None:
    assert _load("hardware", "h100-sxm").get("server_power_per_device") == pytest.approx(10_200 / 8)


def test_deepseek_v3_architecture() -> None:
    w = _load("workload", "deepseek-v3")
    assert w.get("model.architecture") == "moe"
    assert w.get("model.active_params") == pytest.approx(37e9)
    assert w.get("model.total_params") == pytest.approx(671e9)
    assert w.get("model.kv_bytes_per_token") == pytest.approx(70_272)
    assert w.get("model.kv_bytes_per_token") == pytest.approx((512 + 64) * 61 * 2)  # MLA latent + RoPE key, BF16


def test_published_measurements_are_bundled_with_their_boundary() -> None:
    llama = _load("workload", "llama-3.1-8b")
    assert llama.get("measured.e_tok") == pytest.approx(0.12)
    assert (llama.get("measured.hardware"), llama.get("measured.batch_size")) == ("h100-sxm", 64)
    qwen = _load("workload", "qwen3-32b")
    assert qwen.get("measured.e_tok") == pytest.approx(0.209)
    assert (qwen.get("measured.hardware"), qwen.get("measured.batch_size")) == ("b200", 128)
    anchor = _load("workload", "dense-65b-fp16")
    assert anchor.get("measured.e_tok") == pytest.approx(3.0)
    assert anchor.get("measured.e_tok_boundary") == "accelerator"


def test_hardware_without_tdp_says_why(bundled: list[P.Profile]) -> None:
    for hw in (p for p in bundled if p.kind == "hardware" and p.get("tdp") is None):
        notes = str(hw.raw.get("notes", "")).lower()
        assert "tdp" in notes and ("publish" in notes or "not given" in notes), hw.id


def test_facilities_carry_price_and_carbon_and_flag_illustrative_envelopes(bundled: list[P.Profile]) -> None:
    for fac in (p for p in bundled if p.kind == "facility"):
        assert fac.get("electricity_price") is not None and fac.get("carbon_intensity") is not None, fac.id
        if fac.get("illustrative"):
            assert "illustrative" in fac.source_for("power").text.lower(), fac.id


def test_hyperscale_and_average_pue() -> None:
    assert _load("facility", "industry-average").get("pue") == pytest.approx(1.56)
    assert _load("facility", "hyperscale-leader").get("pue") == pytest.approx(1.10)
    assert _load("facility", "ai-datacenter").get("pue") == pytest.approx(1.2)


def test_developer_report_lever_is_marked() -> None:
    v4 = _load("lever", "deepseek-v4-stack")
    assert v4.get("confidence") == "developer-report"
    assert v4.get("c_tok_factor") == pytest.approx(0.27)


def test_diffadapt_factor_is_the_token_reduction() -> None:
    lever = _load("lever", "diffadapt")
    assert lever.get("c_tok_factor") == pytest.approx(1 - 0.224)
    assert lever.get("e_tok_factor") == pytest.approx(1 - 0.224)


def test_default_scenario_keeps_its_contract() -> None:
    scen = _load("scenario", "default")
    assert (scen.get("hardware"), scen.get("devices"), scen.get("facility"), scen.get("workload")) == \
        ("h100-sxm", 1000, "industry-average", "dense-65b-fp16")


# The generated document.

def test_render_is_deterministic_and_covers_every_profile(bundled: list[P.Profile]) -> None:
    text = catalogue.render_markdown()
    assert text == catalogue.render_markdown()
    for p in bundled:
        assert f"### `{p.id}`" in text, p.id
    assert "989.4 TFLOP/s" in text and "1,307.4 TFLOP/s" in text and "70.272 kB/token" in text


def test_human_units() -> None:
    assert catalogue.flops(989.4e12) == "989.4 TFLOP/s"
    assert catalogue.flops(4.5e15) == "4,500 TFLOP/s"
    assert catalogue.watts(1787.5) == "1,787.5 W"
    assert catalogue.watts(2e6) == "2 MW"
    assert catalogue.bandwidth(3.35e12) == "3.35 TB/s"
    assert catalogue.nbytes(80e9) == "80 GB"
    assert catalogue.price(0.08 / 3.6e6) == "0.08 USD/kWh"
    assert catalogue.carbon(0.4 / 3.6e6) == "400 gCO2e/kWh"


def test_check_current_detects_a_stale_file(tmp_path: Path) -> None:
    fresh = tmp_path / "profiles.md"
    assert catalogue.main([str(fresh)]) == 0
    assert catalogue.check_current(fresh)
    fresh.write_text(fresh.read_text(encoding="utf-8") + "\nstale\n", encoding="utf-8")
    assert not catalogue.check_current(fresh)
    from tokencalc.errors import ProfileError

    with pytest.raises(ProfileError, match="missing.md"):  # a missing file is an input error, not "stale"
        catalogue.check_current(tmp_path / "missing.md")


def test_docs_check_on_a_missing_file_exits_2_and_output_is_not_clobbered(cli, tmp_path: Path) -> None:
    r = cli("profiles", "docs", "--check", str(tmp_path / "nope.md"))
    assert r.code == 2 and "nope.md" in r.err
    out = tmp_path / "p.md"
    out.write_text("mine", encoding="utf-8")
    r = cli("profiles", "docs", "-o", str(out))
    assert r.code == 2 and out.read_text(encoding="utf-8") == "mine"
    assert cli("profiles", "docs", "-o", str(out), "--force").code == 0 and out.read_text().startswith("<!--")


def test_docs_profiles_md_is_current() -> None:
    assert catalogue.check_current(catalogue.default_output()), \
        "docs/profiles.md is stale: run `python -m tokencalc.render.catalogue`"
