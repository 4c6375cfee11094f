"""The ML.ENERGY Leaderboard's data files -> measured operating curves (`[[measured.curve]]` TOML text).

The leaderboard publishes one JSON file per task, `{"task", "task_display_name",
"configurations": [...]}`, one row per measured serving configuration, beside an
`index.json` (`models`, `last_updated`). Files are recognised by their keys, never
by their names. In every row `energy_per_token_joules` equals `avg_power_watts /
output_throughput_tokens_per_sec`, and the power of an 8-GPU row is eight boards'
worth: both figures cover all `num_gpus` GPUs of the replica, so each is divided by
`num_gpus` to give the per-device figures a curve holds. The batch is
`avg_batch_size` (the measured mean concurrency, not the `max_num_seqs` cap) and
the latency is `median_itl_ms`.

Reads are bounded (`fileio.read_text`); every problem is an InputError naming the
file and the row's key, never echoing the file's content.
"""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..errors import InputError, one_line
from ..fileio import read_text

# The leaderboard's GPU and weight-precision names -> tokencalc hardware ids and precisions.
GPUS = {"H100": "h100-sxm", "B200": "b200"}
PRECISIONS = {"bfloat16": "bf16", "fp8": "fp8", "mxfp4": "fp4"}
# The v3 data files carry neither the release nor the engine: both are the v3.0 release's (blog post, 2026).
RELEASE = "ML.ENERGY Leaderboard v3.0"
ENGINE = "vLLM 0.11.1"
CITATION = {"title": RELEASE, "author": "ML.ENERGY (J.-W. Chung et al.)", "year": "2026",
            "url": "https://ml.energy/leaderboard"}
MAX_FILES = 256                     # a leaderboard folder holds a handful of task files
FILE_BYTES = 32 * 1024 * 1024       # the largest v3 task file is well under 1 MB
AGREE = 0.01                        # energy_per_token vs power / throughput: they agree to rounding
NUMBERS = ("avg_batch_size", "output_throughput_tokens_per_sec", "avg_power_watts", "median_itl_ms",
           "energy_per_token_joules")


@dataclass(frozen=True)
class Row:
    """One imported configuration, per device, SI units (itl in s)."""

    model_id: str
    hardware: str
    devices_per_replica: int
    precision: str
    batch_size: float
    throughput_per_device: float
    device_power: float
    itl: float


@dataclass(frozen=True)
class Imported:
    """The rows of some models in one task, sorted by (model, hardware, devices, precision, batch)."""

    task: str
    task_display_name: str
    models: tuple[str, ...]
    rows: tuple[Row, ...]
    data_date: str | None


def read_folder(folder: str | Path) -> tuple[dict[str, tuple[str, dict]], str | None]:
    """The task files of a leaderboard data folder and the index's date.

    Returns:
        ({task: (file, document)}, `last_updated` of the index or None).

    Raises:
        InputError: not a folder, too many files, a file that is not JSON, no task file at all.
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"'{folder}' is not a folder (expected the ML.ENERGY leaderboard's data folder)")
    files = sorted(p for p in root.glob("*.json") if p.is_file())
    if len(files) > MAX_FILES:
        raise InputError(f"'{folder}' holds {len(files)} JSON files; at most {MAX_FILES} are read")
    tasks: dict[str, tuple[str, dict]] = {}
    date = None
    for f in files:
        doc = _json(f)
        if not isinstance(doc, dict):
            continue
        if isinstance(doc.get("task"), str) and isinstance(doc.get("configurations"), list):
            tasks.setdefault(doc["task"], (str(f), doc))
        elif isinstance(doc.get("models"), dict) and isinstance(doc.get("last_updated"), str):
            date = doc["last_updated"][:10]
    if not tasks:
        raise InputError(f"'{folder}' is not an ML.ENERGY leaderboard data folder: no JSON file with "
                         "`task` and `configurations`")
    return tasks, date


def _json(path: Path) -> Any:
    text = read_text(path, what="leaderboard file", limit=FILE_BYTES)
    try:
        return json.loads(text)
    except RecursionError:
        raise InputError(f"leaderboard file '{path}': JSON nested too deeply") from None
    except json.JSONDecodeError as exc:  # position only: the message never shows the text
        raise InputError(f"leaderboard file '{path}' is not valid JSON (line {exc.lineno}, column {exc.colno})") from None


def _number(row: dict, key: str, where: str) -> float:
    v = row.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        raise InputError(f"{where}.{key}: " + ("missing" if key not in row else "expected a positive number"))
    return float(v)


def _count(row: dict, key: str, where: str, default: int | None = None) -> int:
    if key not in row and default is not None:
        return default
    v = row.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise InputError(f"{where}.{key}: " + ("missing" if key not in row else "expected a whole number >= 1"))
    return v


def _name(row: dict, key: str, table: dict[str, str], where: str) -> str:
    v = row.get(key)
    if not isinstance(v, str):
        raise InputError(f"{where}.{key}: " + ("missing" if key not in row else "expected a string"))
    if v not in table:
        raise InputError(f"{where}.{key}: not one tokencalc maps (known: {', '.join(table)})")
    return table[v]


def convert(row: dict, where: str) -> Row:
    """One leaderboard row -> a per-device :class:`Row` (see the module docstring).

    Raises:
        InputError: a missing or malformed key, data-parallel replicas, or an energy figure that
            disagrees with power / throughput (then the per-replica reading would be wrong).
    """
    hardware = _name(row, "gpu_model", GPUS, where)
    precision = _name(row, "weight_precision", PRECISIONS, where)
    gpus = _count(row, "num_gpus", where)
    if _count(row, "data_parallel", where, default=1) != 1:
        # With several replicas per row the per-replica batch is not stated: refuse rather than guess.
        raise InputError(f"{where}.data_parallel: rows with data_parallel > 1 are not imported")
    batch, rate, power, itl_ms, j = (_number(row, k, where) for k in NUMBERS)
    if abs(j - power / rate) > AGREE * j:
        raise InputError(f"{where}.energy_per_token_joules: disagrees with avg_power_watts / "
                         "output_throughput_tokens_per_sec; not the leaderboard format tokencalc reads")
    return Row(str(row["model_id"]), hardware, gpus, precision, batch, rate / gpus, power / gpus, itl_ms / 1000.0)


def _models(confs: list, file: str) -> list[str]:
    ids = []
    for i, row in enumerate(confs):
        if not isinstance(row, dict) or not isinstance(row.get("model_id"), str):
            raise InputError(f"{file}: configurations[{i}].model_id: missing or not a string")
        ids.append(row["model_id"])
    return ids


def _unknown_model(model: str, known: Iterable[str], task: str) -> InputError:
    known = sorted(set(known))
    close = difflib.get_close_matches(model, known, n=3, cutoff=0.4)
    close += [k for k in known if model.lower() in k.lower() and k not in close][:3]
    hint = f"; did you mean {', '.join(repr(one_line(k[:100])) for k in close)}?" if close else \
        f" ({len(known)} models have rows in it)"
    return InputError(f"--model {one_line(model[:100])!r}: no rows in task '{one_line(task[:60])}'{hint}")


def _gpus(gpus: Iterable[str] | None) -> set[str] | None:
    if not gpus:
        return None
    ids = {k.lower(): v for k, v in GPUS.items()} | {v: v for v in GPUS.values()}
    out = set()
    for g in gpus:
        if g.lower() not in ids:
            raise InputError(f"--gpu {one_line(g[:40])!r}: expected one of {', '.join(GPUS)}")
        out.add(ids[g.lower()])
    return out


def import_curves(folder: str | Path, models: Iterable[str], task: str = "lm-arena-chat",
                  gpus: Iterable[str] | None = None) -> Imported:
    """The measured curves of `models` in `task`, per device.

    Args:
        folder: the leaderboard's data folder.
        models: model ids as the leaderboard writes them (exact; case is ignored).
        task: the task id (`lm-arena-chat`, `gpqa`, ...).
        gpus: only these GPUs (leaderboard names H100, B200 or tokencalc ids); None: all.

    Raises:
        InputError: see :func:`read_folder` and :func:`convert`; an unknown task, model or GPU;
            two rows of one curve at the same batch.
    """
    tasks, date = read_folder(folder)
    if task not in tasks:
        raise InputError(f"--task {one_line(task[:60])!r}: no such task in '{folder}'; it has "
                         f"{', '.join(one_line(t[:60]) for t in sorted(tasks))}")
    file, doc = tasks[task]
    confs = doc["configurations"]
    ids = _models(confs, file)
    lower = {m.lower(): m for m in ids}
    chosen = []
    for m in models:
        if m.lower() not in lower:
            raise _unknown_model(m, ids, task)
        chosen.append(lower[m.lower()])
    keep = _gpus(gpus)
    rows = [convert(r, f"{file}: configurations[{i}]") for i, r in enumerate(confs) if r["model_id"] in chosen]
    rows = [r for r in rows if keep is None or r.hardware in keep]
    if not rows:
        raise InputError(f"--gpu: no rows of {', '.join(chosen)} in task '{task}' on {', '.join(sorted(keep or ()))}")
    rows.sort(key=lambda r: (chosen.index(r.model_id), r.hardware, r.devices_per_replica, r.precision, r.batch_size))
    _distinct(rows)
    display = doc.get("task_display_name")
    return Imported(task, display if isinstance(display, str) else task, tuple(dict.fromkeys(chosen)),
                    tuple(rows), date)


def _distinct(rows: list[Row]) -> None:
    seen = set()
    for r in rows:
        key = (r.hardware, r.devices_per_replica, r.precision, _g(r.batch_size))
        if key in seen:
            raise InputError(f"{r.model_id} on {r.devices_per_replica} x {r.hardware} ({r.precision}): two rows at "
                             f"batch {_g(r.batch_size)}; a curve needs distinct batches (pass the model ids one at a time)")
        seen.add(key)


def _g(x: float) -> str:
    """Six significant figures: far finer than the measurements' run-to-run spread."""
    return f"{x:.6g}"


def _s(text: str) -> str:
    return json.dumps(text, ensure_ascii=True)  # a JSON string is a valid TOML basic string


def groups(imp: Imported) -> list[tuple[tuple[str, str, int, str], list[Row]]]:
    """The rows grouped by (model, hardware, devices per replica, precision), in order."""
    out: dict[tuple[str, str, int, str], list[Row]] = {}
    for r in imp.rows:
        out.setdefault((r.model_id, r.hardware, r.devices_per_replica, r.precision), []).append(r)
    return list(out.items())


def citation_note(imp: Imported) -> str:
    """What the `[sources]` entry says about the rows: date, task, rows, conversion."""
    parts = [f"{m} on {d} x {hw} {p}: {len(rs)} rows" for (m, hw, d, p), rs in groups(imp)]
    date = f"data dated {imp.data_date}; " if imp.data_date else ""
    return (f"{date}task {imp.task}; {'; '.join(parts)}; per device = replica throughput and GPU power / num_gpus; "
            "batch = avg_batch_size; itl = median_itl_ms")


def to_toml(imp: Imported) -> str:
    """The imported rows as a workload profile: `[measured]`, `[[measured.curve]]` rows, `[sources]`."""
    name = ", ".join(m.split("/")[-1] for m in imp.models)
    lines = ["# Written by `tokencalc profiles import-mlenergy` from the ML.ENERGY Leaderboard's data files.",
             "# Per device: the leaderboard's throughput and GPU power cover all num_gpus of a replica.",
             'kind = "workload"', f"name = {_s(f'{name}: measured curves, ML.ENERGY {imp.task}')}", "",
             "[measured]", 'e_tok_boundary = "accelerator"', 'token_basis = "output"',
             f"conditions = {_s(conditions(imp))}", ""]
    for r in imp.rows:
        lines += ["[[measured.curve]]", f"hardware = {_s(r.hardware)}", f"devices_per_replica = {r.devices_per_replica}",
                  f"precision = {_s(r.precision)}", f"batch_size = {float(_g(r.batch_size))!r}",
                  f'throughput_per_device = "{_g(r.throughput_per_device)} token/s"',
                  f'device_power = "{_g(r.device_power)} W"', f'itl = "{_g(r.itl * 1000)} ms"', ""]
    cite = {**CITATION, "note": citation_note(imp)}
    lines += ["[sources]", '"measured.curve" = { ' + ", ".join(f"{k} = {_s(v)}" for k, v in cite.items()) + " }"]
    return "\n".join(lines) + "\n"


def conditions(imp: Imported) -> str:
    """The `measured.conditions` line."""
    return (f"{RELEASE}, {ENGINE}, task {imp.task} ({imp.task_display_name}); steady-state serving, "
            "GPU board energy; per device = replica figure / num_gpus, batch = avg_batch_size, itl = median ITL")
