"""A workload profile from a Hugging Face `config.json` (`tokencalc profiles new workload --from-config`).

Reads the architecture a model publishes with its weights (layers, heads, KV heads, head
dimension, hidden size, FFN widths, experts, MLA ranks, vocabulary, dtype, quantization) and
derives what a workload profile needs: active and total parameters, the attention width, the
KV-cache bytes per token at the config's dtype and the bytes per weight. The written TOML shows
the arithmetic as comments, so each figure can be checked by hand.

Counted: the attention projections (GQA or MLA), the FFNs (gated: three matrices), routed and
shared experts with their router, the embeddings and an untied output head. Not counted: norms
and biases (well under 0.1 % of a model), a vision tower (`vision_config`), multi-token
prediction layers. Sliding-window layers are counted at full context (an upper bound) and said so.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field

from ..errors import InputError

DTYPE_BYTES = {"bfloat16": 2, "float16": 2, "half": 2, "float32": 4, "float": 4, "float8_e4m3fn": 1,
               "float8_e5m2": 1}
PRECISION_OF = {"bfloat16": "bf16", "float16": "fp16", "half": "fp16", "float32": "fp32", "float": "fp32"}
# Weight storage of quantized checkpoints: bytes per weight of the quantized tensors, and the precision.
QUANT = {"fp8": (1.0, "fp8"), "mxfp4": (4.25 / 8, "fp4")}   # MXFP4: 4-bit values + an 8-bit scale per 32
MAX_CONFIG_BYTES = 4 * 1024 * 1024
MAX_DIM = 10_000_000
SOURCE_NOTE = "derived from config.json (tokencalc profiles new --from-config)"


@dataclass
class Arch:
    """The architecture read from a config, and the parameter counts derived from it."""

    name: str
    model_type: str
    d_model: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    vocab: int
    tied: bool
    dtype: str
    attn_per_layer: int = 0
    attn_note: str = ""
    kv_bytes: int = 0
    kv_note: str = ""
    d_attn: int = 0
    dense_layers: int = 0
    dense_ff: int = 0
    moe_layers: int = 0
    n_experts: int = 0
    top_k: int = 0
    moe_ff: int = 0
    n_shared: int = 0
    shared_ff: int = 0
    quant: str | None = None
    notes: list = field(default_factory=list)

    @property
    def embed(self) -> int:
        return self.vocab * self.d_model * (1 if self.tied else 2)

    @property
    def expert_params(self) -> int:
        """One routed expert summed over all MoE layers (the schema's `expert_params`)."""
        return self.moe_layers * 3 * self.d_model * self.moe_ff

    @property
    def dense_ffn(self) -> int:
        return self.dense_layers * 3 * self.d_model * self.dense_ff

    @property
    def shared_params(self) -> int:
        return self.moe_layers * (self.n_shared * 3 * self.d_model * self.shared_ff + self.d_model * self.n_experts)

    @property
    def total(self) -> int:
        return self.embed + self.n_layers * self.attn_per_layer + self.dense_ffn + self.shared_params \
            + self.n_experts * self.expert_params

    @property
    def active(self) -> int:
        return self.total - (self.n_experts - self.top_k) * self.expert_params

    def weight_bytes(self) -> float:
        """Bytes per weight averaged over the model: quantized experts (MXFP4) or all weights (FP8)."""
        base = float(DTYPE_BYTES.get(self.dtype, 2))
        if self.quant == "fp8":
            return QUANT["fp8"][0]
        if self.quant == "mxfp4":  # only the routed experts are MXFP4 (gpt-oss); the rest stays at the dtype
            experts = self.n_experts * self.expert_params
            return (experts * QUANT["mxfp4"][0] + (self.total - experts) * base) / self.total
        return base

    @property
    def precision(self) -> str:
        if self.quant in QUANT:
            return QUANT[self.quant][1]
        return PRECISION_OF.get(self.dtype, "bf16")


def _err(path, key: str, what: str) -> InputError:
    return InputError(f"config '{path}': key '{key}' {what}")


def _int(cfg: dict, key: str, path, default=None, *, zero: bool = False) -> int:
    """A positive whole-number config value (or `default` when absent)."""
    if key not in cfg or cfg[key] is None:
        if default is None:
            raise _err(path, key, "is missing (needed for the architecture)")
        return default
    v = cfg[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v != int(v):
        raise _err(path, key, "is not a whole number")
    if not (0 if zero else 1) <= int(v) <= MAX_DIM:
        raise _err(path, key, f"is out of range (expected {0 if zero else 1} to {MAX_DIM:,})")
    return int(v)


def load(path: str | os.PathLike) -> dict:
    """The config as a dict; a multimodal config's `text_config` is merged over its top level."""
    from ..fileio import read_text

    text = read_text(path, what="config", limit=MAX_CONFIG_BYTES)
    try:
        cfg = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"config '{path}' is not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise InputError(f"config '{path}' is nested too deeply") from None
    if not isinstance(cfg, dict):
        raise InputError(f"config '{path}': expected a JSON object at the top level")
    text_cfg = cfg.get("text_config")
    if text_cfg is not None:
        if not isinstance(text_cfg, dict):
            raise _err(path, "text_config", "is not a JSON object")
        merged = {k: v for k, v in cfg.items() if k != "text_config"}
        merged.update(text_cfg)
        merged["_multimodal"] = "vision_config" in cfg
        return merged
    return cfg


def _dtype(cfg: dict, path) -> str:
    d = cfg.get("torch_dtype", cfg.get("dtype", "bfloat16"))
    if not isinstance(d, str) or d not in DTYPE_BYTES:
        raise _err(path, "torch_dtype", f"is not a dtype tokencalc knows ({', '.join(sorted(DTYPE_BYTES))})")
    return d


def _quant(cfg: dict, path) -> str | None:
    q = cfg.get("quantization_config")
    if q is None:
        return None
    if not isinstance(q, dict):
        raise _err(path, "quantization_config", "is not a JSON object")
    method = q.get("quant_method")
    if method == "compressed-tensors":  # e.g. Llama 4 Maverick FP8: float weights of 8 bits
        groups = q.get("config_groups") or {}
        bits = {g.get("weights", {}).get("num_bits") for g in groups.values() if isinstance(g, dict)}
        return "fp8" if bits == {8} else None
    if method in QUANT:
        return str(method)
    raise _err(path, "quantization_config.quant_method", f"is not one tokencalc reads ({', '.join(QUANT)})")


def _attention(a: Arch, cfg: dict, path) -> None:
    """Attention weights per layer, KV bytes per token and d_attn: GQA, or MLA when the config has kv_lora_rank."""
    d, h, kvb = a.d_model, a.n_heads, DTYPE_BYTES[a.dtype]
    if "kv_lora_rank" in cfg:
        r = _int(cfg, "kv_lora_rank", path)
        rope, nope = _int(cfg, "qk_rope_head_dim", path), _int(cfg, "qk_nope_head_dim", path)
        v = _int(cfg, "v_head_dim", path)
        ql = _int(cfg, "q_lora_rank", path, 0, zero=True)
        q = d * ql + ql * h * (nope + rope) if ql else d * h * (nope + rope)
        a.attn_per_layer = q + d * (r + rope) + r * h * (nope + v) + h * v * d
        a.attn_note = (f"MLA: q {'%d x %d + %d x %d x (%d + %d)' % (d, ql, ql, h, nope, rope) if ql else '%d x %d x %d' % (d, h, nope + rope)}"
                       f" + kv_a {d} x ({r} + {rope}) + kv_b {r} x {h} x ({nope} + {v}) + o {h} x {v} x {d}")
        a.kv_bytes = a.n_layers * (r + rope) * kvb
        a.kv_note = f"MLA: {a.n_layers} layers x (kv_lora_rank {r} + qk_rope_head_dim {rope}) x {kvb} B"
        a.d_attn = h * v
        return
    hd, kv = a.head_dim, a.n_kv_heads
    a.attn_per_layer = d * hd * (2 * h + 2 * kv)
    a.attn_note = f"q, o: 2 x {d} x {h} x {hd}; k, v: 2 x {d} x {kv} x {hd}"
    a.kv_bytes = 2 * a.n_layers * kv * hd * kvb
    a.kv_note = f"2 (K,V) x {a.n_layers} layers x {kv} KV heads x {hd} x {kvb} B"
    a.d_attn = h * hd
    window = cfg.get("sliding_window")
    types = cfg.get("layer_types")
    if isinstance(window, int) and isinstance(types, list) and "sliding_attention" in types:
        n = types.count("sliding_attention")
        a.notes.append(f"{n} of {a.n_layers} layers use a {window}-token sliding window; the KV figure counts "
                       "every layer at full context (an upper bound)")


def _moe_layers(cfg: dict, n_layers: int, path) -> int:
    """How many layers carry routed experts: first_k_dense_replace, interleave step, or mlp_only_layers."""
    if "first_k_dense_replace" in cfg:
        return n_layers - min(_int(cfg, "first_k_dense_replace", path, zero=True), n_layers)
    if "interleave_moe_layer_step" in cfg:
        step = _int(cfg, "interleave_moe_layer_step", path)
        return sum(1 for i in range(n_layers) if (i + 1) % step == 0)
    step = _int(cfg, "decoder_sparse_step", path, 1)
    only = cfg.get("mlp_only_layers") or []
    if not isinstance(only, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in only):
        raise _err(path, "mlp_only_layers", "is not a list of layer numbers")
    return sum(1 for i in range(n_layers) if i not in only and (i + 1) % step == 0)


def _ffn(a: Arch, cfg: dict, path) -> None:
    """Dense FFN widths and the experts: counts, top-k, expert width, shared experts."""
    keys = ("num_experts", "num_local_experts", "n_routed_experts")
    ek = next((k for k in keys if cfg.get(k)), None)
    dense_key = "intermediate_size_mlp" if "intermediate_size_mlp" in cfg else "intermediate_size"
    if ek is None:
        a.dense_layers, a.dense_ff = a.n_layers, _int(cfg, "intermediate_size", path)
        return
    a.n_experts = _int(cfg, ek, path)
    tk = next((k for k in ("num_experts_per_tok", "experts_per_token", "num_experts_per_token") if k in cfg),
              "num_experts_per_tok")
    a.top_k = _int(cfg, tk, path)
    if a.top_k > a.n_experts:
        raise _err(path, tk, f"exceeds the {a.n_experts} experts")
    a.moe_ff = _int(cfg, "moe_intermediate_size" if "moe_intermediate_size" in cfg else "intermediate_size", path)
    a.moe_layers = _moe_layers(cfg, a.n_layers, path)
    a.dense_layers = a.n_layers - a.moe_layers
    if a.dense_layers:
        a.dense_ff = _int(cfg, dense_key, path)
    if "n_shared_experts" in cfg:
        a.n_shared, a.shared_ff = _int(cfg, "n_shared_experts", path, zero=True), a.moe_ff
    elif "shared_expert_intermediate_size" in cfg:
        a.n_shared, a.shared_ff = 1, _int(cfg, "shared_expert_intermediate_size", path)
    elif a.model_type.startswith("llama4"):  # Llama 4: one always-on shared expert per MoE layer
        a.n_shared, a.shared_ff = 1, a.moe_ff


def parse(cfg: dict, path, name: str | None = None) -> Arch:
    """The architecture of a loaded config."""
    d = _int(cfg, "hidden_size", path)
    layers = _int(cfg, "num_hidden_layers", path)
    heads = _int(cfg, "num_attention_heads", path)
    kv = _int(cfg, "num_key_value_heads", path, heads)
    if kv > heads:
        raise _err(path, "num_key_value_heads", f"exceeds num_attention_heads ({heads})")
    hd = _int(cfg, "head_dim", path, d // heads if d % heads == 0 else None)
    tied = cfg.get("tie_word_embeddings", False)
    if not isinstance(tied, bool):
        raise _err(path, "tie_word_embeddings", "is not true or false")
    mt = cfg.get("model_type", "")
    model_type = mt if isinstance(mt, str) else ""
    label = name or cfg.get("_name_or_path") or model_type or "model"
    a = Arch(str(label)[:100], model_type, d, layers, heads, kv, hd, _int(cfg, "vocab_size", path), tied,
             _dtype(cfg, path), quant=_quant(cfg, path))
    _attention(a, cfg, path)
    _ffn(a, cfg, path)
    if cfg.get("_multimodal"):
        a.notes.append("the vision tower (vision_config) is not counted: a text decode step does not read it")
    return a


def _e(x: float) -> str:
    """A parameter count as TOML: 3 significant-ish digits in e-notation, exact below 1e6."""
    return f"{x:.4e}".replace("e+0", "e").replace("e+", "e") if x >= 1e6 else str(int(x))


def _model_lines(a: Arch) -> list:
    attn = a.n_layers * a.attn_per_layer
    lines = ["[model]", f"family = {json.dumps(a.name)}", f"architecture = \"{'moe' if a.n_experts else 'dense'}\"",
             f"# embeddings: {a.vocab} x {a.d_model}{'' if a.tied else ' x 2 (untied output head)'} = {a.embed:,}",
             f"# attention: {a.n_layers} layers x ({a.attn_note}) = {a.n_layers} x {a.attn_per_layer:,} = {attn:,}"]
    if a.dense_layers:
        lines.append(f"# dense FFN: {a.dense_layers} layers x 3 x {a.d_model} x {a.dense_ff} = {a.dense_ffn:,}")
    if a.n_experts:
        lines.append(f"# one routed expert: {a.moe_layers} MoE layers x 3 x {a.d_model} x {a.moe_ff} = {a.expert_params:,}")
        lines.append(f"# shared experts + router: {a.moe_layers} x ({a.n_shared} x 3 x {a.d_model} x {a.shared_ff} + "
                     f"{a.d_model} x {a.n_experts}) = {a.shared_params:,}")
        lines.append(f"# total = embeddings + attention + dense FFN + shared + {a.n_experts} experts = {a.total:,}")
        lines.append(f"# active = total - ({a.n_experts} - {a.top_k}) unused experts x {a.expert_params:,} = {a.active:,}")
    else:
        lines.append(f"# total = active = embeddings + attention + dense FFN = {a.total:,}")
    lines += [f"active_params = {_e(a.active)}", f"total_params = {_e(a.total)}", f"n_layers = {a.n_layers}",
              f"d_attn = {a.d_attn}   # {a.n_heads} heads x {a.d_attn // a.n_heads}", f"d_model = {a.d_model}"]
    if a.n_experts:
        lines += [f"n_experts = {a.n_experts}", f"experts_per_token = {a.top_k}",
                  f"expert_params = {_e(a.expert_params)}"]
    lines += [f"kv_bytes_per_token = \"{a.kv_bytes} B/token\"   # {a.kv_note} = {a.kv_bytes:,} B",
              f"bytes_per_param = \"{a.weight_bytes():.4g} B\"   # {a.quant or a.dtype} weights"]
    return lines


def to_toml(a: Arch, config_name: str) -> str:
    """The workload profile text for an architecture."""
    notes = ["Architecture derived from a Hugging Face config.json; norms and biases are not counted.",
             "The operating point is a placeholder: set batch, context and replica size to your deployment."]
    notes += [n[0].upper() + n[1:] + "." for n in a.notes]
    note_text = " ".join(notes).replace("\\", "\\\\").replace('"', '\\"')
    src = json.dumps(f"{SOURCE_NOTE}: {config_name}")
    out = ["kind = \"workload\"", f"name = {json.dumps(a.name + ' (from config.json)')}",
           f"description = {json.dumps(f'{a.name}: {a.n_layers} layers, d_model {a.d_model}, derived from its config.json.')}",
           f"notes = \"{note_text}\"", "", *_model_lines(a), "",
           "[operating_point]", f"precision = \"{a.precision}\"", "batch_size = 64   # placeholder: concurrent sequences per replica",
           "context_length = 4096",
           "devices_per_replica = 1   # placeholder: the devices one replica spans", "token_basis = \"output\"", "",
           "[sources]", f"model = {{ title = \"config.json\", note = {src} }}",
           "operating_point = \"placeholder operating point written by tokencalc profiles new --from-config\"", ""]
    return "\n".join(out)


def new_workload(config: str | os.PathLike, output: str | os.PathLike, *, force: bool = False,
                 name: str | None = None) -> Arch:
    """Read `config`, write the workload profile to `output` (atomically), and return the architecture."""
    from ..fileio import check_writable, write_atomic

    check_writable(output, force, flag="-o")
    arch = parse(load(config), config, name)
    write_atomic(output, to_toml(arch, os.path.basename(str(config))), force=force, flag="-o")
    return arch
