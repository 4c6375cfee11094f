"""Uncertainty: ranged inputs, seeded Monte Carlo and one-at-a-time sensitivity (docs/model.md §9).

`ranges` finds which ranges reach the model, `sampling` draws them and runs the
one engine on the arrays, `tornado` moves one input at a time. Charts and
human-readable text are in `tokencalc.render.uncertainty`.
"""

from .ranges import NotSampled, RangedInput, Ranges, collect, has_ranges
from .sampling import (MAX_SAMPLES, METHOD, METRICS, NO_RANGES, QUANTILES, MCResult, draw, evaluate, monte_carlo,
                       regime_shares, triangular_cdf, triangular_ppf, unit_of)
from .tornado import NO_CHART, Swing, tornado

__all__ = ["MAX_SAMPLES", "METHOD", "METRICS", "NO_CHART", "NO_RANGES", "QUANTILES", "MCResult", "NotSampled",
           "RangedInput", "Ranges", "Swing", "collect", "draw", "evaluate", "has_ranges", "monte_carlo",
           "regime_shares", "tornado", "triangular_cdf", "triangular_ppf", "unit_of"]
