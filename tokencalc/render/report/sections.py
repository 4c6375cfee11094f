"""The report's optional sections: the horizon (with trajectories) and the uncertainty (with ranges).

They receive the analyses' objects (`analysis.horizon.Projection`, `analysis.uncertainty.MCResult`
and the tornado's swings) and format them; nothing is computed here. Charts are drawn in the
requested format (inline SVG for HTML and PDF; None for LaTeX and Markdown, which write files).
"""

from __future__ import annotations

from typing import Any

from ...core import fields as F
from ...units import factor
from .. import humanize as H
from .citations import dotted_cites, trajectory_cites

LABELS = {"token_rate_tokens_per_s": "Realized rate", "compute_ceiling_tokens_per_s": "Compute ceiling",
          "power_ceiling_tokens_per_s": "Power ceiling", "tokens_total": "Tokens Q(T)",
          "e_tok_j_per_token": "J/token (IT)", "energy_it_j": "IT energy", "energy_facility_j": "Facility energy",
          "cost_usd": "Electricity cost", "emissions_kg_co2e": "Emissions"}
TOTALS = ("tokens_total", "energy_it_j", "energy_facility_j", "cost_usd", "emissions_kg_co2e")
TRAJECTORY_TOTALS = "with the scenario's trajectories"


def metric_label(key: str) -> str:
    """A metric in words ("Realized rate"), never its JSON key."""
    if key in LABELS:
        return LABELS[key]
    return F.BY_JSON[key].label if key in F.BY_JSON else key.replace("_", " ").capitalize()


def horizon_chart_args(proj: Any) -> tuple:
    """The horizon chart's data (days, the three series, switch days, start date)."""
    day = factor("day", "time")
    series = {k: (None if v is None else v.tolist()) for k, v in proj.series.items()}
    n = proj.t_s.size
    return ((proj.t_s / day).tolist(), series["token_rate"] or [None] * n, series["compute_ceiling"] or [None] * n,
            series["power_ceiling"] or [None] * n, [s.t_s / day for s in proj.switches], proj.start_date)


def horizon_section(proj: Any, resolved: Any = None, bib: Any = None, svg: Any = None) -> dict[str, Any] | None:
    """The horizon chart, switch dates and totals of a projection (None without one).

    Args:
        proj: the projection.
        resolved, bib: the profiles and the report's `Bibliography` (trajectory citations).
        svg: the horizon chart as inline SVG (see `drawing.charts_of`), or None.
    """
    if proj is None or proj.t_s.size < 2:
        return None
    from markupsafe import Markup

    day = factor("day", "time")
    rows = [{"when": (f"{s.date} (day {H.sig(s.t_s / day)})" if s.date else f"day {H.sig(s.t_s / day)}"),
             "from": s.from_, "to": s.to} for s in proj.switches]
    totals = [{"label": "Horizon T", "value": H.duration(proj.horizon_s)}]
    totals += [{"label": f"{LABELS.get(key, F.field(key).label)}, {TRAJECTORY_TOTALS}",
                "value": H.quantity(proj.totals[key], F.field(key).unit)}
               for key in TOTALS if proj.totals.get(key) is not None]
    trajectories = []
    for t in proj.trajectories:
        cites = trajectory_cites(resolved, t.key) if resolved is not None else []
        keys = bib.add(cites) if bib is not None else []
        source = "; ".join(c.source.text for c in cites)
        trajectories.append({"key": t.key, "form": t.form, "cites": keys,
                             "source": f"{source} (in {t.source})" if source else (t.source or "—")})
    return {"chart": Markup(svg) if svg else None, "switches": rows, "totals": totals,
            "trajectories": trajectories, "start_date": proj.start_date}


def uncertainty_section(mc: Any, swings: list[Any], resolved: Any = None, bib: Any = None,
                        svg: Any = None) -> dict[str, Any] | None:
    """The percentile band, P(power-bound) and the tornado chart (`svg`, inline; None without sampled ranges)."""
    if mc is None or not mc.has_ranges:
        return None
    from markupsafe import Markup

    from .context import humanize_value

    rows = [{"label": metric_label(key),
             **{q: H.quantity(pct.get(q), F.field(key).unit) for q in ("p5", "p50", "p95")}}
            for key, pct in mc.percentiles.items()]
    ranges = []
    for r in mc.ranges.inputs:
        keys = bib.add(dotted_cites(resolved, r.key)) if bib is not None and resolved is not None else []
        ranges.append({"key": r.key, "low": humanize_value(r.low, r.unit), "mode": humanize_value(r.mode, r.unit),
                       "high": humanize_value(r.high, r.unit), "source": r.source or "—", "cites": keys})
    return {"samples": f"{mc.samples:,}", "seed": mc.seed, "p_power_bound": H.percent(mc.p_power_bound),
            "percentiles": rows, "ranges": ranges, "metric": metric_label(swings[0].metric) if swings else None,
            "tornado": Markup(svg) if svg else None}
