"""The report's optional sections: the horizon (with trajectories) and the uncertainty (with ranges).

They receive the analyses' objects (`analysis.horizon.Projection`, `analysis.uncertainty.MCResult`
and the tornado's swings) and format them; nothing is computed here.
"""

from __future__ import annotations

from typing import Any

from ...core import fields as F
from ...units import factor
from .. import humanize as H
from .drawing import charts_module

LABELS = {"token_rate_tokens_per_s": "Realized rate", "compute_ceiling_tokens_per_s": "Compute ceiling",
          "power_ceiling_tokens_per_s": "Power ceiling", "tokens_total": "Tokens Q(T)",
          "e_tok_j_per_token": "J/token (IT)", "energy_it_j": "IT energy", "energy_facility_j": "Facility energy",
          "cost_usd": "Electricity cost", "emissions_kg_co2e": "Emissions"}
TOTALS = ("tokens_total", "energy_it_j", "energy_facility_j", "cost_usd", "emissions_kg_co2e")


def horizon_section(proj: Any) -> dict[str, Any] | None:
    """The horizon chart, switch dates and totals of a projection (None without one)."""
    if proj is None or proj.t_s.size < 2:
        return None
    from markupsafe import Markup

    day = factor("day", "time")
    series = {k: (None if v is None else v.tolist()) for k, v in proj.series.items()}
    n = proj.t_s.size
    svg = charts_module().horizon_svg(
        (proj.t_s / day).tolist(), series["token_rate"] or [None] * n, series["compute_ceiling"] or [None] * n,
        series["power_ceiling"] or [None] * n, [s.t_s / day for s in proj.switches], proj.start_date)
    rows = [{"when": (f"{s.date} (day {H.sig(s.t_s / day)})" if s.date else f"day {H.sig(s.t_s / day)}"),
             "from": s.from_, "to": s.to} for s in proj.switches]
    totals = [{"label": "Horizon T", "value": H.duration(proj.horizon_s)}]
    totals += [{"label": LABELS.get(key, F.field(key).label), "value": H.quantity(proj.totals[key], F.field(key).unit)}
               for key in TOTALS if proj.totals.get(key) is not None]
    trajectories = [{"key": t.key, "form": t.form, "source": t.source or "—"} for t in proj.trajectories]
    return {"chart": Markup(svg) if svg else None, "switches": rows, "totals": totals,
            "trajectories": trajectories, "start_date": proj.start_date}


def uncertainty_section(mc: Any, swings: list[Any]) -> dict[str, Any] | None:
    """The percentile band, P(power-bound) and the tornado chart (None without sampled ranges)."""
    if mc is None or not mc.has_ranges:
        return None
    from markupsafe import Markup

    from ..uncertainty import tornado_svg
    from .context import humanize_value

    rows = [{"label": LABELS.get(key, key),
             **{q: H.quantity(pct.get(q), F.field(key).unit) for q in ("p5", "p50", "p95")}}
            for key, pct in mc.percentiles.items()]
    svg = tornado_svg(swings) if swings else ""
    ranges = [{"key": r.key, "low": humanize_value(r.low, r.unit), "mode": humanize_value(r.mode, r.unit),
               "high": humanize_value(r.high, r.unit), "source": r.source or "—"} for r in mc.ranges.inputs]
    return {"samples": f"{mc.samples:,}", "seed": mc.seed, "p_power_bound": H.percent(mc.p_power_bound),
            "percentiles": rows, "ranges": ranges,
            "tornado": Markup(charts_module().inline(svg, "tornado")) if svg else None}
