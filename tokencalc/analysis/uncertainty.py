"""Uncertainty: ranged inputs, seeded Monte Carlo and one-at-a-time sensitivity.

Any quantity in a profile or scenario may be a range, `{ low, mode, high }`
(triangular) or `{ value, rel }`; `profiles` parses it into an SI
:class:`~tokencalc.profiles.Range` and puts the mode in the profile's values, so
the point estimate is the estimate at the modes. This module

1. finds the ranges that actually feed the resolved `model.Inputs` (a flag or a
   higher layer that replaced a ranged value wins; such a range is listed as not
   sampled, with the reason),
2. samples them independently from their triangular distributions with a seeded
   `numpy.random.Generator(PCG64(seed))` (inverse CDF, so a degenerate range
   `low = mode = high` gives exactly its value),
3. evaluates `model.core` once on arrays and reduces to percentiles and the
   probability of each regime, or, for the tornado, moves one input at a time to
   its low and high ends with the others at their modes.

Pure: no printing and no files (the tornado chart comes back as an SVG string).
numpy and matplotlib are imported inside the functions that need them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from ..core import model as M
from ..resolve import schema as S
from ..resolve.profiles import Range
from ..resolve.scenario import numeric_profile_fields

# Percentiles reported by `--mc`: JSON key -> (key of `model.core`, SI unit).
METRICS: dict[str, tuple[str, str]] = {
    "token_rate_tokens_per_s": ("token_rate", "token/s"),
    "compute_ceiling_tokens_per_s": ("compute_ceiling", "token/s"),
    "power_ceiling_tokens_per_s": ("power_ceiling", "token/s"),
    "tokens_total": ("tokens_total", "token"),
    "e_tok_j_per_token": ("e_tok", "J/token"),
    "energy_it_j": ("energy_it", "J"),
    "energy_facility_j": ("energy_facility", "J"),
    "cost_usd": ("cost", "USD"),
    "emissions_kg_co2e": ("emissions", "kgCO2e"),
}
QUANTILES = (("p5", 0.05), ("p50", 0.50), ("p95", 0.95))
MAX_SAMPLES = 5_000_000  # ~170 MB of peak memory per million samples; P5/P95 settle long before this
METHOD = ("independent triangular draws (inverse CDF, numpy PCG64), one evaluation of the model on arrays; "
          "percentiles by linear interpolation")

# Inputs fields `model.core` reads (others, e.g. tdp, only feed reported ratios such as η_E).
_CORE_FIELDS = frozenset({
    "devices", "peak_flops", "k_eff", "throughput_per_device", "kernel_efficiency", "availability", "c_tok",
    "active_params", "n_layers", "d_attn", "context_length", "batch_size", "devices_per_replica", "weight_bytes",
    "kv_bytes_per_token", "hbm_bandwidth", "e_tok", "device_power", "it_overhead", "p_facility", "pue", "p_it",
    "cooling_capacity", "utilization", "electricity_price", "carbon_intensity", "horizon", "prefill_share",
    "binding_tolerance",
})
_GATE_FIELDS = frozenset({"tpot_slo", "tpot_measured"})

# Profile key -> Inputs field for keys that can hold a range (quantities; counts cannot).
_FACILITY, _HARDWARE, _WORKLOAD = ({k: f for k, f in numeric_profile_fields(kind).items()
                                    if S.leaf(kind, k).type == "quantity"}
                                   for kind in ("facility", "hardware", "workload"))
_LEVER_KEYS = ("c_tok_factor", "e_tok_factor")


@dataclass(frozen=True)
class Target:
    """How one ranged input reaches one field.

    `how` is "set" (the sample is the field's value) or a multiplicative factor on
    the field's nominal value: "ratio" x/mode, "inverse" mode/x, "one_plus"
    (1+x)/(1+mode), "inv_one_plus" (1+mode)/(1+x). The field is an `Inputs` field
    or `lever:<id>:<factor key>`.
    """

    field: str
    how: str = "set"


@dataclass(frozen=True)
class RangedInput:
    """One input given as a range that feeds the model.

    Attributes:
        key: the dotted key as a user writes it (`utilization`, `facility.pue`,
            `workload.measured.e_tok`, `levers.<id>.e_tok_factor`).
        low, mode, high: the triangular range in SI units.
        unit: the SI unit of low/mode/high.
        source: where the range comes from (profile and citation).
        targets: the fields it moves.
    """

    key: str
    low: float
    mode: float
    high: float
    unit: str
    source: str
    targets: tuple[Target, ...]

    @property
    def feeds(self) -> tuple[str, ...]:
        """Names of the fields this input moves."""
        return tuple(t.field for t in self.targets)

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON description (SI)."""
        return {"key": self.key, "feeds": list(self.feeds), "low": self.low, "mode": self.mode, "high": self.high,
                "unit": self.unit, "source": self.source}


@dataclass(frozen=True)
class NotSampled:
    """A range that was given but does not reach the sampled model, and why."""

    key: str
    reason: str

    def to_json(self) -> dict[str, str]:
        """Plain-JSON description."""
        return {"key": self.key, "reason": self.reason}


@dataclass(frozen=True)
class Ranges:
    """The ranges behind a resolved scenario: sampled ones and ignored ones, each sorted by key."""

    inputs: tuple[RangedInput, ...]
    not_sampled: tuple[NotSampled, ...]


@dataclass(frozen=True)
class MCResult:
    """Outcome of :func:`monte_carlo`.

    Attributes:
        samples: number of draws.
        seed: PCG64 seed.
        p_power_bound, p_compute_bound, p_balanced: share of draws in each regime
            (realized K_eff convention, the scenario's balance tolerance), or None when
            a ceiling cannot be computed.
        percentiles: JSON metric key -> {"p5", "p50", "p95"} in SI (values None when
            the metric cannot be computed from the inputs).
        ranges: the sampled and the ignored ranges.
    """

    samples: int
    seed: int
    p_power_bound: float | None
    p_compute_bound: float | None
    p_balanced: float | None
    percentiles: dict[str, dict[str, float | None]]
    ranges: Ranges

    @property
    def has_ranges(self) -> bool:
        """Whether any input was actually sampled."""
        return bool(self.ranges.inputs)

    def to_json(self) -> dict[str, Any]:
        """The `mc` object of `estimate --mc` (INTERFACE.md), SI units."""
        out: dict[str, Any] = {
            "samples": self.samples,
            "seed": self.seed,
            "p_power_bound": self.p_power_bound,
            "p_compute_bound": self.p_compute_bound,
            "p_balanced": self.p_balanced,
            "percentiles": {k: dict(v) for k, v in self.percentiles.items()},
            "units": {k: METRICS[k][1] for k in self.percentiles},
            "ranges": [r.to_json() for r in self.ranges.inputs],
            "not_sampled": [n.to_json() for n in self.ranges.not_sampled],
            "method": METHOD,
        }
        if not self.has_ranges:
            out["note"] = NO_RANGES
        return out


NO_RANGES = ("no input has a range: every sample equals the point estimate (give a range as "
             "{ low, mode, high } or { value, rel } in a profile or scenario)")


NO_CHART = ("no ranged input moves this metric: no tornado chart to draw "
            "(give ranges as { low, mode, high } or { value, rel } in a profile or scenario)")


@dataclass(frozen=True)
class Swing:
    """One bar of the tornado: a metric with one input at its low and high ends, the others at their modes.

    Attributes:
        key, low, mode, high, unit, source: the ranged input (SI).
        metric, metric_unit: the output looked at (a key of `METRICS`).
        base: the metric at the modes (the point estimate).
        at_low, at_high: the metric with this input at its low / high end (None if unknown).
    """

    key: str
    low: float
    mode: float
    high: float
    unit: str
    source: str
    metric: str
    metric_unit: str
    base: float | None
    at_low: float | None
    at_high: float | None

    @property
    def swing(self) -> float | None:
        """|metric(high) - metric(low)|, the bar's length."""
        if self.at_low is None or self.at_high is None:
            return None
        return abs(self.at_high - self.at_low)

    @property
    def swing_rel(self) -> float | None:
        """The swing as a share of the base value."""
        s = self.swing
        return None if s is None or not self.base else s / abs(self.base)

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON description (SI)."""
        return {"key": self.key, "low": self.low, "mode": self.mode, "high": self.high, "unit": self.unit,
                "source": self.source, "at_low": self.at_low, "at_high": self.at_high, "swing": self.swing,
                "swing_rel": self.swing_rel}


# ---------------------------------------------------------------------------
# Which ranges feed the model

def collect(resolved: Any) -> Ranges:
    """Find the ranges that feed the resolved inputs, mirroring `scenario._build`.

    A range counts only where the resolved input still comes from the profile that
    declared it (its provenance says so); a flag, `--set` or a higher layer that
    replaced the value makes the range "not sampled", with the reason.

    Args:
        resolved: a `scenario.Resolved`.

    Returns:
        The sampled ranges and the ignored ones, each sorted by key.
    """
    inp: M.Inputs = resolved.inputs
    prov = inp.provenance
    scen = resolved.scenario
    out: list[RangedInput] = []
    skipped: list[NotSampled] = []

    def comes_from(field: str | None, label: str) -> bool:
        p = prov.get(field) if field else None
        return p is not None and (p.source.startswith(label + ":") or p.source.startswith(label + " ("))

    def add(prof: Any, key: str, dotted: str, rng: Range, field: str | None, extra: list[Target]) -> None:
        label = f"{prof.kind} {prof.id}"
        targets = list(extra)
        if comes_from(field, label):
            if getattr(inp, field) == rng.mode:
                targets.insert(0, Target(field))
            elif rng.mode != 0:  # converted on the way (token basis): scale the converted value
                targets.insert(0, Target(field, "ratio"))
        used = tuple(t for t in targets if t.field in _CORE_FIELDS)
        if used:
            src = prov[field].source if comes_from(field, label) else _profile_source(prof, key)
            out.append(RangedInput(dotted, rng.low, rng.mode, rng.high, _unit(prof.kind, key),
                                   _cite(src, scen, dotted), used))
        elif targets:
            skipped.append(NotSampled(dotted, "does not enter the token rate, energy or cost (only reported ratios)"))
        elif field in _GATE_FIELDS:
            skipped.append(NotSampled(dotted, "feeds the lever gate (latency SLO), decided at the nominal point"))
        elif field is not None and field in prov:
            skipped.append(NotSampled(dotted, f"replaced by {prov[field].source}"))
        else:
            skipped.append(NotSampled(dotted, "not used at this operating point"))

    if scen is not None:
        for key, rng in sorted(scen.ranges.items()):
            add(scen, key, key, rng, key if key in _INPUT_FIELDS else None, [])

    fac = resolved.facility
    if fac is not None:
        for key, rng in sorted(fac.ranges.items()):
            add(fac, key, f"facility.{key}", rng, _FACILITY.get(key), [])

    hw = resolved.hardware
    if hw is not None:
        overhead = prov.get("it_overhead")
        derived_overhead = overhead is not None and overhead.source.startswith(f"derived: hardware {hw.id}:")
        for key, rng in sorted(hw.ranges.items()):
            if key.startswith("peak_flops.") and key != f"peak_flops.{inp.precision}":
                skipped.append(NotSampled(f"hardware.{key}", f"another precision than the one in use ({inp.precision})"))
                continue
            field = "peak_flops" if key.startswith("peak_flops.") else _HARDWARE.get(key)
            extra = []
            if derived_overhead and key in ("tdp", "server_power_per_device"):
                # it_overhead = server power per device / board power
                extra.append(Target("it_overhead", "inverse" if key == "tdp" else "ratio"))
            add(hw, key, f"hardware.{key}", rng, field, extra)

    wl = resolved.workload
    if wl is not None:
        weight = prov.get("weight_bytes")
        weight_derived = weight is not None and weight.source.startswith("derived: total params")
        converted = {k for k in ("e_tok", "throughput_per_device")
                     if comes_from(k, f"workload {wl.id}") and "(converted from" in prov[k].source}
        for key, rng in sorted(wl.ranges.items()):
            if key.startswith("quality."):
                skipped.append(NotSampled(f"workload.{key}", "feeds the lever gate (quality tolerance), decided at "
                                                             "the nominal point"))
                continue
            extra = []
            if weight_derived and rng.mode != 0 and (
                    key in ("model.total_params", "model.bytes_per_param")
                    or (key == "model.active_params" and wl.get("model.total_params") is None)):
                extra.append(Target("weight_bytes", "ratio"))  # weight bytes = total params x bytes per param
            if key == "operating_point.input_output_ratio" and converted:
                # per output token, e_tok scales with (1 + ratio) and throughput inversely
                e_how, r_how = (("one_plus", "inv_one_plus") if inp.token_basis == "output"
                                else ("inv_one_plus", "one_plus"))
                extra += [Target("e_tok", e_how)] if "e_tok" in converted else []
                extra += [Target("throughput_per_device", r_how)] if "throughput_per_device" in converted else []
            add(wl, key, f"workload.{key}", rng, _WORKLOAD.get(key), extra)

    counted = {s.id for s in M.gate_levers(inp) if s.counted}
    for lp in resolved.levers:
        for key, rng in sorted(lp.ranges.items()):
            dotted = f"levers.{lp.id}.{key}"
            if key not in _LEVER_KEYS:
                skipped.append(NotSampled(dotted, "feeds the lever gate, decided at the nominal point"))
            elif lp.id not in counted:
                skipped.append(NotSampled(dotted, "the lever is not counted (it shifts the operating point)"))
            else:
                out.append(RangedInput(dotted, rng.low, rng.mode, rng.high, "1",
                                       _cite(_profile_source(lp, key), scen, dotted), (Target(f"lever:{lp.id}:{key}"),)))
    return Ranges(tuple(sorted(out, key=lambda r: r.key)), tuple(sorted(skipped, key=lambda n: n.key)))


def _profile_source(prof: Any, key: str) -> str:
    s = prof.source_for(key)
    return f"{prof.kind} {prof.id}: {s.text}" if s else f"{prof.kind} {prof.id} (no source given)"


def _unit(kind: str, key: str) -> str:
    from ..resolve import schema as S
    from ..units import DIMENSIONS  # the table only: no pint import

    spec = S.leaf(kind, key)
    return DIMENSIONS[spec.dim][1] if spec is not None else "1"


_INPUT_FIELDS = frozenset(f.name for f in fields(M.Inputs))


def _cite(text: str, scen: Any, dotted: str | None) -> str:
    """An `[override]` range takes its citation from the scenario's [sources] when it has one."""
    if scen is None or dotted is None or "override:" not in text:
        return text
    src = scen.sources.get(dotted) or scen.sources.get("override." + dotted)
    return f"{text}; {src.text}" if src is not None else text


def has_ranges(resolved: Any) -> bool:
    """Whether any input of a resolved scenario is a range that feeds the model."""
    return bool(collect(resolved).inputs)


# ---------------------------------------------------------------------------
# Sampling and evaluation

def triangular_ppf(u: Any, low: float, mode: float, high: float) -> Any:
    """Inverse CDF of the triangular distribution (works on floats and numpy arrays).

    Args:
        u: probabilities in [0, 1).
        low, mode, high: the distribution, low <= mode <= high.

    Returns:
        The `u`-quantile; exactly `low` everywhere for a degenerate range.
    """
    import numpy as np

    if high == low:
        return np.full(np.shape(u), float(low)) if np.ndim(u) else float(low)
    width = high - low
    split = (mode - low) / width
    left = low + np.sqrt(u * width * (mode - low))
    right = high - np.sqrt((1.0 - u) * width * (high - mode))
    out = np.where(u < split, left, right)
    return out if np.ndim(u) else float(out)


def triangular_cdf(x: float, low: float, mode: float, high: float) -> float:
    """CDF of the triangular distribution at `x` (for analytic checks)."""
    if x <= low:
        return 0.0
    if x >= high:
        return 1.0
    if x <= mode:
        return (x - low) ** 2 / ((high - low) * (mode - low))
    return 1.0 - (high - x) ** 2 / ((high - low) * (high - mode))


def draw(ranged: tuple[RangedInput, ...] | list[RangedInput], n: int, seed: int) -> list[Any]:
    """Independent triangular draws, one array of `n` per ranged input, in the given order.

    Args:
        ranged: the inputs (their order fixes which uniform stream each gets).
        n: samples per input.
        seed: PCG64 seed; the same seed gives the same draws.
    """
    import numpy as np

    gen = np.random.Generator(np.random.PCG64(seed))
    u = gen.random((len(ranged), n))
    return [triangular_ppf(u[i], r.low, r.mode, r.high) for i, r in enumerate(ranged)]


def _factor(how: str, x: Any, mode: float) -> Any:
    if how == "ratio":
        return x / mode
    if how == "inverse":
        return mode / x
    if how == "one_plus":
        return (1.0 + x) / (1.0 + mode)
    if how == "inv_one_plus":
        return (1.0 + mode) / (1.0 + x)
    raise ValueError(f"unknown target kind {how!r}")


def evaluate(inp: M.Inputs, ranged: tuple[RangedInput, ...] | list[RangedInput], columns: list[Any]) -> dict[str, Any]:
    """`model.core` with each ranged input replaced by its column (floats or arrays).

    The lever gate is decided at the nominal point; counted levers' factors (and
    the prefill share they act on) follow their columns.
    """
    sets: dict[str, Any] = {}
    scale: dict[str, Any] = {}
    for r, x in zip(ranged, columns):
        for t in r.targets:
            if t.how == "set":
                sets[t.field] = x
            else:
                scale[t.field] = scale.get(t.field, 1.0) * _factor(t.how, x, r.mode)
    lever_vals: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    for f in sorted(set(sets) | set(scale)):
        if f.startswith("lever:"):
            _, lid, key = f.split(":")
            base = sets.get(f, getattr(next(lv for lv in inp.levers if lv.id == lid), key))
            lever_vals[f] = base * scale[f] if f in scale else base
        else:
            base = sets.get(f, getattr(inp, f))
            changes[f] = base * scale[f] if f in scale else base
    prefill = changes.get("prefill_share", inp.prefill_share)
    c_factor = e_factor = 1.0
    for status, lv in zip(M.gate_levers(inp), inp.levers):
        if status.counted:  # same order and arithmetic as model.estimate, so a degenerate range is exact
            c_factor *= M.phase_factor(lever_vals.get(f"lever:{lv.id}:c_tok_factor", lv.c_tok_factor), lv.phase, prefill)
            e_factor *= M.phase_factor(lever_vals.get(f"lever:{lv.id}:e_tok_factor", lv.e_tok_factor), lv.phase, prefill)
    return M.core(M.with_values(inp, **changes) if changes else inp, c_factor, e_factor)


def regime_shares(compute: Any, power: Any, tolerance: Any) -> tuple[float | None, float | None, float | None]:
    """Share of draws that are (power-bound, compute-bound, balanced), as `model.classify` decides each one."""
    import numpy as np

    if compute is None or power is None:
        return None, None, None
    compute, power = np.asarray(compute, dtype=float), np.asarray(power, dtype=float)
    balanced = np.abs(compute - power) <= tolerance * np.maximum(compute, power)
    power_bound = ~balanced & (compute > power)
    compute_bound = ~balanced & (compute < power)
    return float(np.mean(power_bound)), float(np.mean(compute_bound)), float(np.mean(balanced))


def monte_carlo(resolved: Any, n: int, seed: int = 0) -> MCResult:
    """Sample every ranged input and report percentiles and the regime probabilities.

    Args:
        resolved: a `scenario.Resolved`.
        n: number of samples, 1 <= n <= MAX_SAMPLES.
        seed: PCG64 seed (>= 0); the same seed gives identical results.

    Returns:
        An :class:`MCResult` (a scenario without ranges gives the point estimate
        in every percentile and says so).

    Raises:
        InputError: `n` or `seed` out of range.
    """
    import numpy as np

    from ..errors import InputError

    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_SAMPLES:
        raise InputError(f"--mc: expected a number of samples from 1 to {MAX_SAMPLES:,}, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"--seed: expected a whole number >= 0, got {seed!r}")
    ranges = collect(resolved)
    inp = resolved.inputs
    columns = draw(ranges.inputs, n, seed)
    r = evaluate(inp, ranges.inputs, columns)
    probs = [q for _, q in QUANTILES]
    percentiles: dict[str, dict[str, float | None]] = {}
    for key, (core_key, _) in METRICS.items():
        v = r[core_key]
        if v is None:
            qs: list[float | None] = [None] * len(probs)
        elif np.ndim(v) == 0:  # does not depend on any sampled input
            qs = [float(v)] * len(probs)
        else:
            qs = [float(x) for x in np.quantile(v, probs)]
        percentiles[key] = {name: q for (name, _), q in zip(QUANTILES, qs)}
    tol = inp.binding_tolerance if inp.binding_tolerance is not None else M.DEFAULT_TOLERANCE
    for ri, col in zip(ranges.inputs, columns):
        if Target("binding_tolerance") in ri.targets:
            tol = col
    p_power, p_compute, p_balanced = regime_shares(r["compute_ceiling"], r["power_ceiling"], tol)
    return MCResult(n, seed, p_power, p_compute, p_balanced, percentiles, ranges)


# ---------------------------------------------------------------------------
# One-at-a-time sensitivity (tornado)

def tornado(resolved: Any, metric: str = "token_rate_tokens_per_s") -> list[Swing]:
    """One-at-a-time swings of `metric`: each ranged input at its low and high end, the others at their modes.

    Args:
        resolved: a `scenario.Resolved`.
        metric: a key of `METRICS` (default the token rate).

    Returns:
        One Swing per ranged input, largest swing first (ties and unknown swings by
        key, unknown last). Inputs without a range have no swing.

    Raises:
        InputError: unknown metric.
    """
    import numpy as np

    from ..errors import InputError

    if metric not in METRICS:
        raise InputError(f"--metric {metric!r}: expected one of {', '.join(METRICS)}")
    core_key, unit = METRICS[metric]
    ranged = collect(resolved).inputs
    inp = resolved.inputs
    base = evaluate(inp, ranged, [r.mode for r in ranged])[core_key]
    if not ranged:
        return []
    k = len(ranged)
    columns = []
    for i, r in enumerate(ranged):
        col = np.full(2 * k, r.mode)
        col[2 * i], col[2 * i + 1] = r.low, r.high
        columns.append(col)
    v = evaluate(inp, ranged, columns)[core_key]
    swings = []
    for i, r in enumerate(ranged):
        if v is None:
            lo = hi = None
        elif np.ndim(v) == 0:
            lo = hi = float(v)
        else:
            lo, hi = float(v[2 * i]), float(v[2 * i + 1])
        swings.append(Swing(r.key, r.low, r.mode, r.high, r.unit, r.source, metric, unit,
                            None if base is None else float(base), lo, hi))
    return sorted(swings, key=lambda s: (s.swing is None, -(s.swing or 0.0), s.key))


def tornado_svg(swings: list[Swing], title: str | None = None) -> str:
    """A tornado chart of `swings` as a deterministic SVG document.

    The same swings give byte-identical SVG: fixed `svg.hashsalt`, no date in the
    metadata, text as paths. Bars run from the metric at an input's low end to the
    metric at its high end, split at the base value.

    Args:
        swings: from :func:`tornado` (drawn in the given order, first on top).
        title: chart title (default: the metric).

    Returns:
        The SVG text, or "" when no swing can be drawn (no ranged input, or the
        metric is unknown for these inputs).
    """
    import io

    import matplotlib

    if all(s.swing is None for s in swings):
        return ""
    with matplotlib.rc_context(_RC):
        fig = tornado_figure(swings, title)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


_RC = {"svg.hashsalt": "tokencalc", "svg.fonttype": "path", "font.size": 9, "font.family": "DejaVu Sans",
       "axes.spines.top": False, "axes.spines.right": False}


def tornado_figure(swings: list[Swing], title: str | None = None) -> Any:
    """The tornado chart as a matplotlib Figure (no pyplot state); see :func:`tornado_svg`."""
    import matplotlib
    from matplotlib.figure import Figure

    from ..errors import InputError

    drawable = [s for s in swings if s.swing is not None]
    if not drawable:
        raise InputError(NO_CHART)
    metric, unit, base = drawable[0].metric, drawable[0].metric_unit, drawable[0].base or 0.0
    scale, prefix = _prefix(max([abs(x) for s in drawable for x in (s.at_low, s.at_high, s.base or 0.0)]))
    n = len(drawable)
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(8.0, 1.4 + 0.5 * n))
        ax = fig.add_subplot()
        for i, s in enumerate(drawable):
            y = n - 1 - i
            for value, color, label in ((s.at_low, "#4c78a8", "input at its low end"),
                                        (s.at_high, "#f58518", "input at its high end")):
                ax.barh(y, abs(value - base) / scale, left=min(value, base) / scale, height=0.6, color=color,
                        label=label if i == 0 else None)
            if s.swing == 0:
                ax.annotate("no effect", (base / scale, y), xytext=(6, 0), textcoords="offset points",
                            va="center", fontsize=8, color="#666666")
        ax.axvline(base / scale, color="black", linewidth=0.8)
        ax.set_yticks(range(n))
        ax.set_yticklabels([f"{s.key}\n{_human_range(s)}" for s in reversed(drawable)], fontsize=8)
        ax.set_xlabel(f"{metric} [{prefix}{unit}]; base {base / scale:.4g} {prefix}{unit} at the modes")
        ax.set_title(title or f"Sensitivity of {metric}: one input at a time, others at their modes",
                     loc="left", fontsize=9)
        ax.legend(loc="lower right", frameon=False, fontsize=8)
        fig.tight_layout()
    return fig


def _prefix(x: float) -> tuple[float, str]:
    for factor, p in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= factor:
            return factor, p + " "
    return 1.0, ""


def human(x: float | None, unit: str) -> str:
    """An SI value in the unit planners read (kWh prices, days), for tables and charts only."""
    from ..render import humanize as H

    if x is None:
        return "—"
    if unit == "1":
        return H.sig(x)
    if unit == "USD/J":
        return f"{H.sig(x * 3.6e6)} USD/kWh"
    if unit == "kgCO2e/J":
        return f"{H.sig(x * 3.6e6)} kg/kWh"
    if unit == "s":
        return H.duration(x)
    if unit == "token":
        return H.count(x)
    if unit == "J":
        return H.energy(x)
    if unit == "USD":
        return H.money(x)
    if unit == "kgCO2e":
        return H.mass_co2e(x)
    return H.si(x, unit)


def human_range(low: float, mode: float, high: float, unit: str) -> str:
    """`low … mode … high unit` with one unit and one SI prefix, for tables and charts only."""
    from ..render import humanize as H

    factor, label = {"USD/J": (3.6e6, "USD/kWh"), "kgCO2e/J": (3.6e6, "kg/kWh"), "s": (1 / 86400, "day"),
                     "1": (1.0, "")}.get(unit, (1.0, unit))
    xs = [x * factor for x in (low, mode, high)]
    if label and unit not in ("USD/J", "kgCO2e/J", "s"):
        big = max(abs(x) for x in xs)
        for f, p in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m")):
            if big >= f * 0.9995:
                xs, label = [x / f for x in xs], p + label
                break
    return " … ".join(H.sig(x) for x in xs) + (f" {label}" if label else "")


def _human_range(s: Swing) -> str:
    return human_range(s.low, s.mode, s.high, s.unit)
