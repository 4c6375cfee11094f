"""The workload-profile TOML fragment: a calibration result as a ``[measured]`` table with provenance.

Text only; the command writes it (atomically, never over a file without --force).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from ..errors import InputError


def _toml_str(s: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes.
    return json.dumps(s, ensure_ascii=True)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else _toml_str(str(v))
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items() if x is not None) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _toml_str(k)


def _g(x: float) -> str:
    return f"{x:.6g}"


def _measured(result: dict[str, Any]) -> list[str]:
    """The ``[measured]`` table."""
    lines = [
        "[measured]",
        f'e_tok = "{_g(result["e_tok_j_per_token"])} J/token"',
        'e_tok_boundary = "accelerator"',
        f"token_basis = {_toml_str(result['token_basis'])}",
    ]
    # An energy report without a duration or device count (TGI responses) has neither figure.
    if result.get("throughput_per_device_tokens_per_s") is not None:
        lines.append(f'throughput_per_device = "{_g(result["throughput_per_device_tokens_per_s"])} token/s"')
    if result.get("mean_power_per_device_w") is not None:
        lines.append(f'device_power = "{_g(result["mean_power_per_device_w"])} W"')
    u = result.get("utilization")
    if u is not None and u > 0:
        lines.append(f"utilization = {_g(u)}")
    if result.get("hardware"):
        lines.append(f"hardware = {_toml_str(result['hardware'])}")
    lines.append(f"conditions = {_toml_str(_conditions(result))}")
    return lines + [""]


def _provenance(result: dict[str, Any], command: str) -> list[str]:
    """The ``[measured.provenance]`` table: tool, command, window, energy, input hashes."""
    prov = {
        "tool": f"tokencalc {result.get('tool_version', '')}".strip(),
        "command": command,
        "window_start": result["window"]["start"],
        "window_end": result["window"]["end"],
        "window_source": result["window"]["source"],
        "duration_s": result["duration_s"],
        "energy_j": result["energy_j"],
        "energy_method": result["energy_method"],
        "devices": result["devices"],
        "tokens": result["tokens"],
    }
    if result.get("energy_idle_j") is not None:
        prov["energy_idle_j"] = result["energy_idle_j"]
        if result.get("e_tok_net_j_per_token") is not None:
            prov["e_tok_net_j_per_token"] = result["e_tok_net_j_per_token"]
    lines = ["[measured.provenance]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in prov.items() if v is not None]
    lines.append("inputs = [")
    lines += [f"  {_toml_value({k: i.get(k) for k in ('path', 'format', 'sha256')})}," for i in result["inputs"]]
    return lines + ["]", f"warning_count = {result['warning_count']}", ""]


def profile_fragment(result: dict[str, Any], *, name: str, command: str) -> str:
    """A workload profile (TOML text) carrying the result as its ``[measured]`` table.

    It holds ``e_tok`` with its boundary and token basis, throughput and mean power per
    device, ``utilization`` when SM activity was logged, ``[model] c_tok`` when known,
    and ``[measured.provenance]``: input hashes, the window, the tool version.

    Args:
        result: a calibration result (see :func:`~tokencalc.calibration.estimators.calibrate`).
        name: the profile's name.
        command: the command line that produced it, for provenance.

    Raises:
        InputError: the result has no per-token figures (no tokens given).
    """
    if result.get("e_tok_j_per_token") is None:
        raise InputError("--write-profile needs a token count (--tokens or --bench) to write e_tok")
    files = ", ".join(Path(i["path"]).name for i in result["inputs"])
    lines = [
        "# Written by tokencalc calibrate; a workload profile with measured inputs.",
        'kind = "workload"',
        f"name = {_toml_str(name)}",
        f"description = {_toml_str('Measured e_tok and throughput from ' + files)}",
        "",
    ]
    if result.get("c_tok_flop_per_token") is not None:
        lines += ["[model]", f'c_tok = "{_g(result["c_tok_flop_per_token"])} FLOP/token"', ""]
    if result.get("precision"):
        lines += ["[operating_point]", f"precision = {_toml_str(result['precision'])}",
                  f"token_basis = {_toml_str(result['token_basis'])}", ""]
    lines += _measured(result) + _provenance(result, command)
    lines += ["[sources]", f"measured = {_toml_str(f'{command} on {files}')}"]
    if result.get("c_tok_source"):
        lines.append(f"\"model.c_tok\" = {_toml_str(result['c_tok_source'])}")
    return "\n".join(lines) + "\n"


def _conditions(result: dict[str, Any]) -> str:
    devices = f"{result['devices']} device(s)" if result["devices"] is not None else "devices not reported"
    dur = f"{result['duration_s']:.6g} s" if result["duration_s"] is not None else "unreported"
    parts = [devices, f"{dur} window ({result['window']['source']})",
             f"energy by {result['energy_method']}", "board power (accelerator boundary)"]
    if result.get("precision"):
        parts.append(f"precision {result['precision']}")
    if result["warning_count"]:
        parts.append(f"{result['warning_count']} warning(s)")
    return ", ".join(parts)
