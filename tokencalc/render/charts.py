"""Report charts (matplotlib, imported lazily; no pyplot and no GUI backend): inline SVG for the
HTML and PDF reports, SVG files for Markdown, PDF files for LaTeX.

Deterministic by construction: a fixed SVG hash salt (the ids matplotlib derives
for clip paths), no date in the metadata (SVG and PDF). Inline text stays text
(`svg.fonttype = none`, DejaVu Sans): the PDF keeps it searchable, and WeasyPrint
draws it several times faster than glyph paths; matplotlib escapes it (&, <, >),
so no string can become markup. SVG files carry glyphs as paths (they render the
same without the font). Labels typeset the model's symbols (K_eff / c_tok with
subscripts) as mathtext. Each chart's ids get a per-chart prefix so several SVGs
can sit in one HTML page. The charts carry only our own labels and
numbers; profile text stays in the document, where it is escaped.
"""

from __future__ import annotations

import io
import math
import re
from typing import Any, Sequence

from ..units import factor

SVG_SALT = "tokencalc"
# Colours (colour-blind safe, print well in greyscale: dark = binding).
BINDING = "#1b4f72"
OTHER = "#a9c4d9"
REALIZED = "#c0392b"
COMPUTE_REGION = "#eaf2f8"
POWER_REGION = "#fdf2e9"
WIDTH_IN = 6.3  # fits an A4 or US-letter text block at 100 %

_RC = {
    "svg.hashsalt": SVG_SALT,
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 9,
    "axes.labelsize": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "path.simplify": True,
}


# The model's symbols as mathtext (the one place chart labels typeset them).
K_CEILING = r"$K_\mathrm{eff}/c_\mathrm{tok}$"
P_CEILING = r"$P_\mathrm{IT}/e_\mathrm{tok}$"
GAMMA = r"$\gamma = e_\mathrm{tok}/c_\mathrm{tok}$"
GAMMA_STAR = r"$\gamma^* = P_\mathrm{IT}/K_\mathrm{eff}$"
FORMATS = ("inline", "svg", "pdf")  # inline SVG for HTML, an SVG file (glyphs as paths), a PDF file
PREFIX = {"ceilings": "ceil", "regime": "regime", "horizon": "horizon", "tornado": "tornado"}


def _figure(height_in: float, left: float, right: float, bottom: float, top: float) -> Any:
    """A figure with no canvas attached yet (no pyplot: faster import, no global state).

    Margins are fixed fractions: constrained layout would cost as much as the drawing.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, height_in))
    fig.subplots_adjust(left=left, right=right, bottom=bottom, top=top)
    return fig


def _save(fig: Any, fmt: str, name: str) -> str | bytes:
    """The figure as inline SVG markup (str), or as the bytes of an SVG or PDF file."""
    if fmt == "pdf":
        from matplotlib.backends.backend_pdf import FigureCanvasPdf

        FigureCanvasPdf(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="pdf", metadata={"CreationDate": None, "ModDate": None})
        return buf.getvalue()
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    FigureCanvasSVG(fig)
    text = io.StringIO()
    fig.savefig(text, format="svg", metadata={"Date": None})
    if fmt == "svg":
        return text.getvalue().encode("utf-8")
    return inline(text.getvalue(), PREFIX.get(name, name))


def _can_ceilings(compute: Any, power: Any, *_: Any, **__: Any) -> bool:
    return compute is not None or power is not None


def _can_regime(gamma: Any, gamma_star: Any, gamma_star_peak: Any, *_: Any) -> bool:
    stars = [g for g in (gamma_star, gamma_star_peak) if g is not None]
    return gamma is not None and gamma > 0 and bool(stars) and all(g > 0 for g in stars)


def _can_horizon(t_days: Sequence[float], *_: Any) -> bool:
    return len(t_days) >= 2


def _can_tornado(swings: Sequence[Any], *_: Any) -> bool:
    return any(s.swing is not None for s in swings)


_CAN = {"ceilings": _can_ceilings, "regime": _can_regime, "horizon": _can_horizon, "tornado": _can_tornado}


def drawable(name: str, *args: Any, **kwargs: Any) -> bool:
    """Whether :func:`render` draws chart `name` from these arguments (decided without matplotlib)."""
    return _CAN[name](*args, **kwargs)


def render(name: str, fmt: str, *args: Any, **kwargs: Any) -> str | bytes | None:
    """Draw chart `name` ("ceilings", "regime", "horizon", "tornado") in `fmt` (see FORMATS).

    Returns:
        Inline SVG markup (str) or file bytes; None when the data give no chart.
    """
    if fmt not in FORMATS:
        raise ValueError(f"chart format {fmt!r}: expected one of {', '.join(FORMATS)}")
    builder = {"ceilings": ceilings_figure, "regime": regime_figure, "horizon": horizon_figure,
               "tornado": tornado_figure}[name]
    with _context(fmt):
        fig = builder(*args, **kwargs)
        return None if fig is None else _save(fig, fmt, name)


_PROLOG = re.compile(r"^.*?(?=<svg\b)", re.S)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(href="#|url\(#)([^")]+)')


def inline(svg: str, prefix: str) -> str:
    """Strip the XML prolog and prefix every id (and reference) so charts can share a page."""
    svg = _PROLOG.sub("", svg, count=1)
    svg = _METADATA.sub("", svg, count=1)
    svg = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = _REF.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)
    # The PDF report's compact face first (WeasyPrint embeds it fast); browsers fall back to DejaVu Sans.
    svg = svg.replace("font-family: 'DejaVu Sans'", "font-family: 'tokencalc Sans', 'DejaVu Sans'")
    # Scale with the text block (the viewBox keeps the aspect ratio).
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 class="chart"', svg, count=1)
    return svg.strip() + "\n"


def _context(fmt: str = "inline") -> Any:
    import matplotlib

    return matplotlib.rc_context({**_RC, "svg.fonttype": "none" if fmt == "inline" else "path",
                                  "pdf.fonttype": 42, "mathtext.fontset": "dejavusans"})


def _fmt(x: float, unit: str) -> str:
    from .humanize import si

    return si(x, unit)


def _plain(text: str) -> str:
    """Text that matplotlib must not read as mathtext (a `$` in a caption)."""
    return text.replace("$", r"\$")


def ceilings_svg(compute: float | None, power: float | None, realized: float | None,
                 binding: str | None, utilization: float | None, *, label: str = "") -> str | None:
    """Horizontal bars: the compute and power ceilings and the realized rate (token/s), as inline SVG.

    Args:
        compute: compute ceiling K_eff / c_tok.
        power: power ceiling P_IT / e_tok.
        realized: U · min(ceilings).
        binding: "compute", "power", "balanced" or None (which bar is drawn dark).
        utilization: U, shown in the realized bar's label.
        label: optional caption text drawn in the chart (escaped by matplotlib).

    Returns:
        The SVG markup, or None when neither ceiling is known.
    """
    out = render("ceilings", "inline", compute, power, realized, binding, utilization, label=label)
    return None if out is None else str(out)


def ceilings_figure(compute: float | None, power: float | None, realized: float | None,
                    binding: str | None, utilization: float | None, *, label: str = "") -> Any:
    """The ceilings chart as a Figure (see :func:`ceilings_svg`); None when neither ceiling is known."""
    if not _can_ceilings(compute, power):
        return None
    rows = []
    if compute is not None:
        dark = binding in ("compute", "balanced")
        rows.append((f"Compute ceiling\n{K_CEILING}", compute, BINDING if dark else OTHER))
    if power is not None:
        rows.append((f"Power ceiling\n{P_CEILING}", power, BINDING if binding in ("power", "balanced") else OTHER))
    if realized is not None:
        u = "" if utilization is None else f"\nU = {utilization * 100:.3g} %"
        rows.append((f"Realized rate{u}", realized, REALIZED))
    height = 0.45 * len(rows) + 0.7
    fig = _figure(height, 0.17, 0.97, 0.5 / height, 1 - (0.3 if label else 0.1) / height)
    ax = fig.add_subplot()
    ys = list(range(len(rows)))[::-1]
    top = max(v for _, v, _ in rows)
    ax.barh(ys, [v for _, v, _ in rows], color=[c for _, _, c in rows], height=0.62, zorder=2)
    for y, (_, v, _) in zip(ys, rows):
        ax.text(v + top * 0.01, y, _fmt(v, "token/s"), va="center", ha="left", fontsize=8, zorder=3)
    ax.set_yticks(ys, [name for name, _, _ in rows])
    ax.set_xlim(0, top * 1.22)
    ax.set_xlabel("tokens per second")
    ax.xaxis.set_major_formatter(_si_formatter(""))
    ax.grid(axis="x", color="#dddddd", linewidth=0.6, zorder=0)
    ax.tick_params(axis="y", length=0)
    if label:
        ax.set_title(_plain(label), loc="left")
    return fig


def _si_formatter(unit: str) -> Any:
    from matplotlib.ticker import FuncFormatter

    def fmt(x: float, _pos: Any) -> str:
        if x == 0:
            return "0"
        return _fmt(x, unit)

    return FuncFormatter(fmt)


def regime_map_svg(gamma: float | None, gamma_star: float | None, gamma_star_peak: float | None,
                   convention: str | None) -> str | None:
    """γ against γ* on log axes, the boundary γ = γ*, the scenario under both K_eff conventions (inline SVG).

    Above the diagonal (γ > γ*) delivered power binds; below it compute binds.

    Args:
        gamma: e_tok / c_tok (J/FLOP).
        gamma_star: P_IT / K_eff under the reported convention (J/FLOP).
        gamma_star_peak: P_IT / K_peak (J/FLOP).
        convention: name of the reported K_eff convention ("realized", "modeled", ...).

    Returns:
        The SVG markup, or None when γ or both γ* are unknown.
    """
    out = render("regime", "inline", gamma, gamma_star, gamma_star_peak, convention)
    return None if out is None else str(out)


def regime_figure(gamma: float | None, gamma_star: float | None, gamma_star_peak: float | None,
                  convention: str | None) -> Any:
    """The regime map as a Figure (see :func:`regime_map_svg`); None when it cannot be drawn."""
    # Legend entries in plain text (the caption names K_eff and K_peak): each mathtext line is drawn glyph by glyph.
    points = [(gs, name) for gs, name in ((gamma_star, f"{convention or 'reported'} convention"),
                                          (gamma_star_peak, "peak denominator")) if gs is not None]
    if not _can_regime(gamma, gamma_star, gamma_star_peak):
        return None
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    pj = 1e12  # axes in pJ/FLOP: readable tick labels
    xs = [gs * pj for gs, _ in points] + [gamma * pj]
    lo = 10.0 ** math.floor(math.log10(min(xs)) - 0.5)  # floats: matplotlib cannot check huge ints
    hi = 10.0 ** math.ceil(math.log10(max(xs)) + 0.5)
    fig = _figure(3.1, 0.1, 0.5, 0.14, 0.97)
    ax = fig.add_subplot()
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.fill_between([lo, hi], [lo, hi], [hi, hi], color=POWER_REGION, zorder=0, linewidth=0)
    ax.fill_between([lo, hi], [lo, lo], [lo, hi], color=COMPUTE_REGION, zorder=0, linewidth=0)
    ax.plot([lo, hi], [lo, hi], color="#555555", linewidth=1.0, linestyle="--", zorder=1,
            label="boundary γ = γ*")
    # Mathtext only where a subscript needs it: each mathtext line is drawn glyph by glyph.
    ax.text(lo * 1.6, hi / 1.6, "power-bound  (γ > γ*)", ha="left", va="top", fontsize=8, color="#a04000")
    ax.text(hi / 1.6, lo * 1.6, "compute-bound  (γ < γ*)", ha="right", va="bottom", fontsize=8, color=BINDING)
    markers = {0: ("o", BINDING), 1: ("s", "#7f8c8d")}
    for i, (gs, name) in enumerate(points):
        mk, col = markers[i]
        ax.plot([gs * pj], [gamma * pj], marker=mk, color=col, markersize=7, linestyle="none", zorder=3,
                label=f"{name}: γ* = {_fmt(gs, 'J/FLOP')}")
    if len(points) == 2:
        ax.annotate("", xy=(points[0][0] * pj, gamma * pj), xytext=(points[1][0] * pj, gamma * pj),
                    arrowprops={"arrowstyle": "->", "color": "#7f8c8d", "linewidth": 0.8}, zorder=2)
    # Symbols only in the (mathtext) axis labels; the unit is in the legend title.
    ax.set_xlabel(GAMMA_STAR)
    ax.set_ylabel(GAMMA)
    ax.set_aspect("equal", adjustable="box")
    # Decade ticks as plain numbers (no minor ticks, no mathtext): lighter SVG, faster PDF.
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(LogLocator(base=10, numticks=12))
        axis.set_minor_locator(NullLocator())
        axis.set_major_formatter(FuncFormatter(lambda x, _p: f"{x:g}"))
    ax.legend(loc="center left", bbox_to_anchor=(1.04, 0.5), alignment="left",
              title=f"axes in pJ/FLOP\nscenario: γ = {_fmt(gamma, 'J/FLOP')}")
    return fig


def horizon_svg(t_days: Sequence[float], rate: Sequence[float | None], compute: Sequence[float | None],
                power: Sequence[float | None], switch_days: Sequence[float] = (),
                start_date: str | None = None) -> str | None:
    """Token rate and both ceilings over the horizon, with the regime switch dates (inline SVG).

    Args:
        t_days: sample times in days from the start.
        rate: realized token rate at each time (token/s).
        compute: compute ceiling at each time (token/s).
        power: power ceiling at each time (token/s).
        switch_days: times (days) at which the binding constraint changes.
        start_date: ISO date of t = 0, for the axis label.

    Returns:
        The SVG markup, or None when there are fewer than two samples.
    """
    out = render("horizon", "inline", t_days, rate, compute, power, switch_days, start_date)
    return None if out is None else str(out)


def _time_axis(t_days: Sequence[float], start_date: str | None) -> tuple[list[float], str]:
    """Long horizons read in years (calendar years with a start date)."""
    xs, xlabel = list(t_days), "days from " + (start_date or "the start")
    year = factor("year", "time") / factor("day", "time")  # days per (Julian) year
    if t_days[-1] > 2 * year:
        if start_date:
            import datetime as _dt

            d0 = _dt.date.fromisoformat(start_date)
            origin = d0.year + (d0.timetuple().tm_yday - 1) / year
            xs, xlabel = [origin + d / year for d in t_days], "year"
        else:
            xs, xlabel = [d / year for d in t_days], "years from the start"
    return xs, xlabel


def horizon_figure(t_days: Sequence[float], rate: Sequence[float | None], compute: Sequence[float | None],
                   power: Sequence[float | None], switch_days: Sequence[float] = (),
                   start_date: str | None = None) -> Any:
    """The horizon chart as a Figure (see :func:`horizon_svg`); None with fewer than two samples."""
    if not _can_horizon(t_days):
        return None

    def clean(ys: Sequence[float | None]) -> list[float]:
        return [math.nan if y is None else float(y) for y in ys]

    # Ceilings that grow by more than 20x go on a log axis, where compound growth is a straight line.
    xs, xlabel = _time_axis(t_days, start_date)
    to_x = dict(zip(t_days, xs))
    positive = [y for ys in (rate, compute, power) for y in ys if y]
    log_y = bool(positive) and max(positive) / min(positive) > 20
    fig = _figure(2.6, 0.1, 0.66, 0.17, 0.96)
    ax = fig.add_subplot()
    ax.plot(xs, clean(compute), color=BINDING, linewidth=1.2, label=f"compute ceiling {K_CEILING}")
    ax.plot(xs, clean(power), color="#d35400", linewidth=1.2, linestyle="--", label=f"power ceiling {P_CEILING}")
    ax.plot(xs, clean(rate), color=REALIZED, linewidth=1.8, label=r"realized rate $U\cdot\min(\ldots)$")
    for i, d in enumerate(switch_days):
        x = to_x.get(d, xs[0] + (d - t_days[0]) * (xs[-1] - xs[0]) / (t_days[-1] - t_days[0]))
        ax.axvline(x, color="#555555", linewidth=0.8, linestyle=":", zorder=1,
                   label="binding constraint switches" if i == 0 else None)
    ax.set_xlim(xs[0], xs[-1])
    if log_y:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(_si_formatter(""))
    ax.set_ylabel("tokens per second" + (" (log scale)" if log_y else ""))
    ax.set_xlabel(xlabel)
    ax.grid(color="#dddddd", linewidth=0.6)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def tornado_figure(swings: Sequence[Any], metric_label: str, unit: str) -> Any:
    """The tornado of the report: the metric with each ranged input at its low and high end.

    Args:
        swings: `analysis.uncertainty.Swing`s, largest first (those without a swing are skipped).
        metric_label: the metric in words ("Realized rate"); `unit` its SI unit (token/s).

    Returns:
        A Figure, or None when no swing can be drawn.
    """
    from .humanize import prefix as si_prefix
    from .uncertainty import human_range

    if not _can_tornado(swings):
        return None
    drawn = [s for s in swings if s.swing is not None]
    base = drawn[0].base or 0.0
    scale, p = si_prefix(max(abs(x) for s in drawn for x in (s.at_low, s.at_high, base)))
    n = len(drawn)
    height = 1.15 + 0.42 * n
    fig = _figure(height, 0.4, 0.97, 0.7 / height, 1 - 0.4 / height)
    ax = fig.add_subplot()
    for i, s in enumerate(drawn):
        y = n - 1 - i
        for value, color, label in ((s.at_low, "#4c78a8", "input at its low end"),
                                    (s.at_high, "#f58518", "input at its high end")):
            ax.barh(y, abs(value - base) / scale, left=min(value, base) / scale, height=0.6, color=color,
                    label=label if i == 0 else None, zorder=2)
        if s.swing == 0:
            ax.annotate("no effect", (base / scale, y), xytext=(6, 0), textcoords="offset points",
                        va="center", fontsize=7.5, color="#666666")
    ax.axvline(base / scale, color="black", linewidth=0.8, zorder=3)
    ax.set_yticks(range(n), [f"{s.key}\n{human_range(s.low, s.mode, s.high, s.unit)}" for s in reversed(drawn)])
    ax.tick_params(axis="y", length=0, labelsize=7.5)
    ax.set_xlabel(f"{metric_label} [{p}{unit}]\nline: all inputs at their modes ({_fmt(base, unit)})")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6, zorder=0)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, fontsize=7)
    return fig
