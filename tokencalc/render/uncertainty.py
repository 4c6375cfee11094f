"""Uncertainty for people: the tornado chart (deterministic SVG) and ranges as text."""

from __future__ import annotations

from typing import Any

import csv
import io
import json

from ..analysis import uncertainty as U
from ..analysis.uncertainty import NO_CHART, Swing
from ..errors import InputError
from ..units import factor
from . import humanize as H
from .latex import latex_escape, latex_unit
from .optional import require

SCHEMA = "tokencalc.sensitivity/1"
BAR_WIDTH = 12


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

    if all(s.swing is None for s in swings):
        return ""
    matplotlib = require("matplotlib", "tornado charts")
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

    drawable = [s for s in swings if s.swing is not None]
    if not drawable:
        raise InputError(NO_CHART)
    metric, unit, base = drawable[0].metric, drawable[0].metric_unit, drawable[0].base or 0.0
    scale, prefix = H.prefix(max([abs(x) for s in drawable for x in (s.at_low, s.at_high, s.base or 0.0)]))
    prefix = prefix + " " if prefix else ""
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


def human_range(low: float, mode: float, high: float, unit: str) -> str:
    """`low … mode … high unit` with one unit and one SI prefix, for tables and charts only."""
    per_kwh = {"USD/J": "USD/kWh", "kgCO2e/J": "kg/kWh"}
    if unit in per_kwh:
        return " … ".join(H.sig(x * factor("kWh", "energy")) for x in (low, mode, high)) + f" {per_kwh[unit]}"
    if unit == "s":
        return " … ".join(H.sig(x / factor("day", "time")) for x in (low, mode, high)) + " day"
    if unit == "1":
        return " … ".join(H.sig(x) for x in (low, mode, high))
    scale, p = H.prefix(max(abs(x) for x in (low, mode, high)))
    return " … ".join(H.sig(x / scale) for x in (low, mode, high)) + f" {p}{unit}"


def _human_range(s: Swing) -> str:
    return human_range(s.low, s.mode, s.high, s.unit)


# ---------------------------------------------------------------------------
# Sensitivity and Monte Carlo output

def to_json(scenario: str | None, metric: str, swings: list, ranges: Any) -> str:
    """The sensitivity JSON document (SI units, swings largest first)."""
    doc = {
        "schema": SCHEMA,
        "scenario": scenario,
        "metric": metric,
        "unit": U.unit_of(metric),
        "base": swings[0].base if swings else None,
        "method": "one at a time: each ranged input at its low and high end, the others at their modes",
        "swings": [{"rank": i + 1, **s.to_json()} for i, s in enumerate(swings)],
        "not_sampled": [n.to_json() for n in ranges.not_sampled],
    }
    if not swings:
        doc["note"] = U.NO_RANGES.replace("every sample equals the point estimate", "nothing to rank")
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def to_csv(swings: list) -> str:
    """One row per ranged input, SI floats, largest swing first."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["rank", "key", "unit", "low", "mode", "high", "metric", "metric_unit", "base", "at_low", "at_high",
                "swing", "swing_rel"])
    for i, s in enumerate(swings):
        w.writerow([i + 1, s.key, s.unit, *(_num(x) for x in (s.low, s.mode, s.high)), s.metric, s.metric_unit,
                    *(_num(x) for x in (s.base, s.at_low, s.at_high, s.swing, s.swing_rel))])
    return buf.getvalue()


def _num(x: Any) -> str:
    return "" if x is None else repr(float(x))


def _bar(s: Any, widest: float) -> str:
    if s.swing is None or widest <= 0:
        return ""
    n = round(BAR_WIDTH * s.swing / widest)
    return "█" * n if n else ("▏" if s.swing > 0 else "")


def tornado_renderable(scenario: str | None, metric: str, swings: list, ranges: Any, tokens: list | None = None) -> Any:
    """Rich renderables of the ranked swings (the terminal tornado).

    Args:
        scenario: scenario name for the title.
        metric: the metric ranked.
        swings: from `uncertainty.tornado`, largest first.
        ranges: `uncertainty.collect` output (for the not-sampled list).
        tokens: optional swings of tokens_total, summarised under a token-rate tornado.
    """
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    unit = U.unit_of(metric)
    parts: list[Any] = [Text(f"{scenario or 'estimate'}: sensitivity of {metric}", style="bold")]
    if not swings:
        parts.append(Text("No input has a range: nothing to rank. Give a range as { low, mode, high } or "
                          "{ value, rel } in a profile or scenario (e.g. `tokencalc sensitivity default-uncertain`).",
                          style="yellow"))
    else:
        parts.append(Text(f"Base (every input at its mode): {H.quantity(swings[0].base, unit)}. Each input alone at its "
                          "low and high end; inputs without a range have no bar."))
        known = [abs(x) for s in swings for x in (s.at_low, s.at_high) if x is not None]
        scale, prefix = _scale(max(known, default=0.0), unit)
        widest = max((s.swing or 0.0) for s in swings)
        t = Table(title=f"{metric} in {prefix}, largest swing first", title_justify="left", box=box.SIMPLE_HEAVY,
                  header_style="bold")
        t.add_column("#", justify="right")
        t.add_column("input: low … mode … high", overflow="fold", min_width=24, ratio=1)
        for col in ("at low", "at high", "swing", "% base"):
            t.add_column(col, justify="right", no_wrap=True)
        t.add_column("", no_wrap=True, overflow="crop")
        for i, s in enumerate(swings):
            label = Text(s.key)
            label.append("\n" + human_range(s.low, s.mode, s.high, s.unit), style="dim")
            t.add_row(str(i + 1), label, _scaled(s.at_low, scale), _scaled(s.at_high, scale),
                      _scaled(s.swing, scale), "—" if s.swing_rel is None else f"{100 * s.swing_rel:.3g} %",
                      _bar(s, widest))
        parts.append(t)
        top = next((k for k in tokens or [] if k.swing), None)
        if top is not None:
            parts.append(Text(f"Over the horizon the largest swing in tokens is {H.quantity(top.swing, 'token')} tokens "
                              f"({top.key}); `--metric tokens_total` ranks tokens directly.", style="dim"))
    if ranges.not_sampled:
        parts.append(Text("Ranges given but not used", style="bold"))
        for n in ranges.not_sampled:
            parts.append(Text(f"• {n.key}: {n.reason}", style="dim"))
    return Group(*parts)


def _scale(x: float, unit: str) -> tuple[float, str]:
    scale, p = H.prefix(x) if x >= 1e3 else (1.0, "")
    return scale, (f"{p}{unit}" if unit not in ("USD", "token") or not p else f"{p} {unit}")


def _scaled(x: float | None, scale: float) -> str:
    return "—" if x is None else H.sig(x / scale)


def mc_renderable(mc: Any, point: dict[str, Any]) -> Any:
    """Rich renderables of a Monte Carlo result: the percentile band and P(power-bound).

    Args:
        mc: an `uncertainty.MCResult`.
        point: the point estimate's values (`Result.values`), shown beside the band.
    """
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = []
    title = f"Monte Carlo: {mc.samples:,} samples, seed {mc.seed}"
    if not mc.has_ranges:
        parts.append(Text(title, style="bold"))
        parts.append(Text("No input has a range, so every sample equals the point estimate. Give a range as "
                          "{ low, mode, high } or { value, rel } in a profile or scenario "
                          "(e.g. `tokencalc estimate default-uncertain --mc 100000`).", style="yellow"))
    else:
        t = Table(title=title, box=box.SIMPLE_HEAVY, title_justify="left", header_style="bold")
        for col in ("", "P5", "P50", "P95", "point estimate"):
            t.add_column(col, justify="left" if not col else "right")
        labels = {"token_rate_tokens_per_s": "Token rate", "tokens_total": "Tokens over T",
                  "e_tok_j_per_token": "e_tok (IT)", "energy_facility_j": "Facility energy",
                  "cost_usd": "Electricity cost", "emissions_kg_co2e": "Emissions"}
        for key, label in labels.items():
            q, unit = mc.percentiles[key], U.unit_of(key)
            t.add_row(label, *(H.quantity(q[p], unit) for p in ("p5", "p50", "p95")), H.quantity(point.get(key), unit))
        parts.append(t)
        pb = mc.p_power_bound
        parts.append(Text("P(power-bound) = " + ("unknown (a ceiling cannot be computed)" if pb is None else
                                                 f"{100 * pb:.3g} %  (compute-bound {100 * mc.p_compute_bound:.3g} %, "
                                                 f"balanced {100 * mc.p_balanced:.3g} %)"), style="bold"))
        r = Table(title="Ranged inputs (sampled independently, triangular; sources in -f json)", box=box.SIMPLE,
                  title_justify="left", show_header=False)
        r.add_column("", overflow="fold")
        r.add_column("", no_wrap=True)
        for x in mc.ranges.inputs:
            r.add_row(Text(x.key), Text(human_range(x.low, x.mode, x.high, x.unit)))
        parts.append(r)
    for n in mc.ranges.not_sampled:
        parts.append(Text(f"• range not sampled: {n.key}: {n.reason}", style="dim"))
    return Group(*parts)


def mc_latex(mc: Any) -> str:
    """The percentile band as a booktabs table (appended to `estimate -f latex --mc`)."""
    pb = "unknown" if mc.p_power_bound is None else f"{100 * mc.p_power_bound:.3g}\\,\\%"
    lines = [r"\begin{table}[ht]", r"\centering",
             rf"\caption{{Monte Carlo over the ranged inputs: {mc.samples:,} samples, seed {mc.seed}; "
             rf"P(power-bound) = {pb}.{' ' + latex_escape(U.NO_RANGES) + '.' if not mc.has_ranges else ''}}}",
             r"\begin{tabular}{@{}lrrrl@{}}", r"\toprule", r"Quantity & P5 & P50 & P95 & Unit \\", r"\midrule"]
    for key, q in mc.percentiles.items():
        cells = " & ".join(f"${H.latex_number(q[p])}$" if q[p] is not None else "---" for p in ("p5", "p50", "p95"))
        lines.append(f"{latex_escape(key)} & {cells} & {latex_unit(U.unit_of(key))} \\\\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def mc_markdown(mc: Any) -> str:
    """The percentile band as a Markdown table (appended to `estimate -f markdown --mc`)."""
    out = ["", f"**Monte Carlo** ({mc.samples:,} samples, seed {mc.seed}): "
           + (U.NO_RANGES if not mc.has_ranges else
              "P(power-bound) = " + ("unknown" if mc.p_power_bound is None else f"{100 * mc.p_power_bound:.3g} %")),
           "", "| Quantity | P5 | P50 | P95 |", "|---|---|---|---|"]
    for key, q in mc.percentiles.items():
        unit = U.unit_of(key)
        out.append(f"| {key} | " + " | ".join(H.quantity(q[p], unit) for p in ("p5", "p50", "p95")) + " |")
    return "\n".join(out) + "\n"


def mc_csv_columns(mc: Any) -> list[tuple[str, Any]]:
    """Flat (column, SI value) pairs appended to `estimate -f csv --mc`."""
    cols: list[tuple[str, Any]] = [("mc_samples", mc.samples), ("mc_seed", mc.seed),
                                   ("mc_p_power_bound", mc.p_power_bound)]
    for key, q in mc.percentiles.items():
        cols += [(f"mc_{key}_{p}", q[p]) for p in ("p5", "p50", "p95")]
    return cols
