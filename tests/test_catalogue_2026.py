"""The 2026 catalogue (issue 15): the new accelerators carry their datasheet figures, dense only; the new
workloads carry their config.json architecture; every id is contract."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tokencalc.resolve import profiles as P

BUNDLED = P.bundled_dir()
ROOT = Path(__file__).resolve().parent.parent
HARDWARE = ("b300", "gb300", "mi355x", "mi350x", "tpu7x", "trainium2", "trainium3", "rubin")
WORKLOADS = ("gpt-oss-20b", "gpt-oss-120b", "qwen3-8b", "qwen3-14b", "qwen3-30b-a3b", "qwen3-235b-a22b",
             "llama-4-scout", "llama-4-maverick", "deepseek-v3.1", "llama-3.3-70b", "gemma-3-27b")
GIB = 2 ** 30


def _hw(pid: str) -> P.Profile:
    return P.load(pid, "hardware", [BUNDLED])


def _wl(pid: str) -> P.Profile:
    return P.load(pid, "workload", [BUNDLED])


@pytest.mark.parametrize("pid", HARDWARE)
def test_hardware_ids_exist_and_cite_every_figure(pid: str) -> None:
    prof = _hw(pid)
    for key, value in prof.values.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            src = prof.source_for(key)
            assert src is not None and src.year, f"{pid}: {key}"


@pytest.mark.parametrize(("pid", "precision", "flop_s"), [
    ("b300", "bf16", 2.25e15), ("b300", "fp8", 4.5e15), ("b300", "fp4", 13.5e15),
    ("gb300", "bf16", 2.5e15), ("gb300", "fp8", 5e15), ("gb300", "fp4", 15e15),
    ("mi355x", "bf16", 2516.6e12), ("mi355x", "fp8", 5033.2e12), ("mi355x", "fp4", 10066.3e12),
    ("mi350x", "bf16", 2306.9e12), ("mi350x", "fp8", 4613.7e12), ("mi350x", "fp4", 9227.5e12),
    ("tpu7x", "bf16", 2307e12), ("tpu7x", "fp8", 4614e12),
    ("trainium2", "bf16", 667e12), ("trainium2", "fp8", 1299e12),
    ("trainium3", "bf16", 671e12), ("trainium3", "fp8", 2517e12),
])
def test_dense_peaks_match_the_datasheets(pid: str, precision: str, flop_s: float) -> None:
    assert _hw(pid).get(f"peak_flops.{precision}") == pytest.approx(flop_s, rel=1e-9)


def test_amd_peaks_are_the_per_clock_arithmetic() -> None:
    for pid, ghz in (("mi355x", 2.4), ("mi350x", 2.2)):
        fp8 = 256 * 8192 * ghz * 1e9
        hw = _hw(pid)
        assert hw.get("peak_flops.fp8") == pytest.approx(fp8, rel=1e-4)
        assert hw.get("peak_flops.bf16") == pytest.approx(fp8 / 2, rel=1e-4)
        assert hw.get("peak_flops.fp4") == pytest.approx(fp8 * 2, rel=1e-4)


@pytest.mark.parametrize(("pid", "capacity", "bandwidth", "tdp", "link"), [
    ("b300", 288e9, 8e12, 1100.0, 1.8e12),
    ("gb300", 288e9, 8e12, 1400.0, 1.8e12),
    ("mi355x", 288e9, 8e12, 1400.0, 1075.2e9),
    ("mi350x", 288e9, 8e12, 1000.0, 1075.2e9),
    ("tpu7x", 192 * GIB, 7380e9, None, 1200e9),
    ("trainium2", 96 * GIB, 2.9e12, None, 1.28e12),
    ("trainium3", 144 * GIB, 4.9e12, None, 2.56e12),
    ("rubin", 288e9, 22e12, None, 3.6e12),
])
def test_memory_power_and_links(pid: str, capacity: float, bandwidth: float, tdp: float | None, link: float) -> None:
    hw = _hw(pid)
    assert hw.get("hbm_capacity") == pytest.approx(capacity)
    assert hw.get("hbm_bandwidth") == pytest.approx(bandwidth)
    assert hw.get("interconnect_bandwidth") == pytest.approx(link)
    assert (hw.get("tdp") is None) if tdp is None else hw.get("tdp") == pytest.approx(tdp)
    assert hw.get("idle_power") is None   # no vendor publishes it for these parts


def test_rubin_states_what_is_missing_and_invents_nothing() -> None:
    rubin = _hw("rubin")
    assert not rubin.table("peak_flops") and rubin.get("tdp") is None
    notes = str(rubin.raw["notes"]).lower()
    assert "missing" in notes and "peak_flops" in notes and "tdp" in notes and "publish" in notes


def test_b200_bandwidth_is_reconciled_without_touching_the_fit() -> None:
    b200 = _hw("b200")
    assert b200.get("hbm_bandwidth") == pytest.approx(8e12)
    assert "7.7 TB/s" in str(b200.raw["notes"]) and "7.7 TB/s" in str(b200.source_for("hbm_bandwidth").note)
    assert b200.get("serving.memory_efficiency") == pytest.approx(0.6028)


def test_compare_all_hardware_includes_the_new_parts(cli) -> None:
    r = cli("compare", "--hardware", "all", "--skip-errors", "--workload", "llama-3.1-8b", "-f", "json")
    assert r.code == 0, r.err
    rows = {row["hardware"] for row in r.json()}
    assert {"b300", "gb300", "mi355x", "mi350x", "tpu7x", "trainium2", "trainium3"} <= rows
    assert "skipped row 'rubin" in r.err and "'rubin' lists no dense peak" in r.err   # none published: skipped, said why


# Workloads: the config.json architecture (bench/mlenergy_architectures.toml) and the published totals.

@pytest.mark.parametrize(("pid", "total", "active", "rel"), [
    ("qwen3-8b", 8.2e9, 8.2e9, 0.01), ("qwen3-14b", 14.8e9, 14.8e9, 0.01),
    ("qwen3-30b-a3b", 30.5e9, 3.3e9, 0.02), ("qwen3-235b-a22b", 235e9, 22e9, 0.02),
    ("llama-4-scout", 109e9, 17e9, 0.03), ("llama-4-maverick", 400e9, 17e9, 0.03),
    ("deepseek-v3.1", 671e9, 37e9, 0.02), ("llama-3.3-70b", 70.6e9, 70.6e9, 0.01),
    ("gemma-3-27b", 27.4e9, 27.4e9, 0.02),
])
def test_parameter_counts_match_the_published_sizes(pid: str, total: float, active: float, rel: float) -> None:
    w = _wl(pid)
    assert w.get("model.total_params") == pytest.approx(total, rel=rel)
    assert w.get("model.active_params") == pytest.approx(active, rel=0.08 if "llama-4" in pid else rel)


@pytest.mark.parametrize(("pid", "kv_bytes"), [
    ("qwen3-8b", 2 * 36 * 8 * 128 * 2), ("qwen3-14b", 2 * 40 * 8 * 128 * 2),
    ("qwen3-30b-a3b", 2 * 48 * 4 * 128 * 2), ("qwen3-235b-a22b", 2 * 94 * 4 * 128 * 2),
    ("llama-4-scout", 2 * 48 * 8 * 128 * 2), ("llama-3.3-70b", 2 * 80 * 8 * 128 * 2),
    ("deepseek-v3.1", 61 * (512 + 64) * 2),                       # MLA latent + RoPE key
    ("gpt-oss-20b", 2 * 8 * 64 * 2 * (12 + 12 * 128 / 4096)),      # half the layers keep a 128-token window
    ("gemma-3-27b", 2 * 16 * 128 * 2 * (10 + 52 * 1024 / 4096)),   # 52 of 62 layers keep 1,024 tokens
])
def test_kv_bytes_per_token(pid: str, kv_bytes: float) -> None:
    assert _wl(pid).get("model.kv_bytes_per_token") == pytest.approx(kv_bytes)


def test_gpt_oss_states_mxfp4_experts_as_bf16_equivalents() -> None:
    for pid, true_total in (("gpt-oss-20b", 20.9e9), ("gpt-oss-120b", 116.8e9)):
        w = _wl(pid)
        weight_bytes = w.get("model.total_params") * w.get("model.bytes_per_param")
        experts = w.get("model.n_experts") * w.get("model.expert_params") * 16 / 4.25   # true expert parameters
        rest = w.get("model.total_params") - w.get("model.n_experts") * w.get("model.expert_params")
        assert rest + experts == pytest.approx(true_total, rel=0.005), pid
        assert weight_bytes == pytest.approx(rest * 2 + experts * 4.25 / 8, rel=1e-6), pid


@pytest.mark.parametrize("pid", WORKLOADS)
def test_workloads_cite_config_quality_and_service(pid: str) -> None:
    w = _wl(pid)
    src = w.source_for("model.n_layers")
    assert src.url.startswith("https://huggingface.co/") and src.url.endswith("/blob/main/config.json")
    quality = w.table("quality")
    assert quality and all(w.source_for(f"quality.{k.split('.')[0]}").year for k in quality)
    assert w.get("service.tpot") and "planning assumption" in w.source_for("service.tpot").text
    for key, value in w.values.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            assert w.source_for(key) is not None, f"{pid}: {key}"


def test_configs_agree_with_the_bench_architectures() -> None:
    arches = tomllib.loads((ROOT / "bench" / "mlenergy_architectures.toml").read_text(encoding="utf-8"))
    pairs = {"qwen3-8b": "Qwen/Qwen3-8B", "qwen3-14b": "Qwen/Qwen3-14B", "qwen3-30b-a3b": "qwen3-30b-a3b",
             "deepseek-v3.1": "deepseek-ai/DeepSeek-V3.1", "gemma-3-27b": "google/gemma-3-27b-it",
             "llama-4-scout": "meta-llama/Llama-4-Scout-17B-16E-Instruct",
             "llama-4-maverick": "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8", "gpt-oss-20b": "openai/gpt-oss-20b"}
    for pid, key in pairs.items():
        w, c = _wl(pid), arches[key]
        assert w.get("model.n_layers") == c["num_hidden_layers"], pid
        assert w.get("model.d_model") == c["hidden_size"], pid
        if "num_experts" in c:
            assert (w.get("model.n_experts"), w.get("model.experts_per_token")) == \
                (c["num_experts"], c["num_experts_per_tok"]), pid


@pytest.mark.parametrize(("pid", "groups"), [
    ("qwen3-8b", {("h100-sxm", 1), ("b200", 1)}), ("gemma-3-27b", {("b200", 1), ("h100-sxm", 1), ("h100-sxm", 2)}),
    ("llama-4-scout", {("h100-sxm", 4), ("h100-sxm", 8)}), ("deepseek-v3.1", {("b200", 8)}),
    ("gpt-oss-20b", {("h100-sxm", 1), ("b200", 1)}),
])
def test_measured_curves_are_the_mlenergy_rows(pid: str, groups: set) -> None:
    w = _wl(pid)
    rows = w.raw["measured"]["curve"]
    assert {(r["hardware"], r["devices_per_replica"]) for r in rows} == groups
    assert "ML.ENERGY Leaderboard v3.0" in w.source_for("measured.curve").text
    assert w.get("measured.e_tok_boundary") == "accelerator"


@pytest.mark.parametrize("pid", WORKLOADS)
def test_estimate_runs_on_every_new_workload(cli, pid: str) -> None:
    r = cli("estimate", "--workload", pid, "--hardware", "b200", "--devices", "64", "-f", "json")
    assert r.code == 0, r.err
