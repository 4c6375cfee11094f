"""Seeded Monte Carlo over the ranged inputs, through the one engine (docs/model.md §9).

Ranged inputs (see `ranges`) are drawn independently from their triangular
distributions with a seeded `numpy.random.Generator(PCG64(seed))` (inverse CDF,
so a degenerate range `low = mode = high` gives exactly its value), the engine
runs once on the arrays, and the draws reduce to percentiles and the share of
each regime as the core classifier decides it. numpy is imported inside the
functions that need it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...core import Inputs, LeverStatus, gate, with_values
from ...core import evaluate as engine_evaluate
from ...core import fields as F
from ...core.classify import BALANCED, COMPUTE, POWER
from ...errors import InputError
from .ranges import RangedInput, Ranges, collect

# Percentiles reported by `--mc` (estimate JSON keys; engine key and unit from the output-field registry).
METRICS = ("token_rate_tokens_per_s", "compute_ceiling_tokens_per_s", "power_ceiling_tokens_per_s", "tokens_total",
           "e_tok_j_per_token", "energy_it_j", "energy_facility_j", "cost_usd", "emissions_kg_co2e")
QUANTILES = (("p5", 0.05), ("p50", 0.50), ("p95", 0.95))
MAX_SAMPLES = 5_000_000  # ~170 MB of peak memory per million samples; P5/P95 settle long before this
METHOD = ("independent triangular draws (inverse CDF, numpy PCG64), one evaluation of the model on arrays; "
          "percentiles by linear interpolation")
NO_RANGES = ("no input has a range: every sample equals the point estimate (give a range as "
             "{ low, mode, high } or { value, rel } in a profile or scenario)")


def unit_of(metric: str) -> str:
    """SI unit of a metric."""
    return F.field(metric).unit


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
        """The `mc` object of `estimate --mc --format json`, SI units."""
        out: dict[str, Any] = {
            "samples": self.samples,
            "seed": self.seed,
            "p_power_bound": self.p_power_bound,
            "p_compute_bound": self.p_compute_bound,
            "p_balanced": self.p_balanced,
            "percentiles": {k: dict(v) for k, v in self.percentiles.items()},
            "units": {k: unit_of(k) for k in self.percentiles},
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


def evaluate(inp: Inputs, ranged: tuple[RangedInput, ...] | list[RangedInput], columns: list[Any],
             statuses: list[LeverStatus] | None = None) -> dict[str, Any]:
    """The engine with each ranged input replaced by its column (floats or arrays).

    The lever gate is decided at the nominal point; counted levers' factors follow their columns.
    """
    sets: dict[str, Any] = {}
    lever_values: dict[str, dict[str, Any]] = {}
    for r, x in zip(ranged, columns):
        if r.field.startswith("lever:"):
            _, lid, key = r.field.split(":")
            lever_values.setdefault(lid, {})[key] = x
        else:
            sets[r.field] = x
    return engine_evaluate(with_values(inp, **sets) if sets else inp, gate(inp) if statuses is None else statuses,
                    lever_values)


def regime_shares(codes: Any) -> tuple[float | None, float | None, float | None]:
    """Share of draws that are (power-bound, compute-bound, balanced), from the classifier's codes."""
    import numpy as np

    if codes is None:
        return None, None, None
    counts = np.bincount(np.atleast_1d(codes).astype(np.int64), minlength=3)
    total = counts.sum()
    return float(counts[POWER] / total), float(counts[COMPUTE] / total), float(counts[BALANCED] / total)


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
    for key in METRICS:
        v = r[F.field(key).engine]
        if v is None:
            qs: list[float | None] = [None] * len(probs)
        elif np.ndim(v) == 0:  # does not depend on any sampled input
            qs = [float(v)] * len(probs)
        else:
            qs = [float(x) for x in np.quantile(v, probs)]
        percentiles[key] = {name: q for (name, _), q in zip(QUANTILES, qs)}
    p_power, p_compute, p_balanced = regime_shares(r["binding"])
    return MCResult(n, seed, p_power, p_compute, p_balanced, percentiles, ranges)
