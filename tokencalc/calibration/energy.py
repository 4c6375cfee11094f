"""Energy reports that serving stacks write themselves -> energy, tokens, duration and devices (`--energy FILE`).

Each report is recognised by its keys, never by its file name (:func:`detect`):

- ``vllm-bench-energy``: a ``vllm bench serve`` result with NVML energy
  (``gpu_energy_j``, ``gpu_energy_duration_s``, ``energy_gpu_ids``; vllm/benchmarks/lib/energy.py);
- ``vllm-bench-power``: a ``vllm bench serve --record-power`` result (vLLM PR #38647,
  vllm/benchmarks/power.py): sampled power statistics, ``mean_power_w`` (all devices) and
  ``median_power_per_accelerator_w``; the energy is ``mean_power_w`` x ``duration``;
- ``sglang-bench-power``: an ``sglang.bench_serving --record-power`` result (SGLang PR #21034),
  the same statistics in an SGLang result (``total_output_tokens_retokenized``);
- ``trtllm-bench``: a ``trtllm-bench`` report JSON (``world_info``, ``request_info``,
  ``performance``) with the energy of TensorRT-LLM PR #11397 (``performance.total_energy_j``);
- ``tgi-responses``: TGI ``/generate`` responses with ``details.energy_mj`` (TGI PR #3315), one
  response, a JSON array of them, or one per line;
- ``mlenergy-run``: an ML.ENERGY Benchmark run's ``results.json`` (``steady_state_energy``,
  ``steady_state_duration``, ``steady_state_energy_per_token``, ``num_gpus``).

Every figure is at the accelerator boundary (GPU board or socket power) and every token count
is of output tokens; input tokens, where a report has them, give ``--token-basis total``.
Reads are bounded (:func:`tokencalc.fileio.read_bytes`); messages name the file and the key,
never the file's content.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..fileio import read_bytes
from .samples import sha256_of

FORMATS = ("vllm-bench-energy", "vllm-bench-power", "sglang-bench-power", "trtllm-bench", "tgi-responses",
           "mlenergy-run")
FILE_BYTES = 64 * 1024 * 1024
AGREE = 0.05  # a report's own J/token vs ours: beyond 5 % apart is worth a warning


@dataclass(frozen=True)
class EnergyReport:
    """What one report says about one run, SI units.

    Attributes:
        path, sha256: the file and the SHA-256 of its bytes.
        format: one of FORMATS.
        energy_j: accelerator energy over the report's window (all its devices).
        duration_s: that window's length (None: the report has none, e.g. TGI responses).
        output_tokens: output tokens produced in the window (the token basis "output").
        input_tokens: input tokens of the same requests (None: not reported).
        devices: accelerators measured (None: not reported).
        device_energy: (device id, J) per device where the report splits it, else empty.
        window: what the window is, in words.
        model_id: the served model, when the report names it.
        e_tok_reported: the report's own J per output token, when it writes one.
        warnings: what to know about the figures (counted with calibrate's warnings).
    """

    path: str
    sha256: str
    format: str
    energy_j: float
    duration_s: float | None
    output_tokens: int
    input_tokens: int | None
    devices: int | None
    device_energy: tuple[tuple[str, float], ...]
    window: str
    model_id: str | None = None
    e_tok_reported: float | None = None
    warnings: tuple[str, ...] = ()

    def tokens(self, basis: str) -> int:
        """Tokens on `basis` ("output", or "total" = input + output).

        Raises:
            InputError: "total" and the report has no input token count for its window.
        """
        if basis == "output":
            return self.output_tokens
        if self.input_tokens is None:
            raise InputError(f"{self.path}: a {self.format} report has no input token count for its energy window; "
                             "use --token-basis output")
        return self.input_tokens + self.output_tokens


# ---------------------------------------------------------------------------
# Checked values: never echo the file's content, name the file and the key


def _missing(path: str, key: str, fmt: str) -> InputError:
    return InputError(f"{key} in {path}: missing; a {fmt} report carries it")


def number(obj: dict, key: str, path: str, fmt: str, *, where: str = "", positive: bool = False,
           required: bool = True) -> float | None:
    """A finite number >= 0 (> 0 with `positive`) at obj[key]; None when absent and not required."""
    name = where + key
    if key not in obj or obj[key] is None:
        if required:
            raise _missing(path, name, fmt)
        return None
    v = obj[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0 \
            or (positive and v == 0):
        raise InputError(f"{name} in {path}: expected a finite number {'>' if positive else '>='} 0")
    return float(v)


def count(obj: dict, key: str, path: str, fmt: str, *, where: str = "", required: bool = True) -> int | None:
    """A whole number >= 0 at obj[key] (a token or request count)."""
    v = number(obj, key, path, fmt, where=where, required=required)
    if v is None:
        return None
    if not v.is_integer():
        raise InputError(f"{where}{key} in {path}: expected a whole number >= 0")
    return int(v)


def _table(obj: dict, key: str, path: str, fmt: str) -> dict:
    v = obj.get(key)
    if not isinstance(v, dict):
        raise InputError(f"{key} in {path}: expected an object (a {fmt} report)")
    return v


def _model(obj: dict, *keys: str) -> str | None:
    for k in keys:
        if isinstance(obj.get(k), str) and obj[k]:
            return obj[k]
    return None


def _agree(ours: float | None, theirs: float | None, key: str, path: str) -> list[str]:
    if not ours or not theirs or abs(ours - theirs) <= AGREE * theirs:
        return []
    return [f"{path}: {key} says {theirs:.6g} J/token, the report's energy and tokens give {ours:.6g}; "
            "calibrate uses the latter"]


# ---------------------------------------------------------------------------
# The readers: (document, path, digest) -> EnergyReport


def _vllm_energy(doc: dict, path: str, digest: str) -> EnergyReport:
    fmt = "vllm-bench-energy"
    energy = number(doc, "gpu_energy_j", path, fmt)
    dur = number(doc, "gpu_energy_duration_s", path, fmt, required=False, positive=True)
    dur = dur if dur is not None else number(doc, "duration", path, fmt, positive=True)
    out = count(doc, "total_output_tokens", path, fmt)
    ids = doc.get("energy_gpu_ids")
    if not isinstance(ids, list) or not ids:
        raise InputError(f"energy_gpu_ids in {path}: expected a non-empty list of the GPUs measured")
    reported = number(doc, "gpu_energy_per_output_token_j", path, fmt, required=False)
    notes = _agree(energy / out if out else None, reported, "gpu_energy_per_output_token_j", path)
    inputs = count(doc, "total_input_tokens", path, fmt, required=False)
    return EnergyReport(path, digest, fmt, energy, dur, out, inputs, len(ids), (),
                        "the benchmark run (NVML energy counters)", _model(doc, "model_id"), reported, tuple(notes))


def _power_stats(doc: dict, path: str, digest: str, fmt: str) -> EnergyReport:
    mean_w = number(doc, "mean_power_w", path, fmt)
    median_w = number(doc, "median_power_w", path, fmt, positive=True)
    per_dev = number(doc, "median_power_per_accelerator_w", path, fmt, positive=True)
    dur = number(doc, "duration", path, fmt, positive=True)
    out = count(doc, "total_output_tokens", path, fmt)
    devices = max(1, round(median_w / per_dev))
    n = count(doc, "num_samples", path, fmt, required=False)
    notes = [f"{path}: energy is mean sampled power x duration ({n if n is not None else 'unknown'} samples); "
             "the tool's own toks/joule divides by the median power"]
    if n is not None and n < 10:
        notes.append(f"{path}: only {n} power samples; lower the recording interval for a steadier mean")
    if number(doc, "cpu_mean_power_w", path, fmt, required=False):
        notes.append(f"{path}: CPU power is reported too; it is outside the accelerator boundary and not counted")
    return EnergyReport(path, digest, fmt, mean_w * dur, dur, out,
                        count(doc, "total_input_tokens", path, fmt, required=False), devices, (),
                        "the benchmark run (sampled accelerator power)", _model(doc, "model_id", "model"), None,
                        tuple(notes))


def _trtllm(doc: dict, path: str, digest: str) -> EnergyReport:
    fmt = "trtllm-bench"
    perf = _table(doc, "performance", path, fmt)
    req = _table(doc, "request_info", path, fmt)
    world = _table(doc, "world_info", path, fmt)
    energy = number(perf, "total_energy_j", path, fmt, where="performance.")
    dur = number(perf, "total_latency_ms", path, fmt, where="performance.", positive=True) / 1000.0
    n_req = count(req, "num_requests", path, fmt, where="request_info.")
    out_len = number(req, "avg_output_length", path, fmt, where="request_info.")
    in_len = number(req, "avg_input_length", path, fmt, where="request_info.", required=False)
    devices = count(world, "world_size", path, fmt, where="world_info.")
    if not devices:
        raise InputError(f"world_info.world_size in {path}: expected a whole number > 0")
    engine = doc.get("engine") if isinstance(doc.get("engine"), dict) else {}
    return EnergyReport(path, digest, fmt, energy, dur, round(n_req * out_len),
                        round(n_req * in_len) if in_len is not None else None, devices, (),
                        "the benchmark run (NVML energy counters, all ranks)", _model(engine, "model"), None,
                        (f"{path}: tokens are request_info.num_requests x avg_output_length",))


def _tgi_response(item: Any, i: int, path: str) -> tuple[float, int, int | None]:
    fmt = "tgi-responses"
    details = item.get("details") if isinstance(item, dict) else None
    if not isinstance(details, dict):
        raise InputError(f"response {i + 1} in {path}: expected an object with `details` (a TGI response "
                         "generated with details: true)")
    where = f"response {i + 1}: details."
    mj = number(details, "energy_mj", path, fmt, where=where)
    toks = count(details, "generated_tokens", path, fmt, where=where)
    prefill = details.get("prefill")
    return mj / 1000.0, toks, len(prefill) if isinstance(prefill, list) and prefill else None


def _tgi(docs: list, path: str, digest: str) -> EnergyReport:
    rows = [_tgi_response(item, i, path) for i, item in enumerate(docs)]
    inputs = [r[2] for r in rows]
    notes = [f"{path}: TGI responses carry no run duration or device count: no throughput, K_eff or "
             "per-device figures"]
    if len(rows) > 1:
        notes.append(f"{path}: {len(rows)} responses summed; TGI's energy_mj is the GPU energy while each request "
                     "ran, not split among batched requests, so concurrent requests count shared energy twice")
    return EnergyReport(path, digest, "tgi-responses", sum(r[0] for r in rows), None, sum(r[1] for r in rows),
                        sum(inputs) if all(x is not None for x in inputs) else None, None, (),
                        f"{len(rows)} request(s), each while it was processed", None, None, tuple(notes))


def _mlenergy(doc: dict, path: str, digest: str) -> EnergyReport:
    fmt = "mlenergy-run"
    energy = number(doc, "steady_state_energy", path, fmt)
    dur = number(doc, "steady_state_duration", path, fmt, positive=True)
    per_tok = number(doc, "steady_state_energy_per_token", path, fmt, positive=True)
    gpus = count(doc, "num_gpus", path, fmt)
    if not gpus:
        raise InputError(f"num_gpus in {path}: expected a whole number > 0")
    split: list[tuple[str, float]] = []
    meas = doc.get("steady_state_measurement")
    per_gpu = meas.get("gpu_energy") if isinstance(meas, dict) else None
    if isinstance(per_gpu, dict):
        for k, _ in per_gpu.items():
            split.append((str(k), number(per_gpu, k, path, fmt, where="steady_state_measurement.gpu_energy.")))
    notes = [f"{path}: steady-state output tokens are steady_state_energy / steady_state_energy_per_token"]
    if split and abs(sum(e for _, e in split) - energy) > AGREE * energy:
        notes.append(f"{path}: steady_state_measurement.gpu_energy does not sum to steady_state_energy; "
                     "the total is used")
    return EnergyReport(path, digest, fmt, energy, dur, round(energy / per_tok), None, gpus, tuple(split),
                        "the steady state (ML.ENERGY Benchmark)", _model(doc, "model_id"), per_tok, tuple(notes))


# ---------------------------------------------------------------------------
# Detection by content and the entry point


def detect(doc: Any) -> str | None:
    """The format of a parsed report (see FORMATS), from its keys; None when none fits."""
    if isinstance(doc, list):
        first = doc[0] if doc else None
        if isinstance(first, dict) and isinstance(first.get("details"), dict) and "energy_mj" in first["details"]:
            return "tgi-responses"
        return None
    if not isinstance(doc, dict):
        return None
    if isinstance(doc.get("details"), dict) and "energy_mj" in doc["details"]:
        return "tgi-responses"
    if "steady_state_energy" in doc and "steady_state_duration" in doc:
        return "mlenergy-run"
    if "gpu_energy_j" in doc and "total_output_tokens" in doc:
        return "vllm-bench-energy"
    if "median_power_per_accelerator_w" in doc and "total_output_tokens" in doc:
        sglang = "total_output_tokens_retokenized" in doc or str(doc.get("backend", "")).startswith("sglang")
        return "sglang-bench-power" if sglang else "vllm-bench-power"
    if all(isinstance(doc.get(k), dict) for k in ("world_info", "request_info", "performance")):
        return "trtllm-bench"
    return None


def _parse(text: str, path: str) -> Any:
    """One JSON document, or one per line (JSON Lines) as a list."""
    try:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            if exc.msg != "Extra data":
                raise InputError(f"energy report '{path}' is not valid JSON (line {exc.lineno}, column {exc.colno})") \
                    from None
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    raise InputError(f"line {n} in {path}: not a JSON document (expected one per line)") from None
        return rows
    except RecursionError:
        raise InputError(f"energy report '{path}': JSON nested too deeply") from None


def _unknown(path: str, doc: Any) -> InputError:
    if isinstance(doc, dict) and "configurations" in doc and "task" in doc:
        return InputError(f"energy report '{path}' is an ML.ENERGY leaderboard aggregate (task, configurations), "
                          "not one run; import it with `tokencalc profiles import-mlenergy`")
    return InputError(f"energy report '{path}': not a format calibrate knows (recognised by their keys: "
                      + ", ".join(FORMATS) + ")")


def read_energy(path: str | os.PathLike) -> EnergyReport:
    """Read a serving stack's energy report, whatever its name: the format is found from its keys.

    Raises:
        InputError: unreadable or not UTF-8 JSON, no known format (the message lists them), a missing key,
            or a value that is not a finite number >= 0 (naming the file and the key).
    """
    path = str(path)
    blob = read_bytes(path, what="energy report", limit=FILE_BYTES)
    try:
        text = blob.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"energy report '{path}' is not UTF-8 text") from None
    doc = _parse(text, path)
    if isinstance(doc, list) and doc and detect(doc[0]) not in (None, "tgi-responses"):
        if len(doc) > 1:  # bench_serving appends one result per run to its JSON Lines file
            raise InputError(f"energy report '{path}' holds {len(doc)} results; keep the one for this run")
        doc = doc[0]
    fmt = detect(doc)
    digest = sha256_of(blob)
    if fmt is None:
        raise _unknown(path, doc)
    if fmt == "tgi-responses":
        return _tgi(doc if isinstance(doc, list) else [doc], path, digest)
    if fmt in ("vllm-bench-power", "sglang-bench-power"):
        return _power_stats(doc, path, digest, fmt)
    readers = {"vllm-bench-energy": _vllm_energy, "trtllm-bench": _trtllm, "mlenergy-run": _mlenergy}
    return readers[fmt](doc, path, digest)
