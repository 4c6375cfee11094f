"""Shared by bench/fit_mlenergy.py and bench/validate_mlenergy.py: the ML.ENERGY v3 rows, the
architectures of their models, and the serving model's prediction of each row.

Data: ML.ENERGY Leaderboard v3.0 files (data dated 2026-02-16; the `public/data` folder of the
ml-energy/leaderboard repository, or a subset in the same format) in the folder given on the command
line or in MLENERGY_DATA (`make validate DATA=<folder>`).
"""

from __future__ import annotations

import json
import math
import sys
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tokencalc.core.serving import Architecture, Device, decode_step  # noqa: E402
from tokencalc.units import parse  # noqa: E402

TASKS = ("lm-arena-chat", "gpqa", "sourcegraph-fim")
HARDWARE = {"H100": "h100-sxm", "B200": "b200"}

# Prompt length per task (tokens), an assumption the data do not carry:
#   chat: LMArena conversations, a short user turn plus chat template and any earlier turns: ~250;
#   gpqa: one GPQA question with four answer options and the answer-format instruction: ~300;
#   fim:  Sourcegraph code completion sends the code before and after the cursor, ~2,000 tokens.
# The operating context of a decode step is the prompt plus half the output (the mean over the request).
PROMPT_TOKENS = {"lm-arena-chat": 250, "gpqa": 300, "sourcegraph-fim": 2000}
# Activations and KV cache in BF16 for every row (vLLM's kv_cache_dtype "auto" follows the activations).
KV_BYTES = 2.0
BYTES = {"bfloat16": 2.0, "fp8": 1.0, "mxfp4": 2.0}
PEAK_KEY = {"bfloat16": "bf16", "fp8": "fp8", "mxfp4": "bf16"}  # MXFP4 is weight-only: BF16 tensor math
# Families left out: a Mamba layer has no KV cache and a recurrent state the serving model does not describe.
SKIP_ARCHITECTURES = ("Mamba-Transformer Hybrid",)


@dataclass(frozen=True)
class Row:
    task: str
    model: str
    family: str
    gpu: str
    num_gpus: int
    precision: str
    batch: float
    output_len: float
    throughput: float      # token/s, whole deployment (all num_gpus)
    power: float           # W, all GPUs
    e_tok: float           # J per output token
    itl: float             # s, median


def config_table(arches: dict, model: str) -> tuple[str, dict]:
    """(family key, config table) of a model id, following `same_as`."""
    t = arches[model]
    key = t.get("same_as", model)
    return key, arches[key]


def count_params(c: dict) -> dict[str, float]:
    """Parameters from a config table: total, active, one routed expert over all MoE layers, shared."""
    h, L, v = c["hidden_size"], c["num_hidden_layers"], c["vocab_size"]
    embed = v * h * (1 if c.get("tie_word_embeddings") else 2)
    if "kv_lora_rank" in c:   # DeepSeek multi-head latent attention
        nh, qr, kr = c["num_attention_heads"], c["q_lora_rank"], c["kv_lora_rank"]
        qk = c["qk_nope_head_dim"] + c["qk_rope_head_dim"]
        attn = h * qr + qr * nh * qk + h * (kr + c["qk_rope_head_dim"]) + kr * nh * (c["qk_nope_head_dim"]
                                                                                  + c["v_head_dim"])
        attn += nh * c["v_head_dim"] * h
    else:
        hd, nh, nkv = c["head_dim"], c["num_attention_heads"], c["num_key_value_heads"]
        attn = h * nh * hd * 2 + h * nkv * hd * 2
    ffn = lambda width: 3 * h * width  # noqa: E731 - gated MLP: gate, up, down
    n_e = c.get("num_experts", 0)
    moe_layers = c.get("moe_layers", L if n_e else 0)
    expert_one = ffn(c["moe_intermediate_size"]) * moe_layers if n_e else 0.0
    shared_experts = c.get("n_shared_experts", 0) * expert_one
    dense = (L - moe_layers) * ffn(c["intermediate_size"])
    routers = moe_layers * h * n_e
    total = embed + L * attn + dense + n_e * expert_one + shared_experts + routers
    active = total - (n_e - c.get("num_experts_per_tok", 0)) * expert_one if n_e else total
    return {"total": total, "active": active, "expert": expert_one, "extra": c.get("extra_params", 0.0)}


def kv_per_token(c: dict, context: float) -> float:
    """KV-cache bytes per token of context at `context` (sliding-window layers hold at most the window)."""
    L = c["num_hidden_layers"]
    if "kv_lora_rank" in c:
        per_layer = (c["kv_lora_rank"] + c["qk_rope_head_dim"]) * KV_BYTES   # one latent vector per token
    else:
        per_layer = 2 * c["num_key_value_heads"] * c["head_dim"] * KV_BYTES
    sliding = c.get("sliding_layers", 0)
    window_share = min(1.0, c.get("sliding_window", context) / context) if sliding else 1.0
    return per_layer * ((L - sliding) + sliding * window_share)


def architecture(c: dict, precision: str, context: float) -> Architecture:
    """The serving model's Architecture of one config at a precision and context."""
    p = count_params(c)
    bpp = BYTES[precision]
    h, L = c["hidden_size"], c["num_hidden_layers"]
    d_attn = c["num_attention_heads"] * c.get("v_head_dim", c.get("head_dim", 0))
    expert, total = p["expert"], p["total"]
    if "expert_weight_bits" in c:
        # Experts stored narrower than the rest: expressed as fewer BF16-equivalent parameters, so
        # that weight bytes and bytes read are right with one bytes_per_param (active params stay true).
        shrink = c["expert_weight_bits"] / 8.0 / bpp
        total = total - c["num_experts"] * expert * (1.0 - shrink)
        expert = expert * shrink
    moe = {}
    if c.get("num_experts"):
        moe = {"n_experts": c["num_experts"], "experts_per_token": c["num_experts_per_tok"], "expert_params": expert}
    return Architecture(active_params=p["active"], total_params=total, bytes_per_param=bpp, n_layers=L,
                        d_attn=d_attn, kv_bytes_per_token=kv_per_token(c, context), d_model=h, **moe)


def load_rows(data: Path, arches: dict) -> tuple[list[Row], list[str]]:
    """The LLM rows the serving model describes, and the model ids left out (with why)."""
    index = json.loads((data / "index.json").read_text())["models"]
    rows, skipped = [], set()
    for task in TASKS:
        for r in json.loads((data / f"{task}.json").read_text())["configurations"]:
            m = r["model_id"]
            if index.get(m, {}).get("architecture") in SKIP_ARCHITECTURES or m not in arches:
                skipped.add(f"{m} ({index.get(m, {}).get('architecture', 'no architecture')})")
                continue
            # With data_parallel > 1 the leaderboard's throughput is that of one data-parallel engine (its
            # energy_per_token = all GPUs' power / one engine's tokens): the deployment makes dp times as many.
            dp = r.get("data_parallel", 1) or 1
            tput = r["output_throughput_tokens_per_sec"] * dp
            e_tok = r["energy_per_token_joules"] / dp
            rows.append(Row(task, m, config_table(arches, m)[0], r["gpu_model"], r["num_gpus"], r["weight_precision"],
                            r["avg_batch_size"], r["avg_output_len"], tput, r["avg_power_watts"], e_tok,
                            r["median_itl_ms"] / 1e3))
    return rows, sorted(skipped)


def load_architectures() -> dict:
    return tomllib.loads((ROOT / "bench" / "mlenergy_architectures.toml").read_text())


def hardware_profile(gpu: str) -> dict:
    return tomllib.loads((ROOT / "profiles" / "hardware" / f"{HARDWARE[gpu]}.toml").read_text())


def datasheet(gpu: str, precision: str) -> dict:
    """Datasheet figures of a GPU at a precision (SI) from its bundled hardware profile."""
    p = hardware_profile(gpu)
    out = {"peak_flops": parse(p["peak_flops"][PEAK_KEY[precision]], "compute_rate"),
           "hbm_bandwidth": parse(p["hbm_bandwidth"], "bandwidth"), "hbm_capacity": parse(p["hbm_capacity"], "bytes"),
           "tdp": parse(p["tdp"], "power")}
    if "interconnect_bandwidth" in p:
        out["interconnect_bandwidth"] = parse(p["interconnect_bandwidth"], "bandwidth")
    if "idle_power" in p:
        out["idle_power"] = parse(p["idle_power"], "power")
    return out


PARAMS = ("compute_efficiency", "memory_efficiency", "step_overhead_s", "sequence_overhead_s", "collective_latency_s",
          "power_base", "power_compute", "power_memory")
PROFILE_KEYS = {"compute_efficiency": ("compute_efficiency", None), "memory_efficiency": ("memory_efficiency", None),
                "step_overhead_s": ("step_overhead", "time"), "sequence_overhead_s": ("sequence_overhead", "time"),
                "collective_latency_s": ("collective_latency", "time"), "power_base": ("power_base", None),
                "power_compute": ("power_compute", None), "power_memory": ("power_memory", None)}


def profile_params(gpu: str) -> dict[str, float]:
    """The fitted [serving] parameters of a GPU's bundled hardware profile."""
    table = hardware_profile(gpu).get("serving", {})
    out = {}
    for name, (key, dim) in PROFILE_KEYS.items():
        if key in table:
            v = table[key]
            out[name] = parse(v, dim) if dim else float(v)
    return out


def predict(row: Row, arches: dict, params: dict[str, float], sheets: dict) -> tuple[float, float, object]:
    """(throughput of the deployment [token/s], J per output token [accelerator], Step) for one row."""
    _, c = config_table(arches, row.model)
    prompt = PROMPT_TOKENS[row.task]
    context = prompt + row.output_len / 2.0
    arch = architecture(c, row.precision, context)
    dev = replace(Device(**sheets[(row.gpu, row.precision)]), **params)
    step = decode_step(arch, dev, row.batch, context, row.num_gpus, input_tokens=prompt,
                       prefill_per_output=prompt / row.output_len)
    return step.replica_throughput, step.e_tok_accelerator, step


def all_sheets(rows: list[Row]) -> dict:
    return {(r.gpu, r.precision): datasheet(r.gpu, r.precision) for r in rows}


def ape(pred: float, meas: float) -> float:
    """Absolute percentage error."""
    return abs(pred / meas - 1.0) * 100.0


def pct(values: list[float], q: float) -> float:
    """Percentile with linear interpolation (q in 0..100)."""
    s = sorted(values)
    if not s:
        return math.nan
    k = (len(s) - 1) * q / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def data_dir(argv: list[str]) -> Path:
    """The data folder: the first argument, else $MLENERGY_DATA; a clear exit without either."""
    import os

    given = argv[1] if len(argv) > 1 else os.environ.get("MLENERGY_DATA")
    if not given:
        sys.exit("give the ML.ENERGY Leaderboard data folder (its public/data, with index.json and <task>.json): "
                 "make validate DATA=<folder>, or MLENERGY_DATA=<folder>")
    return Path(given)
