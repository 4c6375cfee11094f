"""A report's workers, forked as the command starts, before the scenario resolves.

A chart worker imports matplotlib and then draws the charts it is sent; for a PDF a layout worker
imports WeasyPrint and then lays out the HTML it is sent, taking the charts straight from the chart
worker (it asks for them mid-layout); for HTML, LaTeX and Markdown the charts come back to the
command. The imports (0.2-0.3 s each) thus overlap the resolution and the analyses instead of
following them. The bytes are those of an in-process render (the same code draws and lays out).
Whenever a worker fails, the caller is told (None) and renders in-process as before, which raises
the real error; leaving the `with` block early (bad input, Ctrl-C) ends the workers at once.
Only on Linux with no other thread running (`child.can_fork`).
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import signal
from pathlib import Path
from typing import Any, Callable

from . import child

PIPE_BYTES = 1 << 20  # the HTML (~80 kB) and the chart jobs fit: sending never waits for a worker's import


class ReportWorkers:
    """The chart worker (and for a PDF the layout worker) of one report; a context manager.

    `started` says whether they run. Chart jobs are `{name: (format, args)}`, `format` as
    `charts.render` takes it ("inline", "svg", "pdf") and `args` its arguments.
    """

    def __init__(self, pdf: bool) -> None:
        self.started, self.pdf = False, pdf
        self._pids: list[int] = []
        self._fds: list[int] = []
        if not child.can_fork():
            return
        jobs_r, self._jobs_w = _pipe()
        charts_r, charts_w = _pipe()
        theirs = [jobs_r, charts_r, charts_w]
        self._fds = [self._jobs_w]
        if pdf:
            html_r, self._html_w = _pipe()
            self._out_r, pdf_w = os.pipe()
            self._fds += [self._html_w, self._out_r]
            theirs += [html_r, pdf_w]
            self._pids.append(_fork(lambda: _layout(html_r, pdf_w, charts_r), keep={html_r, pdf_w, charts_r},
                                    close=self._fds + theirs))
        else:
            self._out_r = charts_r  # the charts come back here
            theirs.remove(charts_r)
            self._fds.append(charts_r)
        self._pids.append(_fork(lambda: _draw(jobs_r, charts_w), keep={jobs_r, charts_w}, close=self._fds + theirs))
        for fd in theirs:
            os.close(fd)
        self.started = True

    def charts(self, jobs: dict[str, tuple]) -> dict[str, Any] | None:
        """The charts `jobs` asks for, drawn by the chart worker (name -> str or bytes, as
        `charts.render` returns them; a chart without data is absent); None if it failed."""
        if not self.started or self.pdf:
            return None
        try:
            child.send(self._jobs_w, pickle.dumps(jobs))
            self._fds.remove(self._jobs_w)
            data = self._collect()
            ok = os.waitpid(self._pids.pop(), 0)[1] == 0
        finally:
            self.close()
        return pickle.loads(data) if ok and data else None

    def render_pdf(self, jobs: dict[str, tuple], folder: Path, html: str) -> tuple[bytes, list[str]] | None:
        """The PDF of `html` with the charts `jobs`, and the URLs the fetcher refused; None when a
        worker failed (render in-process to see why)."""
        if not self.started or not self.pdf:
            return None
        try:
            child.send(self._jobs_w, pickle.dumps(jobs))
            head = json.dumps({"folder": str(folder), "charts": sorted(jobs)}).encode("utf-8")
            child.send(self._html_w, head + b"\n" + html.encode("utf-8"))
            self._fds = [self._out_r]
            data = self._collect()
            layout, drawing = self._pids
            ok = os.waitpid(layout, 0)[1] == 0  # it checked the charts it used
            self._pids = [drawing]  # ended below if it still waits (the template showed no chart)
        finally:
            self.close()
        if not ok or b"\n" not in data:
            return None
        head_raw, pdf = data.split(b"\n", 1)
        return pdf, list(json.loads(head_raw))

    def _collect(self) -> bytes:
        fd = self._out_r
        self._fds.remove(fd)
        return _read(fd)

    def close(self) -> None:
        """End the workers that still run and reap them; close this side's pipes."""
        for fd in self._fds:
            os.close(fd)
        self._fds = []
        for pid in self._pids:
            child.end(pid)
        self._pids = []

    def __enter__(self) -> "ReportWorkers":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def report_workers(kind: str) -> ReportWorkers:
    """The workers of a report written as `kind` ("pdf", "html", "tex", "md")."""
    return ReportWorkers(pdf=kind == "pdf")


def _pipe() -> tuple[int, int]:
    r, w = os.pipe()
    try:
        import fcntl

        fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass  # a smaller pipe only makes sending wait for the worker
    return r, w


def _fork(work: Callable[[], None], *, keep: set[int], close: list[int]) -> int:
    """Fork a worker that runs `work()` and leaves with `os._exit` (status 0 only if it returned)."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        gc.disable()  # it leaves with os._exit: collecting cycles would be wasted work
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the command, which ends the workers
        for fd in close:
            if fd not in keep:
                os.close(fd)
        work()
        code = 0
    finally:
        os._exit(code)


def _read(fd: int) -> bytes:
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


def _layout(html_r: int, pdf_w: int, charts_r: int) -> None:
    """The layout worker: import WeasyPrint, then render what arrives; the charts come from the other."""
    from .pdf import html_to_pdf, weasyprint_module

    weasyprint_module()
    message = _read(html_r)
    if b"\n" not in message:
        raise SystemExit(1)  # the command ended before the report
    head_raw, html = message.split(b"\n", 1)
    head = json.loads(head_raw)
    drawn: dict[str, str] = {}
    failed: list[str] = []

    def chart(name: str) -> bytes | None:
        if not drawn and not failed:
            try:
                drawn.update(pickle.loads(_read(charts_r)))
            except Exception:  # noqa: BLE001 - nothing, or a truncated message: the chart worker failed
                pass
            if set(drawn) != set(head["charts"]):
                failed.append("the chart worker failed")
        svg = drawn.get(name)
        return svg.encode("utf-8") if svg else None

    pdf, blocked = html_to_pdf(html.decode("utf-8"), Path(head["folder"]), chart)
    if failed:
        raise SystemExit(1)  # the caller draws in-process and shows the real error
    with os.fdopen(pdf_w, "wb") as fh:
        fh.write(json.dumps(blocked).encode("utf-8") + b"\n" + pdf)


def _draw(jobs_r: int, charts_w: int) -> None:
    """The chart worker: import matplotlib, then draw the jobs that arrive."""
    import matplotlib.backends.backend_svg  # noqa: F401 - what drawing needs, imported before the jobs arrive
    import matplotlib.figure  # noqa: F401

    from .drawing import charts_module

    charts = charts_module()
    raw = _read(jobs_r)
    if not raw:
        raise SystemExit(1)
    out = {}
    for name, (fmt, args) in pickle.loads(raw).items():
        drawn = charts.render(name, fmt, *args)
        if drawn:
            out[name] = str(drawn) if fmt == "inline" else drawn
    with os.fdopen(charts_w, "wb") as fh:
        fh.write(pickle.dumps(out))
