"""The report's charts: drawn in-process, or in a forked child while WeasyPrint imports."""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any, Callable

from ..optional import require

def charts_of(v: dict[str, Any]) -> dict[str, Any]:
    """The ceilings and regime charts of an estimate's values, as markup."""
    from markupsafe import Markup

    charts = charts_module()
    out = {}
    ceil = charts.ceilings_svg(v["compute_ceiling_tokens_per_s"], v["power_ceiling_tokens_per_s"],
                               v["token_rate_tokens_per_s"], v["binding"], v["utilization"])
    if ceil:
        out["ceilings"] = Markup(ceil)  # matplotlib output: our labels and numbers only, text as paths
    regime = charts.regime_map_svg(v["gamma_j_per_flop"], v["gamma_star_j_per_flop"],
                                   v["gamma_star_peak_j_per_flop"], v["k_eff_convention"])
    if regime:
        out["regime"] = Markup(regime)
    return out


def charts_in_background(values: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    """Start drawing the ceilings and regime charts; call the result to collect them
    (`discard=True` only waits for the drawing to end).

    On Linux, with no other thread running, a forked child draws them (importing
    matplotlib) while the caller imports WeasyPrint: on two cores that saves the
    shorter of the two, about half a second. Anywhere else, and whenever the child
    fails, the charts are drawn in-process when collected. The SVG is identical
    either way.
    """
    if not hasattr(os, "fork") or not sys.platform.startswith("linux") or threading.active_count() > 1:
        return lambda discard=False: {} if discard else charts_of(values)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: draw, send, and leave without running the parent's exit handlers
        code = 1
        try:
            os.close(read_fd)
            data = json.dumps({k: str(v) for k, v in charts_of(values).items()}).encode("utf-8")
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
            return charts_of(values)  # raises the real error (e.g. no matplotlib) with its message
        return {k: Markup(v) for k, v in json.loads(data).items()}

    return collect


def charts_module() -> Any:
    """`render.charts`, after checking matplotlib imports (a clean error naming what to install)."""
    require("matplotlib", "reports' charts")  # fail here with a clear message, not mid-render
    from .. import charts

    return charts


