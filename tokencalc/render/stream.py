"""Streamed sweep output: CSV, JSON Lines and JSON, formatted a chunk at a time.

Python's float formatting costs about 1 µs per number; a 1e6-point sweep has
several million. :func:`format_numbers` formats a whole column at once, and
:func:`write` streams the chunks `analysis.sweep.chunks` evaluates, so memory
stays bounded and 1e6 points take about a second.
"""

from __future__ import annotations

import math
from typing import Any, BinaryIO, Callable

import numpy as np

from ..analysis.sweep import MAX_JSON, SCHEMA, Plan, Summary, chunks, columns
from ..core import LABELS
from ..core.fields import is_binding_label
from ..errors import InputError

# Vectorized number formatting: 15 significant digits in the style of printf
# "%.15g" (positional for 1e-4 <= |x| < 1e15, exponent otherwise, trailing zeros
# dropped). The last digit can differ by one from printf's correctly rounded
# output; the value is always within 1e-14.

_P = 15
_W = 21                                      # widest cell: d.dddddddddddddde-ddd
_DOT, _ZERO, _E, _SIGN, _X = 15, 16, 17, 18, 19
_TABLES: dict[str, np.ndarray] = {}


def _tables() -> dict[str, np.ndarray]:
    if not _TABLES:
        g = np.arange(100_000)
        lut = np.empty((100_000, 5), dtype=np.uint8)
        v = g.copy()
        for k in range(4, -1, -1):
            lut[:, k] = 48 + v % 10
            v //= 10
        tz = np.zeros(100_000, dtype=np.int64)        # trailing zeros of a 5-digit group
        v, alive = g.copy(), np.ones(100_000, dtype=bool)
        for _ in range(5):
            alive &= v % 10 == 0
            tz += alive
            v //= 10
        # Layout of each class as indices into the per-value source row
        # [15 digits, '.', '0', 'e', exponent sign, 3 exponent digits]:
        # classes 0..18 are positional with exponent -4..14, class 19 is scientific.
        layout = np.full((20, _W), _ZERO, dtype=np.intp)
        for c in range(19):
            e = c - 4
            row = (list(range(e + 1)) + [_DOT] + list(range(e + 1, 15)) if e >= 0
                   else [_ZERO, _DOT] + [_ZERO] * (-e - 1) + list(range(15)))
            layout[c, :len(row)] = row
        layout[19] = [0, _DOT] + list(range(1, 15)) + [_E, _SIGN, _X, _X + 1, _X + 2]
        # Keep-masks (1 = keep): rows 0..21 keep the first L characters; rows 22 + 2L + s
        # are scientific (a mantissa of L characters, an exponent of 2 digits if s else 3).
        j = np.arange(_W)
        masks = np.zeros((22 + 44, _W), dtype=np.uint8)
        for L in range(22):
            masks[L] = j < L
            for s in (0, 1):
                m = (j < L) | (j >= 16)
                if s:
                    m[18] = False
                masks[22 + 2 * L + s] = m
        pow10 = np.array([float(f"1e{k}") for k in range(-300, 301)])
        e3 = np.array([list(f"{i:03d}".encode()) for i in range(1000)], dtype=np.uint8)
        _TABLES.update(lut=lut, tz=tz, layout=layout, masks=masks, pow10=pow10, e3=e3)
    return _TABLES


def _scaled(a: np.ndarray, e: np.ndarray) -> np.ndarray:
    """round(a · 10^(14 - e)): the 15-digit integer mantissa (as float)."""
    k = (_P - 1) - e
    if k.size and (k.min() < -300 or k.max() > 300):  # near the ends of the float range: two steps
        k1 = np.clip(k, -300, 300)
        p = _tables()["pow10"]
        return np.rint(a * np.take(p, k1 + 300) * np.take(p, np.clip(k - k1, -300, 300) + 300))
    return np.rint(a * np.take(_tables()["pow10"], k + 300))


def format_numbers(x: np.ndarray, special: tuple[bytes, bytes, bytes] = (b"nan", b"inf", b"-inf")) -> np.ndarray:
    """Format a float column as '%.15g'-style text, vectorized.

    Args:
        x: 1-D float array.
        special: the text for NaN, +inf and -inf (JSON passes b"null" for all three).

    Returns:
        Characters (n, w) uint8, NUL-padded: the non-NUL bytes of row i spell x[i].
    """
    t = _tables()
    n = x.shape[0]
    finite = np.isfinite(x)
    all_finite = bool(finite.all())
    xf = x if all_finite else np.where(finite, x, 1.0)
    a = np.abs(xf)
    zero = a == 0
    any_zero = bool(zero.any())
    if any_zero:
        a = np.where(zero, 1.0, a)
    e = np.floor(np.log10(a)).astype(np.int64)
    m = _scaled(a, e)
    off = (m >= 1e15).view(np.int8) - (m < 1e14).view(np.int8)   # log10 can be one off near powers of ten
    if off.any():
        e += off
        m = _scaled(a, e)
        hi = m >= 1e15                                  # 9.99...95 rounds up to the next decade
        if hi.any():
            e += hi
            m[hi] = 1e14
    mi = m.astype(np.int64)
    g0, g12 = np.divmod(mi, 10 ** 10)
    g1, g2 = np.divmod(g12, 10 ** 5)
    src = np.empty((n, 22), dtype=np.uint8)
    src[:, 0:5] = np.take(t["lut"], g0, axis=0)
    src[:, 5:10] = np.take(t["lut"], g1, axis=0)
    src[:, 10:15] = np.take(t["lut"], g2, axis=0)
    src[:, _DOT], src[:, _ZERO], src[:, _E] = 46, 48, 101
    ae = np.abs(e)
    sci = (e < -4) | (e >= _P)
    any_sci = bool(sci.any())
    if any_sci:
        src[:, _SIGN] = np.where(e < 0, 45, 43)
        src[:, _X:] = np.take(t["e3"], np.minimum(ae, 999), axis=0)
    tzl = t["tz"]
    nd = _P - np.where(g2 == 0, 5 + np.where(g1 == 0, 5 + np.take(tzl, g0), np.take(tzl, g1)), np.take(tzl, g2))
    if any_zero:
        e[zero] = 0
        nd[zero] = 1
        src[zero, 0] = 48
        sci &= ~zero
    length = np.where(e >= 0, np.where(nd > e + 1, nd + 1, e + 1), 1 - e + nd)
    if any_sci:
        length = np.where(sci, 22 + 2 * np.where(nd > 1, nd + 1, 1) + (ae < 100), length)
        code = np.where(sci, 19, e + 4)
    else:
        code = e + 4
    if not all_finite:
        length[~finite] = 0
    counts = np.bincount(code[finite] if not all_finite else code, minlength=20)
    present = np.nonzero(counts)[0].tolist()
    out = None
    for c in present:
        rows = length if len(present) == 1 else np.where(code == c, length, 0)
        part = np.take(src, t["layout"][c], axis=1)  # contiguous, unlike src[:, idx]
        part *= np.take(t["masks"], rows, axis=0)
        out = part if out is None else np.bitwise_or(out, part, out=out)
    if out is None:
        out = np.zeros((n, _W), dtype=np.uint8)
    if not all_finite:
        kind = np.where(np.isnan(x), 0, np.where(x > 0, 1, 2))
        texts = np.zeros((4, _W), dtype=np.uint8)
        for i, s in enumerate(special):
            texts[i, :len(s)] = np.frombuffer(s, dtype=np.uint8)
        out |= np.take(texts, np.where(finite, 3, kind), axis=0)
    neg = np.signbit(xf) & ~zero
    if neg.any():
        out = np.concatenate([(neg & finite).view(np.uint8)[:, None] * np.uint8(45), out], axis=1)
    return out


def _const(text: str, n: int) -> np.ndarray:
    b = np.frombuffer(text.encode(), dtype=np.uint8)
    return np.broadcast_to(b, (n, b.size))


def _labels(codes: np.ndarray, texts: tuple[str, ...]) -> np.ndarray:
    w = max(len(s) for s in texts)
    chars = np.zeros((len(texts), w), dtype=np.uint8)
    for i, s in enumerate(texts):
        chars[i, :len(s)] = np.frombuffer(s.encode(), dtype=np.uint8)
    return np.take(chars, codes, axis=0)


def _join(blocks: list[np.ndarray]) -> bytes:
    chars = np.concatenate(blocks, axis=1)
    return chars[chars != 0].tobytes()


def _scalar_text(v: Any, json: bool) -> str:
    if v is None:
        return "null" if json else ""
    if isinstance(v, str):
        return f'"{v}"' if json else v
    f = float(v)
    if not math.isfinite(f):
        return "null" if json else repr(f)
    return "%.15g" % f


# ---------------------------------------------------------------------------
# Writers


class Format:
    """Names of the streamed formats."""

    CSV = "csv"
    JSONL = "jsonl"
    JSON = "json"


def rows_bytes(names: list[str], cols: dict[str, Any], n: int, fmt: str, *, prefix: str = "", end: str = "\n") -> bytes:
    """Format n evaluated points as CSV rows or JSON objects (one per line), vectorized.

    Args:
        names: output columns in order.
        cols: evaluated columns (arrays, scalars, None; binding columns as codes).
        n: number of points in the chunk.
        fmt: "csv", or "jsonl"/"json" (JSON objects; `prefix` goes before each).
        prefix: text written before each row (JSON array indentation).
        end: text after each row.
    """
    json = fmt != Format.CSV
    special = (b"null", b"null", b"null") if json else (b"nan", b"inf", b"-inf")
    blocks: list[np.ndarray] = []
    pending = prefix + ("{" if json else "")
    for i, name in enumerate(names):
        if json:
            pending += ("" if i == 0 else ", ") + f'"{name}": '
        elif i:
            pending += ","
        v = cols[name]
        is_label = is_binding_label(name)
        if v is None or np.ndim(v) == 0:
            if is_label and v is not None:
                v = LABELS[int(v)]
            pending += _scalar_text(v, json)
            continue
        if pending:
            blocks.append(_const(pending, n))
            pending = ""
        if is_label:
            blocks.append(_labels(v, tuple(f'"{s}"' for s in LABELS) if json else LABELS))
        else:
            blocks.append(format_numbers(np.asarray(v, dtype=float), special))
    pending += ("}" if json else "") + end
    blocks.append(_const(pending, n))
    return _join(blocks)


def write(stream: BinaryIO, plan: Plan, fmt: str, *, chunk: int | None = None,
          progress: Callable[[int], None] | None = None, scenario: str | None = None) -> Summary:
    """Evaluate the grid chunk by chunk and stream it to `stream`.

    Args:
        stream: a binary stream (stdout's buffer or a file opened "wb").
        plan: the sweep.
        fmt: "csv" (header + rows), "jsonl" (one object per line) or "json" (one
            document: schema, vary, columns, rows, summary).
        chunk: points per chunk (memory is O(chunk)).
        progress: called with the number of points done after each chunk.
        scenario: scenario id, for the JSON document.

    Returns:
        The summary of the grid.
    """
    import json as _json

    names = columns(plan)
    summary = Summary(plan)
    if fmt == Format.JSON and plan.size > MAX_JSON:
        raise InputError(f"{plan.size:,} points is too many for one JSON document (limit {MAX_JSON:,}); "
                         "use --format jsonl (one object per line, streamed) or csv")
    if fmt == Format.CSV:
        stream.write((",".join(names) + "\n").encode())
    elif fmt == Format.JSON:
        head = {"schema": SCHEMA, "scenario": scenario, "points": plan.size,
                "vary": [{"key": a.key, "column": a.column, "unit": a.unit, "spacing": a.kind, "spec": a.text,
                          "n": len(a)} for a in plan.axes],
                "columns": names}
        text = _json.dumps(head, indent=2, ensure_ascii=False)
        stream.write((text[:-2] + ',\n  "rows": [\n').encode())
    done = 0
    for start, stop, cols in (chunks(plan) if chunk is None else chunks(plan, chunk)):
        summary.update(start, stop, cols)
        if fmt == Format.JSON:
            body = rows_bytes(names, cols, stop - start, fmt, prefix="    ", end=",\n")
            if stop == plan.size:
                body = body[:-2] + b"\n"
        else:
            body = rows_bytes(names, cols, stop - start, fmt)
        stream.write(body)
        done = stop
        if progress is not None:
            progress(done)
    if fmt == Format.JSON:
        tail = _json.dumps(summary.to_json(), indent=2, ensure_ascii=False).replace("\n", "\n  ")
        stream.write(f'  ],\n  "summary": {tail}\n}}\n'.encode())
    return summary
