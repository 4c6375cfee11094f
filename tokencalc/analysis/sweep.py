"""Sweeps: the Token Production Function over a grid of core inputs.

`--vary KEY=SPEC` gives the values of one core input (linear, geometric or a
list, with units); several make the full grid, first key slowest. The grid is
evaluated in chunks with numpy arrays placed in `Inputs` and run through the
one engine (`core.evaluate`, no Python loop per point), so memory stays
bounded; `render.stream` formats each chunk. Lever gating is per scenario,
done once, and the binding codes are the core classifier's.

Pure: returns arrays and a summary object; numpy is imported only here, never
on the path of a plain `estimate`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np

from ..core import Inputs, LeverStatus, binding_code, evaluate, gate, with_values
from ..core.classify import COMPUTE
from ..core import fields as F
from ..errors import InputError
from ..resolve import schema as S
from ..resolve.fields import core_unit, partners
from ..resolve.profiles import suggest
from ..resolve.scenario import Request, resolve_with

SCHEMA = "tokencalc.sweep/1"
CHUNK = 1 << 16            # points per chunk: the working set stays in cache-sized arrays
MAX_TABLE = 500            # a terminal table beyond this is unreadable
MAX_JSON = 1_000_000       # one JSON document beyond this is impractical to load; JSON Lines streams
MAX_POINTS = 10 ** 10
MAX_AXIS = 10 ** 7          # values of one --vary: 80 MB as floats

# Core keys that take a number and feed the model directly (input_output_ratio only
# converts a profile's measurements while resolving, so a sweep could not move it).
SWEEPABLE = tuple(k for k, f in S.CORE.items() if f.type in ("quantity", "int") and k != "input_output_ratio")

# Unit suffix of a column name, as in the estimate JSON keys (`p_it_w`, `e_tok_j_per_token`).
UNIT_SLUG = {"1": "", "W": "w", "J": "j", "s": "s", "FLOP/s": "flop_per_s", "FLOP/token": "flop_per_token",
             "J/token": "j_per_token", "token/s": "tokens_per_s", "USD/J": "usd_per_j",
             "kgCO2e/J": "kg_co2e_per_j"}


# Result columns (estimate JSON keys, from the output-field registry); binding columns hold classifier codes.
RESULT_COLUMNS = ("compute_ceiling_tokens_per_s", "power_ceiling_tokens_per_s", "token_rate_tokens_per_s",
                  "binding", "binding_peak", "gamma_j_per_flop", "gamma_star_j_per_flop", "tokens_total",
                  "energy_facility_j")
unit_of = core_unit


def column_for(key: str) -> str:
    """Column name of a varied key, with its SI unit: `p_it` -> `p_it_w`."""
    slug = UNIT_SLUG.get(unit_of(key), "")
    return f"{key}_{slug}" if slug else key


# ---------------------------------------------------------------------------
# --vary KEY=SPEC


@dataclass(frozen=True)
class Axis:
    """One varied key: its values in SI (ascending for ranges, as given for lists)."""

    key: str
    text: str            # the spec as the user wrote it
    kind: str            # "linear" | "log" | "list"
    values: np.ndarray
    unit: str
    column: str

    def __len__(self) -> int:
        return int(self.values.shape[0])


def check_key(key: str, allowed: tuple[str, ...], what: str) -> str:
    """Normalize `p-it` to `p_it` and check it is one of `allowed` (with did-you-mean)."""
    k = key.strip().lower().replace("-", "_")
    if k in allowed:
        return k
    if k in S.CORE:
        reason = ("it is not a number" if S.CORE[k].type == "str"
                  else "it only converts a profile's measurements while the scenario is resolved")
        raise InputError(f"{what} {key!r}: cannot be varied ({reason}); choose one of {', '.join(allowed)}")
    raise InputError(f"{what} {key!r}: not a core input" + suggest(k, allowed)
                     + f" (choose one of {', '.join(allowed)})")


def _value(text: str, key: str, where: str) -> float:
    spec = S.CORE[key]
    t = text.strip()
    if not t:
        raise InputError(f"{where}: empty value")
    from ..units import parse  # the fast path reads plain numbers and common units without pint

    return parse(t, spec.dim, key=where)


def _count(text: str, where: str) -> int:
    try:
        n = int(text.strip())
    except ValueError:
        raise InputError(f"{where}: the number of points must be a whole number, got {text.strip()!r}") from None
    if n < 1:
        raise InputError(f"{where}: the number of points must be >= 1, got {n}")
    if n > MAX_AXIS:  # before any array is allocated
        raise InputError(f"{where}: {n:,} points on one axis; at most {MAX_AXIS:,} (a grid of several axes "
                         f"may have up to {MAX_POINTS:.0e} points)")
    return n


def parse_vary(text: str) -> Axis:
    """Parse one `--vary` value.

    Args:
        text: `KEY=START:STOP:N` (N points, linear, both ends included),
            `KEY=log:START:STOP:N` (geometric), `KEY=a,b,c` (a list, kept in the given
            order) or `KEY=VALUE`. Values carry units (`p_it=100 kW:10 MW:50`);
            plain numbers only for dimensionless keys.

    Returns:
        The axis, values in SI units of the key's dimension.

    Raises:
        InputError: unknown key, bad numbers or units, empty or reversed range, N < 1,
            a value outside the key's admissible range.
    """
    if "=" not in text:
        raise InputError(f"--vary {text!r}: expected KEY=START:STOP:N, KEY=log:START:STOP:N or KEY=a,b,c")
    raw_key, spec_text = text.split("=", 1)
    key = check_key(raw_key, SWEEPABLE, "--vary")
    where = f"--vary {key}"
    spec_text = spec_text.strip()
    parts = [p.strip() for p in spec_text.split(":")]
    kind = "list"
    if parts[0].lower() in ("log", "lin", "linear", "geom"):
        kind = "log" if parts[0].lower() in ("log", "geom") else "linear"
        parts = parts[1:]
        if len(parts) != 3:
            raise InputError(f"{where}={spec_text}: expected {parts and 'log:' or ''}START:STOP:N")
    elif len(parts) == 3:
        kind = "linear"
    elif len(parts) != 1:
        raise InputError(f"{where}={spec_text}: expected START:STOP:N, log:START:STOP:N or a,b,c")
    if kind == "list":
        items = [p for p in spec_text.split(",")]
        if any(not p.strip() for p in items):
            raise InputError(f"{where}={spec_text}: empty item in the list")
        values = np.array([_value(p, key, where) for p in items], dtype=float)
    else:
        start, stop = _value(parts[0], key, where), _value(parts[1], key, where)
        n = _count(parts[2], where)
        if n == 1:
            raise InputError(f"{where}={spec_text}: a range needs N >= 2 points; for one value write {key}=VALUE")
        if start == stop:
            raise InputError(f"{where}={spec_text}: empty range (START = STOP)")
        if start > stop:
            raise InputError(f"{where}={spec_text}: reversed range (START > STOP); ranges run upward — "
                             f"write {key}={parts[1]}:{parts[0]}:{n}, or list the values in the order you want")
        if kind == "log":
            if start <= 0:
                raise InputError(f"{where}={spec_text}: a geometric range needs START > 0")
            values = np.geomspace(start, stop, n)
        else:
            values = np.linspace(start, stop, n)
    field = S.CORE[key]
    if field.type == "int":
        values = np.rint(values)
    check_bounds(key, values, f"{where}={spec_text}")
    return Axis(key, spec_text, kind, values, unit_of(key), column_for(key))


def check_bounds(key: str, values: np.ndarray, where: str) -> None:
    f = S.CORE[key]
    unit = unit_of(key)
    u = "" if unit == "1" else f" {unit}"
    lo, hi = float(values.min()), float(values.max())
    if f.min is not None and (lo <= f.min if f.min_open else lo < f.min):
        raise InputError(f"{where}: {key} must be {'>' if f.min_open else '>='} {f.min:g}{u}, the range reaches {lo:g}{u}")
    if f.max is not None and (hi >= f.max if f.max_open else hi > f.max):
        raise InputError(f"{where}: {key} must be {'<' if f.max_open else '<='} {f.max:g}{u}, the range reaches {hi:g}{u}")


def conflicts(keys: list[str], flags: dict[str, str]) -> None:
    """Refuse two answers to the same question: a key varied twice, or varied and flagged."""
    group = partners
    seen: dict[str, str] = {}
    for k in keys:
        for other in group(k):
            if other in seen:
                what = "twice" if other == k else f"together with {other} (they answer the same question)"
                raise InputError(f"--vary {k}: varied {what}")
        seen[k] = k
        for other in group(k):
            if other in flags:
                raise InputError(f"--vary {k} conflicts with --{other.replace('_', '-')} "
                                 f"({'the same key' if other == k else 'they answer the same question'}); give only one")


# ---------------------------------------------------------------------------
# Grid evaluation


@dataclass
class Plan:
    """A sweep ready to evaluate: resolved inputs, axes, and the lever gate (decided once)."""

    inputs: Inputs
    axes: list[Axis]
    statuses: list[LeverStatus]

    @property
    def shape(self) -> tuple[int, ...]:
        """Grid shape, first axis slowest."""
        return tuple(len(a) for a in self.axes)

    @property
    def size(self) -> int:
        """Number of grid points."""
        return math.prod(self.shape)


def make_plan(inputs: Inputs, axes: list[Axis]) -> Plan:
    """Gate the levers once and check the grid size.

    Args:
        inputs: the resolved scenario (resolved with each varied key set as a flag, so
            exclusive inputs and boundaries follow the flag rules).
        axes: the varied keys.
    """
    if not axes:
        raise InputError("sweep needs at least one --vary KEY=SPEC")
    keys = {a.key for a in axes}
    # Cost and emissions are columns only when their price/intensity varies; otherwise
    # leave them out of the engine's work.
    drop = {k: None for k in ("electricity_price", "carbon_intensity") if k not in keys}
    plan = Plan(with_values(inputs, **drop), list(axes), gate(inputs))
    if plan.size > MAX_POINTS:
        raise InputError(f"the grid has {plan.size:.3g} points; the limit is {MAX_POINTS:.0e}")
    return plan


def grid_values(plan: Plan, start: int, stop: int) -> tuple[dict[str, Any], tuple[int, ...]]:
    """The varied keys' values at flat grid indices [start, stop), first key slowest.

    Returns:
        (values, shape): values broadcast to `shape` (whose product is stop - start).
        A chunk inside one line of the last axis gives the other keys as scalars; a
        chunk of whole lines gives them as (lines, 1) columns against the last axis as
        a (1, n) row, so the engine computes what depends on one axis only once per line.
    """
    last = plan.axes[-1]
    m = len(last)
    outer = plan.axes[:-1]

    def outer_at(lines: Any) -> dict[str, Any]:
        out = {}
        stride = plan.size // m
        for a in outer:
            stride //= len(a)
            out[a.key] = np.take(a.values, (lines // stride) % len(a))
        return out

    if start // m == (stop - 1) // m:                   # inside one line
        vals = {k: float(v) for k, v in outer_at(np.int64(start // m)).items()}
        vals[last.key] = last.values[start % m: start % m + (stop - start)]
        return vals, (stop - start,)
    if start % m == 0 and stop % m == 0:                # whole lines
        lines = np.arange(start // m, stop // m, dtype=np.int64)
        vals = {k: v[:, None] for k, v in outer_at(lines).items()}
        vals[last.key] = last.values[None, :]
        return vals, (len(lines), m)
    idx = np.arange(start, stop, dtype=np.int64)        # anything else: flat indices
    vals = outer_at(idx // m)
    vals[last.key] = np.take(last.values, idx % m)
    return vals, (stop - start,)


def evaluate_range(plan: Plan, start: int, stop: int) -> dict[str, Any]:
    """Evaluate grid points [start, stop).

    Returns:
        Column name -> 1-D numpy array (one value per point), a scalar (the same at
        every point), or None (not known from the inputs); binding columns hold codes
        into `core.LABELS`. The varied keys are included under their column names.
    """
    vals, shape = grid_values(plan, start, stop)
    r = evaluate(with_values(plan.inputs, **vals), plan.statuses)
    n = stop - start

    def flat(v: Any) -> Any:
        if v is None or np.ndim(v) == 0:
            return v
        if v.shape != shape:
            v = np.broadcast_to(v, shape)
        return v.reshape(n)

    out: dict[str, Any] = {a.column: np.broadcast_to(vals[a.key], shape).reshape(n) for a in plan.axes}
    for name in result_columns(plan):
        out[name] = flat(r[F.field(name).engine])
    return out


def chunk_bounds(plan: Plan, size: int = CHUNK) -> Iterator[tuple[int, int]]:
    """Chunk boundaries: whole lines of the last axis when they fit, else pieces of one line."""
    m = len(plan.axes[-1])
    if m >= size:
        for line in range(plan.size // m):
            base = line * m
            for s in range(0, m, size):
                yield base + s, base + min(s + size, m)
    else:
        step = (size // m) * m
        for s in range(0, plan.size, step):
            yield s, min(s + step, plan.size)


def chunks(plan: Plan, size: int = CHUNK) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """Evaluate the grid chunk by chunk: yields (start, stop, columns)."""
    for start, stop in chunk_bounds(plan, size):
        yield start, stop, evaluate_range(plan, start, stop)


def result_columns(plan: Plan) -> list[str]:
    """The result columns (estimate JSON keys); cost and emissions when their input varies."""
    keys = {a.key for a in plan.axes}
    extra = ["cost_usd"] if "electricity_price" in keys else []
    extra += ["emissions_kg_co2e"] if "carbon_intensity" in keys else []
    return list(RESULT_COLUMNS) + extra


def columns(plan: Plan) -> list[str]:
    """Output column names, varied keys first."""
    return [a.column for a in plan.axes] + result_columns(plan)


# ---------------------------------------------------------------------------
# Summary: share power-bound and where the boundary runs


class Summary:
    """Accumulates, chunk by chunk, how much of the grid each constraint binds and where it flips.

    Crossings are located along the last varied key (between neighbouring points of
    one line of the grid) by interpolating log(Q̇_K / Q̇_P) to zero, in log space for
    geometric axes. They are kept for 1-D and 2-D sweeps.
    """

    MAX_CROSSINGS = 10_000

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.counts = [0, 0, 0]
        self.unknown = 0
        self.first_power = np.zeros(len(plan.axes[0]), dtype=np.int64) if len(plan.axes) > 1 else None
        self.crossings: list[dict[str, Any]] = []
        self._prev: tuple[float, float] | None = None  # both ceilings at the last point seen

    def update(self, start: int, stop: int, cols: dict[str, Any]) -> None:
        """Add one evaluated chunk."""
        n = stop - start
        code = cols["binding"]
        if code is None:
            self.unknown += n
            return
        if np.ndim(code) == 0:
            self.counts[int(code)] += n
            power = np.full(n, int(code) == 1)
        else:
            self.counts = [c + int(x) for c, x in zip(self.counts, np.bincount(code, minlength=3))]
            power = code == 1
        if self.first_power is not None:
            stride = self.plan.size // len(self.plan.axes[0])
            first = np.arange(start, stop) // stride
            self.first_power += np.bincount(first, weights=power, minlength=len(self.first_power)).astype(np.int64)
        if len(self.plan.axes) <= 2:
            self._crossings(start, stop, cols)

    def _crossings(self, start: int, stop: int, cols: dict[str, Any]) -> None:
        n = stop - start
        qk = np.broadcast_to(np.asarray(cols["compute_ceiling_tokens_per_s"], dtype=float), (n,))
        qp = np.broadcast_to(np.asarray(cols["power_ceiling_tokens_per_s"], dtype=float), (n,))
        base = start
        if self._prev is not None:  # the pair that straddles the chunk boundary
            qk = np.concatenate([[self._prev[0]], qk])
            qp = np.concatenate([[self._prev[1]], qp])
            base -= 1
        self._prev = (float(qk[-1]), float(qp[-1]))
        # The crossover itself (γ = γ*): the classifier without a band; a point exactly on it counts as the far side.
        sign = np.where(binding_code(qk, qp, 0.0) == COMPUTE, -1, 1)
        flips = np.nonzero(sign[:-1] != sign[1:])[0]
        if not flips.size:
            return
        last = self.plan.axes[-1]
        m = len(last)
        flat = base + flips
        flips = flips[(flat + 1) % m != 0]     # neighbours on different lines of the grid do not count
        flips = flips[: max(self.MAX_CROSSINGS - len(self.crossings), 0)]
        if not flips.size:
            return
        flat = base + flips
        lr0 = np.log(qk[flips] / qp[flips])
        lr1 = np.log(qk[flips + 1] / qp[flips + 1])
        j = flat % m
        x0, x1 = last.values[j], last.values[j + 1]
        t = np.where(lr0 != lr1, lr0 / np.where(lr0 != lr1, lr0 - lr1, 1.0), 0.0)
        if last.kind == "log":
            x = np.exp(np.log(x0) + t * (np.log(x1) - np.log(x0)))
        else:
            x = x0 + t * (x1 - x0)
        first = self.plan.axes[0]
        for f, xi, s0, s1 in zip(flat.tolist(), x.tolist(), sign[flips].tolist(), sign[flips + 1].tolist()):
            c: dict[str, Any] = {}
            if len(self.plan.axes) == 2:
                c[first.column] = float(first.values[f // m])
            c[last.column] = xi
            c["from"] = "compute" if s0 < 0 else "power"
            c["to"] = "compute" if s1 < 0 else "power"
            self.crossings.append(c)

    def to_json(self) -> dict[str, Any]:
        """The summary as plain data (SI units)."""
        total = self.plan.size
        known = total - self.unknown
        out: dict[str, Any] = {
            "points": total,
            "compute_bound": self.counts[0],
            "power_bound": self.counts[1],
            "balanced": self.counts[2],
            "unknown": self.unknown,
            "share_power_bound": (self.counts[1] / known) if known else None,
            "crossings": self.crossings if len(self.plan.axes) <= 2 else None,
        }
        if self.first_power is not None:
            first = self.plan.axes[0]
            per = self.plan.size // len(first)
            out["by_first_key"] = [{first.column: float(v), "share_power_bound": int(p) / per}
                                   for v, p in zip(first.values.tolist(), self.first_power.tolist())]
        return out


def evaluate_all(plan: Plan) -> tuple[dict[str, np.ndarray], Summary]:
    """Evaluate a small grid at once (for the table): columns broadcast to full length."""
    summary = Summary(plan)
    n = plan.size
    cols = evaluate_range(plan, 0, n)
    summary.update(0, n, cols)
    out = {}
    for name in columns(plan):
        v = cols[name]
        out[name] = None if v is None else np.broadcast_to(np.asarray(v), (n,))
    return out, summary


def plan_request(request: Request, vary: Sequence[str]) -> Plan:
    """The sweep a request and its `--vary` texts describe.

    The scenario is resolved as if each varied key were given as a flag (at its first
    value), so inputs that answer the same question and boundaries follow the flag rules.

    Raises:
        InputError: no axis, a key varied twice or varied and flagged, or any bad spec.
    """
    axes = [parse_vary(v) for v in vary]
    if not axes:
        raise InputError("sweep needs at least one --vary KEY=SPEC, e.g. --vary pue=1.1:1.6:6 "
                         f"(keys: {', '.join(SWEEPABLE)})")
    conflicts([a.key for a in axes], request.flags)
    resolved = resolve_with(request, {a.key: float(a.values[0]) for a in axes})
    return make_plan(resolved.inputs, axes)
