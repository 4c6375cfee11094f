"""Sweeps: the Token Production Function over a grid of core inputs.

`--vary KEY=SPEC` gives the values of one core input (linear, geometric or a
list, with units); several make the full grid, first key slowest. The grid is
evaluated in chunks with numpy arrays placed in `model.Inputs` and run through
`model.core` (no Python loop per point), and each chunk is formatted to CSV or
JSON (Lines) bytes with vectorized number formatting, so memory stays bounded
and 1e6 points take about a second. Lever gating is per scenario, done once.

Pure apart from writing to the binary stream it is given; numpy is imported
only here, never on the path of a plain `estimate`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, Iterator

import numpy as np

from ..resolve import schema as S
from ..errors import InputError
from ..core.model import Inputs, classify, core, gate_levers, with_values

SCHEMA = "tokencalc.sweep/1"
CHUNK = 1 << 16            # points per chunk: the working set stays in cache-sized arrays
MAX_TABLE = 500            # a terminal table beyond this is unreadable
MAX_JSON = 1_000_000       # one JSON document beyond this is impractical to load; JSON Lines streams
MAX_POINTS = 10 ** 10

# Core keys that take a number and feed the model directly (input_output_ratio only
# converts a profile's measurements while resolving, so a sweep could not move it).
SWEEPABLE = tuple(k for k, f in S.CORE.items() if f.type in ("quantity", "int") and k != "input_output_ratio")

# Unit suffix of a column name, as in the estimate JSON keys (`p_it_w`, `e_tok_j_per_token`).
UNIT_SLUG = {"1": "", "W": "w", "J": "j", "s": "s", "FLOP/s": "flop_per_s", "FLOP/token": "flop_per_token",
             "J/token": "j_per_token", "token/s": "tokens_per_s", "USD/J": "usd_per_j",
             "kgCO2e/J": "kg_co2e_per_j"}

LABELS = ("compute", "power", "balanced")

# Result columns: (output name, key of model.core's result or a binding column).
RESULT_COLUMNS = (
    ("compute_ceiling_tokens_per_s", "compute_ceiling"),
    ("power_ceiling_tokens_per_s", "power_ceiling"),
    ("token_rate_tokens_per_s", "token_rate"),
    ("binding", "binding"),
    ("binding_peak", "binding_peak"),
    ("gamma_j_per_flop", "gamma"),
    ("gamma_star_j_per_flop", "gamma_star"),
    ("tokens_total", "tokens_total"),
    ("energy_facility_j", "energy_facility"),
)


def unit_of(key: str) -> str:
    """SI unit of a core key ("1" for plain numbers)."""
    from ..units import DIMENSIONS

    return DIMENSIONS[S.CORE[key].dim][1]


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
    from ..resolve.profiles import _suggest

    k = key.strip().lower().replace("-", "_")
    if k in allowed:
        return k
    if k in S.CORE:
        reason = ("it is not a number" if S.CORE[k].type == "str"
                  else "it only converts a profile's measurements while the scenario is resolved")
        raise InputError(f"{what} {key!r}: cannot be varied ({reason}); choose one of {', '.join(allowed)}")
    raise InputError(f"{what} {key!r}: not a core input" + _suggest(k, allowed)
                     + f" (choose one of {', '.join(allowed)})")


def _value(text: str, key: str, where: str) -> float:
    spec = S.CORE[key]
    t = text.strip()
    if not t:
        raise InputError(f"{where}: empty value")
    if spec.dim == "dimensionless":
        try:  # plain numbers need no unit registry
            return float(t)
        except ValueError:
            pass
    from ..units import parse

    return parse(t, spec.dim, key=where)


def _count(text: str, where: str) -> int:
    try:
        n = int(text.strip())
    except ValueError:
        raise InputError(f"{where}: the number of points must be a whole number, got {text.strip()!r}") from None
    if n < 1:
        raise InputError(f"{where}: the number of points must be >= 1, got {n}")
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
    _check_bounds(key, values, f"{where}={spec_text}")
    return Axis(key, spec_text, kind, values, unit_of(key), column_for(key))


def _check_bounds(key: str, values: np.ndarray, where: str) -> None:
    f = S.CORE[key]
    unit = unit_of(key)
    u = "" if unit == "1" else f" {unit}"
    lo, hi = float(values.min()), float(values.max())
    if f.min is not None and (lo <= f.min if f.min_open else lo < f.min):
        raise InputError(f"{where}: {key} must be {'>' if f.min_open else '>='} {f.min:g}{u}, the range reaches {lo:g}{u}")
    if f.max is not None and (hi >= f.max if f.max_open else hi > f.max):
        raise InputError(f"{where}: {key} must be {'<' if f.max_open else '<='} {f.max:g}{u}, the range reaches {hi:g}{u}")


def flag_text(key: str, value: float) -> str:
    """A flag value for `value` (SI), so a scenario resolves as if `--KEY value` were given."""
    if S.CORE[key].type == "int":
        return str(int(round(value)))
    unit = unit_of(key)
    return repr(float(value)) if unit == "1" else f"{float(value)!r} {unit}"


def conflicts(keys: list[str], flags: dict[str, str]) -> None:
    """Refuse two answers to the same question: a key varied twice, or varied and flagged."""
    from ..resolve.scenario import EXCLUSIVE

    def group(k: str) -> tuple[str, ...]:
        return next((g for g in EXCLUSIVE if k in g), (k,))

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
    """A sweep ready to evaluate: resolved inputs, axes, and the lever factors (gated once)."""

    inputs: Inputs
    axes: list[Axis]
    c_factor: float
    e_factor: float
    tolerance: float

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
    c_factor = e_factor = 1.0
    for s in gate_levers(inputs):
        if s.counted:
            c_factor *= s.c_tok_factor
            e_factor *= s.e_tok_factor
    tol = inputs.binding_tolerance if inputs.binding_tolerance is not None else 0.01
    keys = {a.key for a in axes}
    # Cost and emissions are columns only when their price/intensity varies; otherwise
    # leave them out of the engine's work.
    drop = {k: None for k in ("electricity_price", "carbon_intensity") if k not in keys}
    plan = Plan(with_values(inputs, **drop), list(axes), c_factor, e_factor, tol)
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


def binding_codes(qk: Any, qp: Any, tol: Any) -> Any:
    """Vectorized `model.classify`: codes 0 compute, 1 power, 2 balanced.

    Balanced means |Q̇_K - Q̇_P| <= tol · max(Q̇_K, Q̇_P), written as two comparisons
    against (1 - tol) times the other ceiling (cheaper; the same up to rounding at
    the edge of the band).
    """
    if qk is None or qp is None:
        return None
    if not (np.ndim(qk) or np.ndim(qp)):
        return LABELS.index(classify(qk, qp, tol))
    keep = 1.0 - tol
    compute = qk < keep * qp
    power = qp < keep * qk
    return (2 - 2 * compute.view(np.int8) - power.view(np.int8)).astype(np.int8, copy=False)


def evaluate(plan: Plan, start: int, stop: int) -> dict[str, Any]:
    """Evaluate grid points [start, stop).

    Returns:
        Column name -> 1-D numpy array (one value per point), a scalar (the same at
        every point), or None (not known from the inputs); binding columns hold codes
        into :data:`LABELS`. The varied keys are included under their column names.
    """
    vals, shape = grid_values(plan, start, stop)
    r = core(with_values(plan.inputs, **vals), plan.c_factor, plan.e_factor)
    tol = vals.get("binding_tolerance", plan.tolerance)
    r["binding"] = binding_codes(r["compute_ceiling"], r["power_ceiling"], tol)
    r["binding_peak"] = binding_codes(r["compute_ceiling_peak"], r["power_ceiling"], tol)
    n = stop - start

    def flat(v: Any) -> Any:
        if v is None or np.ndim(v) == 0:
            return v
        if v.shape != shape:
            v = np.broadcast_to(v, shape)
        return v.reshape(n)

    out: dict[str, Any] = {a.column: np.broadcast_to(vals[a.key], shape).reshape(n) for a in plan.axes}
    for name, src in result_columns(plan):
        out[name] = flat(r[src])
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
        yield start, stop, evaluate(plan, start, stop)


def tune_allocator() -> None:
    """Keep freed chunk-sized arrays in the heap instead of returning them to the OS.

    glibc serves allocations above 128 kB with fresh mmap pages and trims the heap
    eagerly, so every chunk's temporaries page-fault again (measured: ~3x slower).
    Raising both thresholds keeps them reused. Process-wide, so the CLI calls it, not
    the library; a no-op where glibc is absent.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, 512 << 20)   # M_TRIM_THRESHOLD
        libc.mallopt(-3, 64 << 20)    # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


def result_columns(plan: Plan) -> list[tuple[str, str]]:
    """(output name, engine key) of the result columns; cost and emissions when their input varies."""
    keys = {a.key for a in plan.axes}
    extra = [("cost_usd", "cost")] if "electricity_price" in keys else []
    extra += [("emissions_kg_co2e", "emissions")] if "carbon_intensity" in keys else []
    return list(RESULT_COLUMNS) + extra


def columns(plan: Plan) -> list[str]:
    """Output column names, varied keys first."""
    return [a.column for a in plan.axes] + [name for name, _ in result_columns(plan)]


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
        sign = np.where(qk >= qp, 1, -1)   # two states: a point exactly at the crossover counts as the far side
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

    def lines(self, limit: int = 12) -> list[str]:
        """Human-readable closing lines (for stderr)."""
        from ..render import humanize as H

        total = self.plan.size
        if self.unknown == total:
            return [f"{total:,} points; binding unknown (one of the ceilings cannot be computed from the inputs; "
                    "see `tokencalc estimate` for what is missing)"]
        known = total - self.unknown
        head = (f"{total:,} points: {H.percent(self.counts[1] / known)} power-bound, "
                f"{H.percent(self.counts[0] / known)} compute-bound")
        if self.counts[2]:
            head += f", {H.percent(self.counts[2] / known)} balanced"
        out = [head + " (realized K_eff convention)"]
        last = self.plan.axes[-1]

        def show(axis: Axis, x: float) -> str:
            return f"{axis.key} = " + (H.sig(x, 4) if axis.unit == "1" else H.si(x, axis.unit, 4))

        if len(self.plan.axes) == 1:
            if not self.crossings:
                only = "power" if self.counts[1] == known else "compute" if self.counts[0] == known else "mixed"
                out.append(f"no crossover in the range: {only}-bound throughout" if only != "mixed"
                           else "no clean crossover (balanced points only)")
            for c in self.crossings[:limit]:
                out.append(f"crossover at {show(last, c[last.column])}: {c['from']}-bound below, {c['to']}-bound above"
                           if last.kind != "list" else
                           f"crossover near {show(last, c[last.column])}: {c['from']}-bound before, {c['to']}-bound after")
        elif len(self.plan.axes) == 2:
            first = self.plan.axes[0]
            by_line: dict[float, list[dict]] = {}
            for c in self.crossings:
                by_line.setdefault(c[first.column], []).append(c)
            shown = 0
            for v, p in zip(first.values.tolist(), self.first_power.tolist()):
                if shown >= limit:
                    out.append(f"... ({len(first) - shown} more values of {first.key}; --format json has them all)")
                    break
                share = p / (total // len(first))
                cs = by_line.get(v, [])
                where = "; ".join(f"{c['to']}-bound beyond {show(last, c[last.column])}" for c in cs[:2]) or \
                        ("power-bound throughout" if share == 1 else "compute-bound throughout" if share == 0 else "no clean crossover")
                out.append(f"  {show(first, v)}: {H.percent(share)} power-bound; {where}")
                shown += 1
        else:
            first = self.plan.axes[0]
            per = total // len(first)
            for i, (v, p) in enumerate(zip(first.values.tolist(), self.first_power.tolist())):
                if i >= limit:
                    out.append(f"... ({len(first) - i} more values of {first.key})")
                    break
                out.append(f"  {show(first, v)}: {H.percent(p / per)} power-bound")
        return out


# ---------------------------------------------------------------------------
# Vectorized number formatting (CSV and JSON cells)
#
# Python's float formatting costs about 1 µs per number; a 1e6-point sweep has
# several million. These helpers format a whole column at once: 15 significant
# digits in the style of printf "%.15g" (positional for 1e-4 <= |x| < 1e15,
# exponent otherwise, trailing zeros dropped). The last digit can differ by one
# from printf's correctly rounded output; the value is always within 1e-14.

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
        is_label = name.startswith("binding")
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


def write(stream: BinaryIO, plan: Plan, fmt: str, *, chunk: int = CHUNK,
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
    for start, stop, cols in chunks(plan, chunk):
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


def evaluate_all(plan: Plan) -> tuple[dict[str, np.ndarray], Summary]:
    """Evaluate a small grid at once (for the table): columns broadcast to full length."""
    summary = Summary(plan)
    n = plan.size
    cols = evaluate(plan, 0, n)
    summary.update(0, n, cols)
    out = {}
    for name in columns(plan):
        v = cols[name]
        out[name] = None if v is None else np.broadcast_to(np.asarray(v), (n,))
    return out, summary
