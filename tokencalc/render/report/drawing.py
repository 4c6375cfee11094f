"""The report's charts: drawn in-process, or in a forked child while WeasyPrint imports.

Every chart of an `analysis.appendix.Appendix` (the ceilings, the regime map, the horizon with a
projection, the tornado with ranged inputs) comes from :func:`chart_jobs`, whatever the format:
inline SVG for the HTML and PDF reports, SVG files for Markdown, PDF files for LaTeX.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
from typing import Any, Callable

from ..optional import require

CHART_NAMES = ("ceilings", "regime", "horizon", "tornado")


def chart_jobs(app: Any) -> dict[str, tuple]:
    """The arguments of `charts.render` for each chart the appendix has data for (CHART_NAMES order)."""
    from .sections import horizon_chart_args, metric_label

    v = app.result.values
    jobs: dict[str, tuple] = {
        "ceilings": (v["compute_ceiling_tokens_per_s"], v["power_ceiling_tokens_per_s"], v["token_rate_tokens_per_s"],
                     v["binding"], v["utilization"]),
        "regime": (v["gamma_j_per_flop"], v["gamma_star_j_per_flop"], v["gamma_star_peak_j_per_flop"],
                   v["k_eff_convention"]),
    }
    proj = app.projection
    if proj is not None and proj.t_s.size >= 2:
        jobs["horizon"] = horizon_chart_args(proj)
    if app.mc is not None and app.mc.has_ranges and app.swings:
        jobs["tornado"] = (app.swings, metric_label(app.swings[0].metric), app.swings[0].metric_unit)
    return jobs


def expected_charts(app: Any) -> list[str]:
    """The names of the charts the appendix's data give (decided without drawing, and without importing
    matplotlib: the drawing child imports it, off the PDF's critical path; MissingPieceError without it)."""
    from .. import charts

    if not _installed("matplotlib"):
        charts_module()  # the clean error naming what to install
    return [name for name, args in chart_jobs(app).items() if charts.drawable(name, *args)]


def _installed(name: str) -> bool:
    """Whether `name` can be found (without importing it)."""
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def charts_of(app: Any) -> dict[str, Any]:
    """Every chart of the appendix as inline SVG markup (matplotlib output: our labels and numbers only)."""
    from markupsafe import Markup

    charts = charts_module()
    out = {}
    for name, args in chart_jobs(app).items():
        svg = charts.render(name, "inline", *args)
        if svg:
            out[name] = Markup(svg)
    return out


def chart_files(app: Any, fmt: str) -> dict[str, bytes]:
    """Every chart of the appendix as file bytes ("svg" or "pdf"), by name; a chart without data is absent."""
    charts = charts_module()
    out = {}
    for name, args in chart_jobs(app).items():
        data = charts.render(name, fmt, *args)
        if data is not None:
            out[name] = data if isinstance(data, bytes) else data.encode("utf-8")
    return out


def as_image(svg: Any, alt: str) -> Any:
    """Inline SVG markup as an <img> with a data: URL (WeasyPrint then draws it without running the
    document's CSS cascade over every SVG element: the PDF lays out faster; the drawing is the same)."""
    import base64

    from markupsafe import Markup, escape

    if not svg:
        return svg
    data = base64.b64encode(str(svg).encode("utf-8")).decode("ascii")
    return Markup(f'<img class="chart" alt="{escape(alt)}" src="data:image/svg+xml;base64,{data}">')


def charts_in_background(app: Any) -> Callable[..., dict[str, Any]]:
    """Start drawing every chart of the appendix; call the result to collect them
    (`discard=True` only waits for the drawing to end).

    On Linux, with no other thread running, a forked child draws them (importing
    matplotlib) while the caller imports WeasyPrint: on two cores that saves the
    shorter of the two, about half a second. Anywhere else, and whenever the child
    fails, the charts are drawn in-process when collected. The SVG is identical
    either way.
    """
    if not hasattr(os, "fork") or not sys.platform.startswith("linux") or threading.active_count() > 1:
        return lambda discard=False: {} if discard else charts_of(app)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: draw, send, and leave without running the parent's exit handlers
        code = 1
        try:
            gc.disable()  # it leaves with os._exit: collecting cycles first would be wasted work
            os.close(read_fd)
            data = json.dumps({k: str(v) for k, v in charts_of(app).items()}).encode("utf-8")
            with os.fdopen(write_fd, "wb") as fh:
                fh.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)

    def collect(discard: bool = False) -> dict[str, Any]:
        from markupsafe import Markup

        with os.fdopen(read_fd, "rb") as fh:
            data = fh.read()
        _, status = os.waitpid(pid, 0)  # always reaped: no zombie, whatever happens next
        if discard:
            return {}
        if status != 0 or not data:
            return charts_of(app)  # raises the real error (e.g. no matplotlib) with its message
        return {k: Markup(v) for k, v in json.loads(data).items()}

    return collect


class PendingCharts:
    """Charts drawn in the background, handed out by name when first asked for (the PDF's fetcher asks
    mid-layout, so WeasyPrint parses the document and cascades its styles while the charts are drawn).

    An error while drawing is kept in `.error` (WeasyPrint would turn it into a missing image) for the
    caller to raise; `close()` reaps the drawing child if nothing was asked for.
    """

    def __init__(self, app: Any) -> None:
        self._collect = charts_in_background(app)
        self._drawn: dict[str, Any] | None = None
        self.error: Exception | None = None

    def get(self, name: str) -> bytes | None:
        """The chart as an SVG file's bytes, or None."""
        if self._drawn is None:
            try:
                self._drawn = self._collect()
            except Exception as exc:  # noqa: BLE001 - kept and raised by the caller
                self.error, self._drawn = exc, {}
        svg = self._drawn.get(name)
        return str(svg).encode("utf-8") if svg else None

    def close(self) -> None:
        if self._drawn is None:
            self._drawn = self._collect(discard=True)


def charts_module() -> Any:
    """`render.charts`, after checking matplotlib imports (a clean error naming what to install)."""
    require("matplotlib", "reports' charts")  # fail here with a clear message, not mid-render
    from .. import charts

    return charts
