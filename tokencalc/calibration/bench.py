"""Token counts: a vLLM benchmark result JSON, or a count given by hand."""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from .clock import Clock
from .samples import location, read_text

TOKEN_BASES = ("output", "total")
# vLLM writes `date` as %Y%m%d-%H%M%S; older and other writers use the other two.
_DATE_FORMATS = ("%Y%m%d-%H%M%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True)
class Bench:
    """Token counts and timing from a benchmark result file."""

    path: str
    sha256: str
    output_tokens: int
    input_tokens: int | None
    completed: int | None
    duration_s: float
    end: float | None  # from `date` (written when the result was saved), naive wall time
    model_id: str | None

    def tokens(self, basis: str) -> int:
        """Tokens on `basis` ("output" or "total").

        Raises:
            InputError: "total" and the file has no input token count.
        """
        if basis == "output":
            return self.output_tokens
        if self.input_tokens is None:
            raise InputError(f"total_input_tokens in {self.path}: needed for --token-basis total, not found")
        return self.input_tokens + self.output_tokens


def _count(data: dict[str, Any], key: str, path: str, required: bool) -> int | None:
    if key not in data or data[key] is None:
        if required:
            raise InputError(f"{key} in {path}: missing; expected a vLLM benchmark result "
                             "(keys completed, total_input_tokens, total_output_tokens, duration)")
        return None
    v = data[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or not float(v).is_integer():
        raise InputError(f"{key} in {path}: expected a whole number >= 0, got {v!r}")
    return int(v)


def _end(date: Any, path: str, clock: Clock) -> float | None:
    """The end of the run from `date` (zone-less wall time), None when the file has none."""
    if date is None:
        return None
    for fmt in _DATE_FORMATS:
        try:
            when = _dt.datetime.strptime(str(date), fmt)
        except ValueError:
            continue
        return clock.seconds(when)
    raise InputError(f"date in {path}: expected vLLM's '%Y%m%d-%H%M%S' (e.g. 20240501-120130), got {date!r}")


def read_bench(path: str | os.PathLike, clock: Clock) -> Bench:
    """Read a vLLM ``benchmark_serving.py`` (``vllm bench serve``) result JSON.

    Uses ``total_output_tokens``, ``total_input_tokens``, ``completed``, ``duration``
    (s) and ``date`` (``%Y%m%d-%H%M%S``, local time, written when the result was
    saved, i.e. just after the run; older/other writers use ``%Y-%m-%d %H:%M:%S``).

    Raises:
        InputError: not JSON (or nested too deeply), not one object, a missing or invalid key.
    """
    path = str(path)
    text, digest = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        extra = ""
        if exc.msg == "Extra data":
            extra = " (several results appended, one per line? keep the one for this run)"
        raise InputError(f"{location(path, exc.lineno)}not valid JSON: {exc.msg}{extra}") from None
    except RecursionError:  # arrays or objects nested thousands deep
        raise InputError(f"{path}: not a benchmark result: JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object (a benchmark result), got a {type(data).__name__}")
    out = _count(data, "total_output_tokens", path, True)
    duration = data.get("duration")
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not duration > 0 \
            or not math.isfinite(duration):
        raise InputError(f"duration in {path}: expected the benchmark duration in seconds (> 0), got {duration!r}")
    end = _end(data.get("date"), path, clock)
    model = data.get("model_id")
    return Bench(path, digest, out, _count(data, "total_input_tokens", path, False),
                 _count(data, "completed", path, False), float(duration), end,
                 model if isinstance(model, str) else None)


def token_count(tokens: str | int | None, bench: Bench | None, basis: str) -> int | None:
    """`--tokens N` or the bench file's count on `basis` (not both; None when neither).

    Raises:
        InputError: both given, an unknown basis, or a count that is not a whole number >= 0.
    """
    if basis not in TOKEN_BASES:
        raise InputError(f"--token-basis: expected output or total, got {basis!r}")
    if tokens is not None and bench is not None:
        raise InputError("give either --tokens or --bench, not both")
    if bench is not None:
        return bench.tokens(basis)
    if tokens is None:
        return None
    text = str(tokens)
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise InputError(f"--tokens: expected a whole number of tokens, got {text!r}") from None
    if not value >= 0 or not value.is_integer():
        raise InputError(f"--tokens: expected a whole number of tokens >= 0, got {text!r}")
    return int(value)
