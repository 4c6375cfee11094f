"""The PDF rendered in a forked child (render.report.child): same bytes, errors, no process left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from tokencalc.analysis.appendix import appendix
from tokencalc.errors import ReportError
from tokencalc.render.report import child
from tokencalc.render.report import pdf as P
from tokencalc.resolve.scenario import Request

needs_fork = pytest.mark.skipif(not child.can_fork(), reason="forks only on Linux, with no other thread")


def python(code: str) -> subprocess.CompletedProcess:
    """`code` run by this Python in a fresh process (its output as text)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def no_child_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@needs_fork
def test_child_hands_input_over_and_output_back():
    big = bytes(range(256)) * 2000  # larger than a pipe's buffer, both ways
    assert child.run(lambda receive: receive()[::-1] * 2, lambda: big) == big[::-1] * 2
    assert no_child_left()


@needs_fork
def test_a_failing_child_gives_none_and_is_reaped():
    assert child.run(lambda receive: b"" + 1, lambda: b"input") is None  # type: ignore[operator]
    assert child.run(lambda receive: os._exit(3), lambda: b"input") is None
    assert no_child_left()


@needs_fork
def test_an_error_preparing_the_input_ends_the_child_and_propagates():
    def given() -> bytes:
        raise ReportError("template error: boom")

    with pytest.raises(ReportError, match="boom"):
        child.run(lambda receive: receive(), given)
    assert no_child_left()


@needs_fork
def test_a_gone_child_does_not_kill_the_cli_with_sigpipe():
    import signal

    previous = signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # as the console script has it (cli.root.main)
    try:
        big = b"x" * 1_000_000  # more than a pipe holds: written after the child has gone
        assert child.run(lambda receive: os._exit(3), lambda: big) is None
        assert signal.getsignal(signal.SIGPIPE) == signal.SIG_DFL  # restored
    finally:
        signal.signal(signal.SIGPIPE, previous)
    assert no_child_left()


def test_no_fork_with_another_thread(monkeypatch):
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert not child.can_fork()
    assert child.run(lambda receive: b"never", lambda: b"") is None


@needs_fork
@pytest.mark.parametrize("scenario", ["default", "default-uncertain"])
def test_pdf_from_the_child_equals_pdf_in_process(monkeypatch, scenario):
    app = appendix(Request(scenario=scenario))
    forked = P.render_pdf(app, argv=["tokencalc", "report"])
    assert no_child_left()
    monkeypatch.setattr(threading, "active_count", lambda: 2)  # no fork: everything in this process
    here = P.render_pdf(app, argv=["tokencalc", "report"])
    assert forked[0][:5] == b"%PDF-" and forked == here


@needs_fork
def test_a_template_error_in_a_pdf_report_is_clean(cli, tmp_path):
    tpl = tmp_path / "tpl"
    tpl.mkdir()
    (tpl / "report.html.j2").write_text("<p>{{ 1 / 0 }}</p>", encoding="utf-8")
    out = tmp_path / "r.pdf"
    run = cli("report", "--template", str(tpl), "-o", str(out))
    assert run.code == 2 and "template error" in run.err and "Traceback" not in run.err
    assert not out.exists()
    assert no_child_left()


@needs_fork
def test_the_pdf_cli_process_imports_neither_weasyprint_nor_matplotlib(tmp_path):
    out = tmp_path / "r.pdf"
    code = ("import sys\nfrom tokencalc.cli import main\n"
            f"try:\n    main(['report', '-o', {str(out)!r}])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('weasyprint', 'matplotlib') if m in sys.modules))")
    proc = python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"  # a child rendered (and another drew the charts)
    assert out.read_bytes()[:5] == b"%PDF-"


LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the soname shortcut is for Linux only")


@LINUX
def test_weasyprint_imports_without_find_library_and_loads_the_same_libraries():
    code = ("import ctypes.util, sys\ncalls = []\noriginal = ctypes.util.find_library\n"
            "ctypes.util.find_library = lambda n: calls.append(n) or original(n)\n"
            "from tokencalc.render.report.pdf import weasyprint_module\nweasyprint_module()\n"
            "from weasyprint.text import ffi\n"
            "print(len(calls), ctypes.util.find_library is not original, ffi.pango is not None, ffi.fontconfig is not None)")
    proc = python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", "True", "True", "True"]  # not asked once; the caller's function is back


@LINUX
def test_when_the_shortcut_fails_weasyprint_imports_as_usual_without_a_banner():
    code = ("import cffi, ctypes.util, sys\nreal = cffi.FFI.dlopen\n"
            "def dlopen(self, name, flags=0):\n"
            "    if ctypes.util.find_library.__name__ == '<lambda>':\n"
            "        raise OSError('not found this way')\n"
            "    return real(self, name, flags)\n"
            "cffi.FFI.dlopen = dlopen\n"
            "from tokencalc.render.report.pdf import weasyprint_module\nw = weasyprint_module()\n"
            "print('ok', w.HTML is not None)")
    proc = python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["ok", "True"]  # WeasyPrint's "could not import" banner was held back


# ---------------------------------------------------------------------------
# The workers forked as the command starts (render/report/workers.py)

from tokencalc.render.report import workers as W  # noqa: E402


def in_process_pdf(monkeypatch, app):
    monkeypatch.setattr(threading, "active_count", lambda: 2)  # no fork: everything in this process
    try:
        return P.render_pdf(app, argv=["tokencalc", "report"])
    finally:
        monkeypatch.undo()


@needs_fork
@pytest.mark.parametrize("scenario", ["default", "default-uncertain"])
def test_workers_started_before_the_analyses_give_the_in_process_bytes(monkeypatch, scenario):
    with W.ReportWorkers(pdf=True) as workers:
        assert workers.started
        app = appendix(Request(scenario=scenario))  # resolved after the fork, as in the CLI
        calls = []
        real = workers.render_pdf
        monkeypatch.setattr(workers, "render_pdf", lambda *a: calls.append(1) or real(*a))
        got = P.render_pdf(app, argv=["tokencalc", "report"], workers=workers)
    assert calls == [1] and no_child_left()
    assert got[0][:5] == b"%PDF-" and got == in_process_pdf(monkeypatch, app)


@needs_fork
@pytest.mark.parametrize("broken", ["_draw", "_layout"])
def test_a_failing_worker_leaves_the_render_to_the_caller(monkeypatch, broken):
    app = appendix(Request())
    monkeypatch.setattr(W, broken, lambda *a: os._exit(3))  # set before the fork: that worker fails at once
    with W.ReportWorkers(pdf=True) as workers:
        assert workers.started
        done = workers.render_pdf({}, P.template_folder(None), "<p>no chart</p>")
        assert (done is None) == (broken == "_layout")  # a document without charts needs no chart worker
    with W.ReportWorkers(pdf=True) as workers:
        got = P.render_pdf(app, argv=["tokencalc", "report"], workers=workers)  # rendered without them
    assert no_child_left()
    assert got == in_process_pdf(monkeypatch, app)


@needs_fork
def test_leaving_early_ends_the_workers_at_once():
    import time

    start = time.perf_counter()
    with pytest.raises(RuntimeError):
        with W.ReportWorkers(pdf=True) as workers:
            assert workers.started
            raise RuntimeError("bad input")  # as a resolve error would
    assert no_child_left() and time.perf_counter() - start < 2


@needs_fork
def test_the_cli_starts_the_workers_for_every_format(monkeypatch, cli, tmp_path):
    started = []
    real = W.ReportWorkers.__init__
    monkeypatch.setattr(W.ReportWorkers, "__init__", lambda self, pdf: started.append(pdf) or real(self, pdf))
    for name in ("r.md", "r.html", "r.tex", "r.pdf"):
        assert cli("report", "-o", str(tmp_path / name)).code == 0
    assert started == [False, False, False, True]
    assert (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-" and no_child_left()
    run = cli("report", "--pue", "0.5", "-o", str(tmp_path / "bad.pdf"))  # a bad input after the fork
    assert run.code == 2 and not (tmp_path / "bad.pdf").exists() and no_child_left()


@needs_fork
@pytest.mark.parametrize("suffix", ["html", "md", "tex"])
def test_charts_from_the_worker_equal_charts_drawn_here(monkeypatch, suffix, tmp_path):
    from tokencalc.render.report.files import render_files

    app = appendix(Request(scenario="default-uncertain"))  # four charts: ceilings, regime, tornado (+ none)
    with W.ReportWorkers(pdf=False) as workers:
        assert workers.started
        forked = render_files(app, tmp_path / f"r.{suffix}", argv=["tokencalc"], workers=workers)
    assert no_child_left()
    here = render_files(app, tmp_path / f"r.{suffix}", argv=["tokencalc"])
    assert forked == here and len(here[0]) >= (1 if suffix == "html" else 3)


@needs_fork
def test_a_failing_chart_worker_leaves_the_charts_to_the_caller(monkeypatch, tmp_path):
    from tokencalc.render.report.files import render_files

    app = appendix(Request())
    monkeypatch.setattr(W, "_draw", lambda *a: os._exit(3))
    with W.ReportWorkers(pdf=False) as workers:
        assert workers.charts({"ceilings": ("svg", ())}) is None
    with W.ReportWorkers(pdf=False) as workers:
        forked = render_files(app, tmp_path / "r.md", argv=["tokencalc"], workers=workers)
    assert no_child_left()
    assert forked == render_files(app, tmp_path / "r.md", argv=["tokencalc"])
