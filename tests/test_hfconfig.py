"""`tokencalc profiles new workload --from-config`: architecture and parameter counts from a Hugging Face
config.json, checked against hand arithmetic on small configs (dense MHA, GQA, MoE, MLA)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tokencalc.errors import InputError
from tokencalc.resolve import hfconfig as H
from tokencalc.resolve import profiles as P

DATA = Path(__file__).parent / "data" / "hfconfig"


def _arch(name: str) -> H.Arch:
    path = DATA / f"{name}.json"
    return H.parse(H.load(path), path)


def test_dense_mha_tied_fp16() -> None:
    a = _arch("dense")
    embed = 100 * 64                          # tied: one matrix
    attn = 2 * (64 * 16 * (2 * 4 + 2 * 4))    # q, k, v, o of 4 heads x 16
    ffn = 2 * 3 * 64 * 128
    assert (a.embed, a.n_layers * a.attn_per_layer, a.dense_ffn) == (embed, attn, ffn)
    assert a.total == a.active == embed + attn + ffn == 88_320
    assert a.kv_bytes == 2 * 2 * 4 * 16 * 2 == 512        # K,V x layers x KV heads x head dim x FP16
    assert (a.d_attn, a.weight_bytes(), a.precision) == (64, 2.0, "fp16")


def test_gqa_untied_bf16() -> None:
    a = _arch("gqa")
    total = 1000 * 128 * 2 + 4 * 128 * 32 * (2 * 8 + 2 * 2) + 4 * 3 * 128 * 256
    assert a.total == a.active == total == 976_896
    assert a.kv_bytes == 2 * 4 * 2 * 32 * 2 == 1024
    assert (a.n_kv_heads, a.head_dim, a.d_attn, a.precision) == (2, 32, 256, "bf16")


def test_moe_counts_routed_experts_once_per_token() -> None:
    a = _arch("moe")
    expert = 3 * 3 * 64 * 32                  # 3 MoE layers (layer 0 is mlp_only) x 3 matrices
    total = 50 * 64 * 2 + 4 * 64 * 16 * (8 + 4) + 1 * 3 * 64 * 128 + 3 * 64 * 8 + 8 * expert
    assert (a.moe_layers, a.dense_layers, a.expert_params) == (3, 1, expert)
    assert a.total == total == 229_120
    assert a.active == total - (8 - 2) * expert == 118_528
    assert a.kv_bytes == 2 * 4 * 2 * 16 * 2


def test_mla_kv_is_latent_plus_rope_key() -> None:
    a = _arch("mla")
    attn = 64 * 32 + 32 * 4 * (16 + 8) + 64 * (16 + 8) + 16 * 4 * (16 + 16) + 4 * 16 * 64
    expert = 2 * 3 * 64 * 16                  # first_k_dense_replace 1: 2 MoE layers
    total = 40 * 64 * 2 + 3 * attn + 3 * 64 * 96 + 2 * (3 * 64 * 16 + 64 * 4) + 4 * expert
    assert a.attn_per_layer == attn == 12_800
    assert a.total == total == 93_184
    assert a.active == total - 2 * expert == 80_896
    assert a.kv_bytes == 3 * (16 + 8) * 2 == 144          # BF16 cache at the config's dtype
    assert (a.d_attn, a.weight_bytes(), a.precision) == (64, 1.0, "fp8")


@pytest.mark.parametrize("name", ["dense", "gqa", "moe", "mla"])
def test_written_profile_validates_and_estimates(cli, tmp_path: Path, name: str) -> None:
    out = tmp_path / f"{name}.toml"
    r = cli("profiles", "new", "workload", "--from-config", str(DATA / f"{name}.json"), "-o", str(out))
    assert r.code == 0, r.err
    text = out.read_text(encoding="utf-8")
    assert "derived from config.json (tokencalc profiles new --from-config)" in text
    assert "# total" in text and "# embeddings" in text
    prof = P.load_path(out)
    arch = _arch(name)
    assert prof.get("model.total_params") == pytest.approx(arch.total, rel=1e-4)
    assert prof.get("model.kv_bytes_per_token") == pytest.approx(arch.kv_bytes)
    assert cli("profiles", "validate", str(out)).code == 0
    r = cli("estimate", "--workload", str(out), "-f", "json")
    assert r.code == 0, r.err


def test_no_overwrite_without_force(cli, tmp_path: Path) -> None:
    out = tmp_path / "w.toml"
    out.write_text("mine", encoding="utf-8")
    r = cli("profiles", "new", "workload", "--from-config", str(DATA / "gqa.json"), "-o", str(out))
    assert r.code == 2 and "--force" in r.err and out.read_text(encoding="utf-8") == "mine"
    assert cli("profiles", "new", "workload", "--from-config", str(DATA / "gqa.json"), "-o", str(out),
               "--force").code == 0
    assert out.read_text(encoding="utf-8").startswith('kind = "workload"')


def test_missing_key_names_file_and_key(cli, tmp_path: Path) -> None:
    r = cli("profiles", "new", "workload", "--from-config", str(DATA / "bad_key.json"), "-o", str(tmp_path / "x.toml"))
    assert r.code == 2 and "bad_key.json" in r.err and "num_hidden_layers" in r.err
    assert len(r.err.strip().splitlines()) == 1 and not (tmp_path / "x.toml").exists()


@pytest.mark.parametrize(("body", "needle"), [
    ('{"hidden_size": "SECRET-VALUE", "num_hidden_layers": 2}', "hidden_size"),
    ("[1, 2]", "JSON object"),
    ("{not json SECRET-VALUE", "not valid JSON"),
    ('{"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 10, '
     '"intermediate_size": 8, "torch_dtype": "SECRET-VALUE"}', "torch_dtype"),
    ('{"hidden_size": 64, "num_hidden_layers": true}', "num_hidden_layers"),
    ('{"hidden_size": 1e999, "num_hidden_layers": 2}', "hidden_size"),
    ('{"hidden_size": NaN, "num_hidden_layers": 2}', "hidden_size"),
    ("{" * 5000, "config.json"),
])
def test_bad_configs_are_one_line_errors_that_never_echo_content(tmp_path: Path, body: str, needle: str) -> None:
    cfg = tmp_path / "config.json"
    cfg.write_text(body, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        H.parse(H.load(cfg), cfg)
    msg = str(exc.value)
    assert needle in msg and "config.json" in msg and "SECRET" not in msg and "\n" not in msg


def test_multimodal_text_config_is_read(tmp_path: Path) -> None:
    inner = json.loads((DATA / "gqa.json").read_text(encoding="utf-8"))
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_type": "gemma3", "torch_dtype": "bfloat16", "text_config": inner,
                               "vision_config": {"hidden_size": 32}}), encoding="utf-8")
    a = H.parse(H.load(cfg), cfg)
    assert a.total == 976_896 and any("vision" in n for n in a.notes)


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a regular file"):
        H.load(tmp_path)
