"""Reports: content, escaping, the confined fetcher, determinism across processes, file safety."""

from __future__ import annotations

import base64
import importlib.abc
import importlib.machinery
import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tokencalc import fileio
from tokencalc.render import report as R
from tokencalc.render.report import drawing as D
from tokencalc.analysis.appendix import appendix
from tokencalc.core import estimate
from tokencalc.resolve.scenario import Request, resolve

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def pdf_text(path: Path) -> str:
    """All text of a PDF (pypdf)."""
    from pypdf import PdfReader

    text = "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
    return " ".join(text.split())  # line breaks fall anywhere


def embedded_files(path: Path) -> list:
    """Names of files embedded in a PDF (the /EmbeddedFiles name tree and file-attachment annotations)."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    names = reader.trailer["/Root"].get("/Names")
    out = []
    if names is not None and "/EmbeddedFiles" in names.get_object():
        out.append("/EmbeddedFiles")
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            if annot.get_object().get("/Subtype") == "/FileAttachment":
                out.append("/FileAttachment")
    return out


class Listener:
    """A loopback TCP listener that records every connection (bounded: stops on close)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.hits: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(0.5)
                try:
                    self.hits.append(conn.recv(1024) or b"(connected)")
                except OSError:
                    self.hits.append(b"(connected)")

    def close(self) -> list[bytes]:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()
        return self.hits


@pytest.fixture
def listener():
    lst = Listener()
    yield lst
    lst.close()


# ---------------------------------------------------------------------------
# The default report

def test_html_default_report_content(cli, tmp_path):
    out = tmp_path / "r.html"
    run = cli("report", "-o", str(out))
    assert run.code == 0, run.err
    assert f"wrote {out}" in run.err
    html = out.read_text(encoding="utf-8")
    # finding, binding constraint, J/token, gamma
    assert "Compute-bound (realized K<sub>eff</sub>)" in html
    assert "compute-bound" in html and "5.46 J/token" in html
    assert "γ = 41.1 pJ/FLOP &lt; γ* = 116 pJ/FLOP" in html
    # operating point from the workload: MMLU 63.4 ± 1, TPOT 100 ms, batch 64, context 2,048
    assert "mmlu" in html and "± 1.00" in html and "100 ms" in html and "2,048 tokens" in html
    # two charts inline, self-contained: no external reference of any kind
    assert html.count("<svg ") == 2
    assert "<link" not in html and "<img" not in html and "<script" not in html
    # checklist: six items, computed (the default has no prefill/decode split)
    assert html.count('class="status"') == 6
    assert "Missing: prefill/decode split" in html
    # provenance: every input, humanised, with its source
    res = resolve(Request())
    for key in estimate(res.inputs).to_json()["inputs"]:
        assert f'<code class="key">{R.templates.key_markup(key)}</code>' in html
    assert "0.0806 USD/kWh" in html and "365 days" in html
    # BibTeX with stable keys; reproducibility footer with the hashes of every input file
    assert "@misc{touvron2023llama," in html and "@misc{samsi2023words," in html
    for prof in res.profiles():
        assert prof.sha256 in html
    assert f"tokencalc report --output {out}" in html
    assert "No date is printed" in html


def test_pdf_text_and_no_attachments(cli, tmp_path):
    out = tmp_path / "r.pdf"
    run = cli("report", "-o", str(out), "--paper", "letter")
    assert run.code == 0, run.err
    assert out.read_bytes()[:5] == b"%PDF-"
    text = pdf_text(out)
    for needle in ("compute-bound", "J/token", "γ", "γ*", "Disclosure checklist", "Provenance", "Page 1 of"):
        assert needle in text, needle
    assert embedded_files(out) == []
    from pypdf import PdfReader

    box = PdfReader(str(out)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)  # US letter in points


def _render_in_fresh_process(folder: Path, name: str) -> bytes:
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    proc = subprocess.run([PY, "-m", "tokencalc", "report", "-o", name], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return (folder / name).read_bytes()


@pytest.mark.parametrize("name", ["report.html", "report.pdf"])
def test_two_processes_give_identical_bytes(tmp_path, name):
    a = _render_in_fresh_process(tmp_path / "a", name)
    b = _render_in_fresh_process(tmp_path / "b", name)
    assert len(a) > 10_000
    assert a == b


# ---------------------------------------------------------------------------
# Hostile text and the confined fetcher

def hostile_profiles(tmp_path: Path, port: int) -> Path:
    """A scenario and a workload whose names, notes and sources carry markup aimed at a loopback port."""
    evil = (f'<img src="http://127.0.0.1:{port}/img.png"> <script>alert(1)</script> '
            f'<link rel="stylesheet" href="http://127.0.0.1:{port}/style.css"> '
            f'<link rel="attachment" href="file:///etc/hostname"> }} \\ %')
    root = tmp_path / "profiles"
    (root / "scenarios").mkdir(parents=True)
    (root / "workloads").mkdir()
    wl = (ROOT / "profiles" / "workloads" / "dense-65b-fp16.toml").read_text(encoding="utf-8")
    wl = re.sub(r'^name = .*$', f"name = '''{evil}'''", wl, count=1, flags=re.M)
    wl = re.sub(r'^notes = """', lambda m: 'notes = """' + evil.replace("\\", "\\\\") + "\n", wl, count=1, flags=re.M)
    wl = wl.replace('"model.bytes_per_param" = "FP16 weights: 2 bytes per parameter"',
                    f"\"model.bytes_per_param\" = '''{evil}'''")
    (root / "workloads" / "evil-wl.toml").write_text(wl, encoding="utf-8")
    (root / "scenarios" / "evil.toml").write_text(f'''kind = "scenario"
name = \'\'\'{evil}\'\'\'
description = \'\'\'{evil}\'\'\'
hardware = "h100-sxm"
devices = 1000
facility = "industry-average"
workload = "evil-wl"
utilization = 0.7
horizon = "365 day"

[sources]
devices = \'\'\'{evil}\'\'\'
utilization = {{ title = \'\'\'{evil}\'\'\', author = "Mallory <b>", year = "2024", url = "javascript:alert(1)", note = \'\'\'{evil}\'\'\' }}
''', encoding="utf-8")
    return root


def test_hostile_profile_text_is_escaped_and_fetches_nothing(cli, tmp_path, listener):
    root = hostile_profiles(tmp_path, listener.port)
    html_out, pdf_out = tmp_path / "evil.html", tmp_path / "evil.pdf"
    assert cli("report", "evil", "--profiles", str(root), "-o", str(html_out)).code == 0
    run = cli("report", "evil", "--profiles", str(root), "-o", str(pdf_out))
    assert run.code == 0, run.err
    html = html_out.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "workload evil-wl:</span> &lt;img src=" in html  # the workload's notes, as text
    assert "&lt;img src=" in html and "&lt;link rel=" in html
    for tag in ("<script", "<img", "<link", 'href="javascript:'):
        assert tag not in html, tag
    # BibTeX: braces and backslashes from a profile cannot close a field
    bib = re.search(r'<pre class="bibtex">(.*?)</pre>', html, re.S).group(1)
    assert r"\textbraceright{}" in bib and r"\textbackslash{}" in bib
    assert bib.count("{") == bib.count("}")  # BibTeX counts every brace: a profile cannot unbalance them
    assert "not fetched" not in run.err  # nothing was even attempted: the markup is text
    assert embedded_files(pdf_out) == []
    assert "<script>alert(1)</script>" in pdf_text(pdf_out)  # shown as text in the PDF
    assert listener.close() == []


def test_user_template_is_confined_to_its_folder(cli, tmp_path, listener):
    """A user template that does reference outside resources: only its own folder and data: are read."""
    tpl = tmp_path / "tpl"
    tpl.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret", encoding="utf-8")
    (tpl / "inside.txt").write_text("attached?", encoding="utf-8")
    (tpl / "report.css").write_text("h1 { color: #123456; }", encoding="utf-8")
    # a 1x1 PNG inside the folder may be used
    (tpl / "logo.png").write_bytes(base64.b64decode(PNG_1X1))
    (tpl / "report.html.j2").write_text(f'''{{% extends "tokencalc/report.html.j2" %}}
{{% block header %}}
<link rel="stylesheet" href="http://127.0.0.1:{listener.port}/a.css">
<link rel="attachment" href="{secret.as_uri()}">
<link rel="attachment" href="inside.txt">
<a rel="attachment" href="inside.txt">inside</a>
<img src="http://127.0.0.1:{listener.port}/b.png">
<img src="{secret.as_uri()}">
<img src="../secret.txt">
<img src="logo.png" alt="logo">
<img src="data:image/png;base64,{PNG_1X1}">
<h1>Custom appendix for {{{{ scenario_name }}}}</h1>
{{% endblock %}}
''', encoding="utf-8")
    out = tmp_path / "t.pdf"
    run = cli("report", "--template", str(tpl), "-o", str(out))
    assert run.code == 0, run.err
    assert listener.close() == []
    assert embedded_files(out) == []
    text = pdf_text(out)
    assert "Custom appendix for 65B-class dense FP16" in text and "Disclosure checklist" in text
    assert "top secret" not in text
    blocked = re.findall(r"not fetched: (\S+)", run.err)
    assert f"http://127.0.0.1:{listener.port}/a.css" in blocked
    assert f"http://127.0.0.1:{listener.port}/b.png" in blocked
    assert secret.as_uri() in blocked
    assert not any("logo.png" in u or u.startswith("data:") for u in blocked)
    from pypdf import PdfReader

    images = PdfReader(str(out)).pages[0].images  # WeasyPrint shares one resource dict between pages
    assert len(images) == 2  # logo.png from the folder and the data: URL, nothing else


def test_fetcher_direct():
    folder = R.templates_dir()
    fetcher = R.confined_fetcher([folder])
    resp = fetcher.fetch((folder / "report.css").as_uri())
    assert b"@page" in resp.read()
    assert fetcher.fetch("data:text/plain,hi").read() == b"hi"
    for url in ((folder.parent / "pyproject.toml").as_uri(), (folder / ".." / "pyproject.toml").as_uri(),
                "http://127.0.0.1:9/x", "ftp://example.org/x", "file://otherhost/etc/hostname"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert len(fetcher.blocked) == 5


# ---------------------------------------------------------------------------
# Files, options and failures

def test_existing_output_is_refused_then_forced(cli, tmp_path):
    out = tmp_path / "r.html"
    out.write_bytes(b"keep me")
    run = cli("report", "-o", str(out))
    assert run.code == 2
    assert "exists" in run.err and "--force" in run.err and "Traceback" not in run.err
    assert out.read_bytes() == b"keep me"
    assert cli("report", "-o", str(out), "--force").code == 0
    assert out.read_bytes().startswith(b"<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temporary file left behind


def test_write_atomic_never_clobbers_without_force(tmp_path):
    out = tmp_path / "x.pdf"
    fileio.write_atomic(out, b"one")
    from tokencalc.errors import OutputExistsError

    with pytest.raises(OutputExistsError):
        fileio.write_atomic(out, b"two")
    fileio.write_atomic(out, b"three", force=True)
    assert out.read_bytes() == b"three"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.pdf"]


@pytest.mark.parametrize("args, message", [
    (["-o", "r.txt"], "expected a file ending in .html, .pdf, .tex or .md"),
    (["-o", "r.tex", "--latex-level", "chapter"], "chapter"),
    (["-o", "missing-folder/r.html"], "does not exist"),
    (["-o", "r.html", "--paper", "a3"], "a3"),
])
def test_bad_output_options(cli, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    run = cli("report", *args)
    assert run.code == 2
    assert message in run.err
    assert list(tmp_path.iterdir()) == []


def test_template_folder_without_template(cli, tmp_path):
    (tmp_path / "tpl").mkdir()
    run = cli("report", "--template", str(tmp_path / "tpl"), "-o", str(tmp_path / "r.html"))
    assert run.code == 2
    assert "report.html.j2" in run.err


@pytest.mark.parametrize("body,message", [
    ('{% include "report.html.j2" %}', "include or extend each other without end"),
    ("{{ 1/0 }}", "ZeroDivisionError"),
    ("{{ scenario_name | int + 'x' }}", "TypeError"),
])
def test_a_failing_user_template_is_a_report_error(cli, tmp_path, body, message):
    """A template that includes itself or fails in its own expressions: exit 2 naming the template, no traceback."""
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "report.html.j2").write_text(body, encoding="utf-8")
    run = cli("report", "--template", str(tmp_path / "tpl"), "-o", str(tmp_path / "r.html"))
    assert run.code == 2, run.err
    assert message in run.err and "template error" in run.err and "Traceback" not in run.err
    assert not (tmp_path / "r.html").exists()


def test_a_stylesheet_that_is_not_utf8_is_a_report_error(cli, tmp_path):
    tpl = tmp_path / "tpl"
    tpl.mkdir()
    (tpl / "report.html.j2").write_text('{% extends "tokencalc/report.html.j2" %}', encoding="utf-8")
    (tpl / "report.css").write_bytes(b"h1 { color: \xff\xfe; }")
    run = cli("report", "--template", str(tpl), "-o", str(tmp_path / "r.html"))
    assert run.code == 2 and "not UTF-8" in run.err and "Traceback" not in run.err


def test_huge_gamma_still_draws_the_regime_map(cli, tmp_path):
    """γ above 1e6 J/FLOP once gave integer axis limits matplotlib could not check (internal error)."""
    run = cli("report", "--e-tok", "1e20 J/token", "-o", str(tmp_path / "r.html"))
    assert run.code == 0, run.err
    assert "<svg" in (tmp_path / "r.html").read_text(encoding="utf-8")


class _BrokenWeasyPrint(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Pretend the weasyprint package is installed but its system libraries are not."""

    def find_spec(self, name, path, target=None):
        if name == "weasyprint":
            return importlib.machinery.ModuleSpec(name, self)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        raise OSError("cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared object file")


def test_missing_weasyprint_system_library(cli, tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_BrokenWeasyPrint(), *sys.meta_path])
    out = tmp_path / "r.pdf"
    run = cli("report", "-o", str(out))
    assert run.code == 2
    assert "system libraries" in run.err and "libpango" in run.err and "-o report.html" in run.err
    assert "Traceback" not in run.err and run.err.count("\n") == 1
    assert not out.exists()
    with pytest.raises(ChildProcessError):  # the chart-drawing child (if any) was reaped
        os.waitpid(-1, os.WNOHANG)


def test_estimate_imports_neither_weasyprint_nor_matplotlib():
    code = ("import sys, io, contextlib\nfrom tokencalc.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        main(['estimate', '-f', 'json'])\n    except SystemExit:\n        pass\n"
            "print(any(m in sys.modules for m in ('weasyprint', 'matplotlib', 'jinja2')))")
    proc = subprocess.run([PY, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


# ---------------------------------------------------------------------------
# Pieces: dates, BibTeX, checklist, command line, optional sections

def test_date_only_from_source_date_epoch(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    out = tmp_path / "r.html"
    assert cli("report", "-o", str(out)).code == 0
    html = out.read_text(encoding="utf-8")
    assert "1970-01-02 00:00 UTC" in html and "No date is printed" not in html
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    run = cli("report", "-o", str(tmp_path / "s.html"))
    assert run.code == 2 and "SOURCE_DATE_EPOCH" in run.err


def _bibtex(request: Request) -> str:
    return R.build_context(appendix(request), argv=["tokencalc"], charts=False)["bibtex"]


def test_bibtex_keys_are_stable_and_deduplicated():
    bib = _bibtex(Request())
    keys = re.findall(r"@misc\{([^,]+),", bib)
    assert len(keys) == len(set(keys))
    assert keys == re.findall(r"@misc\{([^,]+),", _bibtex(Request()))
    # Samsi et al. is cited for two workload tables: one entry
    assert keys.count("samsi2023words") == 1 and "samsi2023wordsa" not in keys
    assert "ueia2024electricity" in keys  # organisation initials: U.S. Energy Information Administration
    assert "tokencalc:scenario:default:devices" in keys  # plain-string citation -> @misc with a note


def test_checklist_reports_what_is_missing(tmp_path):
    scen = tmp_path / "bare.toml"
    scen.write_text('kind = "scenario"\nname = "bare"\nk_eff = "1e16 FLOP/s"\nc_tok = "1e11 FLOP/token"\n'
                    'e_tok = "3 J/token"\np_it = "1 MW"\n', encoding="utf-8")
    res = resolve(Request(scenario=str(scen)))
    items = R.checklist(res, estimate(res.inputs))
    assert [c["given"] for c in items] == [True, True, False, False, False, False]
    assert "PUE" in items[2]["missing"] and "P_facility" in items[2]["missing"]
    assert items[3]["missing"][0].startswith("U (not given")
    assert "quality targets q*" in items[4]["missing"] and "latency SLO s*" in items[4]["missing"]
    assert "source of c_tok, e_tok, k_eff, p_it" in items[5]["missing"]


def test_command_line_is_canonical(cli, tmp_path):
    run = cli("report", "default", "--pue", "1.3", "--paper", "letter", "-o", str(tmp_path / "s.html"))
    assert run.code == 0, run.err
    html = (tmp_path / "s.html").read_text(encoding="utf-8")
    assert f"tokencalc report --output {tmp_path / 's.html'} --paper letter --pue 1.3 default" in html
    assert "size: letter" in html


def test_horizon_section_when_the_scenario_has_a_trajectory(cli, tmp_path):
    out = tmp_path / "h.html"
    run = cli("report", "iea-energy-and-ai", "-o", str(out))
    assert run.code == 0, run.err
    html = out.read_text(encoding="utf-8")
    assert "Horizon with time-varying inputs" in html
    assert html.count("<svg ") == 3 and 'id="horizon-figure_1"' in html


def test_uncertainty_section_when_inputs_have_ranges(cli, tmp_path):
    out = tmp_path / "u.html"
    run = cli("report", "default-uncertain", "-o", str(out))
    assert run.code == 0, run.err
    html = out.read_text(encoding="utf-8")
    assert "Probability that delivered power binds" in html and "P95" in html
    assert html.count("<svg ") == 3 and 'id="tornado-' in html


def test_chart_text_is_escaped_by_matplotlib():
    from tokencalc.render import charts

    svg = charts.ceilings_svg(1e5, 2e5, 7e4, "compute", 0.7, label='<script>alert(1)</script> --> "x"')
    assert "<script" not in svg and "&lt;script&gt;" in svg
    assert svg.startswith("<svg ") and "<?xml" not in svg
    # ids are prefixed per chart, references follow them
    ids = re.findall(r'id="([^"]+)"', svg)
    assert ids and all(i.startswith("ceil-") for i in ids)
    assert all(ref.startswith("ceil-") for ref in re.findall(r'url\(#([^)]+)\)', svg))


def test_latex_table_typesets_symbols_and_prefixed_numbers(cli):
    out = cli("estimate", "-f", "latex").out
    assert r"$83.0$~ktoken\,s$^{-1}$" in out and r"$41.1$~pJ\,FLOP$^{-1}$" in out
    assert r"(realized $K_\mathrm{eff}$)" in out and r"K\_eff" not in out
    assert r"$365$~days" in out and r"$2.78$~GWh" in out and r"\$$349{,}682$" in out
    assert r"\toprule" in out and r"\bottomrule" in out and r"\addlinespace" in out
    body = out.replace(r"\$", "")
    assert body.count("$") % 2 == 0  # math mode always closed
    assert body.count("{") == body.count("}")


@pytest.mark.parametrize("scenario, names", [("default", {"ceilings", "regime"}),
                                             ("default-uncertain", {"ceilings", "regime", "tornado"})])
def test_charts_drawn_in_a_child_equal_charts_drawn_in_process(monkeypatch, scenario, names):
    app = appendix(Request(scenario=scenario))
    here = D.charts_of(app)
    assert set(here) == names
    assert D.charts_in_background(app)() == here  # forked where possible: same bytes
    monkeypatch.setattr(D.threading, "active_count", lambda: 2)  # another thread: never fork
    assert D.charts_in_background(app)() == here


def test_report_without_ceilings_still_renders(cli, tmp_path):
    out = tmp_path / "bare.html"
    run = cli("report", "--bare", "--k-eff", "1.3e16 FLOP/s", "--c-tok", "1.3e11 FLOP/token", "-o", str(out))
    assert run.code == 0, run.err
    assert "binding constraint unknown" in run.err
    html = out.read_text(encoding="utf-8")
    assert "Binding constraint unknown: no power ceiling" in html
    assert html.count("<svg ") == 1  # the compute ceiling alone; no regime map without γ
    assert html.count('<td class="status">missing</td>') == 6  # nothing of MODEL.md §7 can be disclosed


@pytest.mark.parametrize("blocked,args,needs", [
    ("matplotlib", ["report", "-o", "{tmp}/r.html"], "need matplotlib"),
    ("matplotlib", ["sensitivity", "default-uncertain", "--chart", "{tmp}/t.svg"], "need matplotlib"),
    ("weasyprint", ["report", "-o", "{tmp}/r.pdf"], "PDF output needs WeasyPrint"),
])
def test_a_missing_optional_piece_is_a_clean_exit_2_naming_what_to_install(tmp_path, blocked, args, needs):
    import subprocess
    import sys

    code = ("import sys\nsys.modules[%r] = None\nfrom tokencalc.cli import main\nmain(%r)\n"
            % (blocked, [a.format(tmp=tmp_path) for a in args]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 2, out.stderr
    assert needs in out.stderr and "pip install" in out.stderr and "Traceback" not in out.stderr
    assert not list(tmp_path.iterdir())  # nothing half-written
