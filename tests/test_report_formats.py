"""LaTeX and Markdown reports: the files beside them, \\cite keys and the .bib, compiling, escaping,
byte-identical output, and checking every file before any is written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test_report import hostile_profiles

PY = sys.executable
TEX_ENGINES = ("pdflatex", "lualatex", "tectonic")
WRAPPER = r"""\documentclass{article}
\usepackage[T1]{fontenc}
\usepackage{booktabs}
\usepackage{siunitx}
\usepackage{graphicx}
\usepackage{longtable}
\usepackage{array}
\begin{document}
\input{appendix}
\bibliographystyle{plain}
\bibliography{appendix}
\end{document}
"""


def cite_keys(tex: str) -> set[str]:
    return {k.strip() for group in re.findall(r"\\cite\{([^}]*)\}", tex) for k in group.split(",")}


def bib_keys(bib: str) -> list[str]:
    return re.findall(r"@misc\{([^,]+),", bib)


@pytest.fixture(scope="module")
def tex_report(tmp_path_factory):
    """The iea-energy-and-ai report as appendix.tex (a trajectory: the horizon chart too)."""
    folder = tmp_path_factory.mktemp("tex")
    from tokencalc.cli import main

    try:
        main(["report", "iea-energy-and-ai", "-o", str(folder / "appendix.tex")])
    except SystemExit as exc:
        assert exc.code in (0, None)
    return folder


def test_latex_report_files_and_structure(tex_report):
    names = sorted(p.name for p in tex_report.iterdir())
    assert names == ["appendix-ceilings.pdf", "appendix-horizon.pdf", "appendix-regime.pdf", "appendix.bib",
                     "appendix.tex"]
    tex = (tex_report / "appendix.tex").read_text(encoding="utf-8")
    for pkg in ("booktabs", "siunitx", "graphicx", "longtable", "array"):
        assert f"\\usepackage{{{pkg}}}" in tex.split("\\section")[0]  # listed in the comment block at the top
    assert tex.count("\\section{") == 1 and "\\subsection{Disclosure checklist}" in tex
    assert "\\toprule" in tex and "\\midrule" in tex and "\\bottomrule" in tex and "\\begin{longtable}" in tex
    assert "\\qty{144}{\\mega\\token\\per\\second}" in tex and "\\num{22.3e15}" in tex  # siunitx v3 forms
    assert "\\SI{" not in tex and "$K_\\mathrm{eff}" in tex
    for name in ("ceilings", "regime", "horizon"):
        assert f"\\includegraphics[width=\\linewidth]{{appendix-{name}.pdf}}" in tex
        assert (tex_report / f"appendix-{name}.pdf").read_bytes()[:5] == b"%PDF-"
    assert "with the scenario's trajectories" in tex and "at constant inputs" in tex


def test_every_cite_key_is_in_the_bib_and_the_bib_holds_only_cited_sources(tex_report):
    tex = (tex_report / "appendix.tex").read_text(encoding="utf-8")
    keys = bib_keys((tex_report / "appendix.bib").read_text(encoding="utf-8"))
    assert keys and len(keys) == len(set(keys))
    assert cite_keys(tex) == set(keys)
    assert "iea2025energy" in keys and "emberson2025stock" in keys  # the trajectory's and the devices' sources


def test_latex_level_subsection(cli, tmp_path):
    out = tmp_path / "a.tex"
    assert cli("report", "-o", str(out), "--latex-level", "subsection").code == 0
    tex = out.read_text(encoding="utf-8")
    assert "\\section{" not in tex and tex.count("\\subsection{") == 1 and "\\subsubsection{Provenance" in tex


def _engine() -> str | None:
    return next((e for e in TEX_ENGINES if shutil.which(e)), None)


@pytest.mark.skipif(_engine() is None, reason="no TeX engine is installed (pdflatex, lualatex or tectonic)")
def test_the_latex_report_compiles(tex_report, tmp_path):
    for p in tex_report.iterdir():
        shutil.copy(p, tmp_path / p.name)
    (tmp_path / "main.tex").write_text(WRAPPER, encoding="utf-8")
    engine = _engine()
    cmd = [engine, "main.tex"] if engine == "tectonic" else [engine, "-interaction=nonstopmode", "-halt-on-error",
                                                           "main.tex"]
    run = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]
    assert (tmp_path / "main.pdf").is_file()
    if engine != "tectonic" and shutil.which("bibtex"):
        bib = subprocess.run(["bibtex", "main"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert "I didn't find a database entry" not in bib.stdout and "error message" not in bib.stdout, bib.stdout


@pytest.mark.skipif(_engine() is None or _engine() == "tectonic",
                    reason="no pdflatex or lualatex installed (the check reads their log)")
def test_the_wide_tables_fit_the_text_width(cli, tmp_path):
    # default-uncertain has the ranges table (three quantities with units) and the listed prices (URLs)
    assert cli("report", "default-uncertain", "-o", str(tmp_path / "appendix.tex")).code == 0
    (tmp_path / "main.tex").write_text(WRAPPER, encoding="utf-8")
    run = subprocess.run([_engine(), "-interaction=nonstopmode", "-halt-on-error", "main.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]
    log = (tmp_path / "main.log").read_text(encoding="utf-8", errors="replace")
    widths = [float(w) for w in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert max(widths, default=0) < 12, widths  # a few points of a long command line, not a table off the page


def test_urls_in_latex_may_break():
    from tokencalc.render.report import texmarkup as T

    out = T.prose("see https://api-docs.deepseek.com/quick_start/pricing (2025)")
    assert out.startswith("see https:/\\allowbreak{}/\\allowbreak{}api-\\allowbreak{}docs.")
    assert "quick\\_\\allowbreak{}start" in out and out.endswith("pricing (2025)")


def test_markdown_report(cli, tmp_path):
    out = tmp_path / "report.md"
    run = cli("report", "default-uncertain", "-o", str(out))
    assert run.code == 0, run.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report-ceilings.svg", "report-regime.svg",
                                                          "report-tornado.svg", "report.md"]
    md = out.read_text(encoding="utf-8")
    for heading in ("## 1 Result at the operating point", "## 5 Disclosure checklist", "## 6 Provenance of every input",
                    "## 7 Sources cited", "### 3b Uncertainty"):
        assert heading in md
    assert "| Quantity | Value |\n| --- | ---: |" in md
    for name in ("ceilings", "regime", "tornado"):
        assert f"](report-{name}.svg)" in md
        assert (tmp_path / f"report-{name}.svg").read_bytes().startswith(b"<?xml")
    assert "- **samsi2023words**: Samsi et al., From Words to Watts" in md
    assert "<https://arxiv.org/abs/2310.03003>" in md
    assert "`--mc N`" in md  # a profile's code span stays code
    assert "token_rate_tokens_per_s" not in md


def test_hostile_profile_text_is_escaped_in_latex_and_markdown(cli, tmp_path):
    root = hostile_profiles(tmp_path, 9)
    evil = (root / "scenarios" / "evil.toml").read_text(encoding="utf-8")
    evil = evil.replace("description = '''", "description = '''\\input{/etc/passwd} $x^2$ 100% `<b>x</b> | y` ", 1)
    (root / "scenarios" / "evil.toml").write_text(evil, encoding="utf-8")
    for name in ("e.tex", "e.md"):
        assert cli("report", "evil", "--profiles", str(root), "-o", str(tmp_path / name)).code == 0
    tex = (tmp_path / "e.tex").read_text(encoding="utf-8")
    body = tex.split("\\section", 1)[1]
    assert "\\input{/etc/passwd}" not in body and r"\textbackslash{}input\{/etc/passwd\}" in body
    assert r"\$x\textasciicircum{}2\$ 100\%" in body and "<script>" not in body
    assert r"\textless{}script\textgreater{}" in body and r"\texttt{\textless{}b\textgreater{}x" in body
    bib = (tmp_path / "e.bib").read_text(encoding="utf-8")
    for entry in re.split(r"\n(?=@misc)", bib):
        assert entry.count("{") == entry.count("}")  # BibTeX counts every brace
    md = (tmp_path / "e.md").read_text(encoding="utf-8")
    assert "<script" not in md and "<img" not in md and "<link" not in md and "&lt;script&gt;" in md
    assert "\\\\input\\{/etc/passwd\\} \\$x\\^2\\$ 100%" in md
    assert "`<b>x</b> \\| y`" in md  # code stays code (literal), its pipe escaped for the table it may sit in
    assert "](javascript:" not in md and "<javascript:" not in md


def _render_fresh(folder: Path, name: str) -> dict[str, bytes]:
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    proc = subprocess.run([PY, "-m", "tokencalc", "report", "default-uncertain", "-o", name], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize("name", ["appendix.tex", "report.md"])
def test_two_processes_give_identical_files(tmp_path, name):
    a = _render_fresh(tmp_path / "a", name)
    b = _render_fresh(tmp_path / "b", name)
    assert len(a) >= 4 and a == b


def test_every_file_is_checked_before_any_is_written(cli, tmp_path):
    out = tmp_path / "appendix.tex"
    (tmp_path / "appendix-regime.pdf").write_bytes(b"keep me")
    run = cli("report", "-o", str(out))
    assert run.code == 2 and "appendix-regime.pdf" in run.err and "--force" in run.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["appendix-regime.pdf"]  # nothing written, no temp file
    assert (tmp_path / "appendix-regime.pdf").read_bytes() == b"keep me"
    assert cli("report", "-o", str(out), "--force").code == 0
    assert (tmp_path / "appendix-regime.pdf").read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["appendix-ceilings.pdf", "appendix-regime.pdf",
                                                          "appendix.bib", "appendix.tex"]


def test_chart_file_names_are_safe(cli, tmp_path):
    out = tmp_path / "my appendix (v2).md"
    assert cli("report", "-o", str(out)).code == 0
    assert (tmp_path / "my-appendix-v2-ceilings.svg").is_file()
    assert "](my-appendix-v2-ceilings.svg)" in out.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------
# PDF: charts handed over in memory, compact fonts

def test_pdf_charts_come_from_memory_and_fonts_from_the_template_folder(cli, tmp_path):
    from pypdf import PdfReader

    from test_report import pdf_text

    out = tmp_path / "r.pdf"
    run = cli("report", "default-uncertain", "-o", str(out))
    assert run.code == 0 and "not fetched" not in run.err, run.err
    text = pdf_text(out)
    for needle in ("tokens per second", "power-bound (γ > γ*)", "input at its low end"):  # ceilings, regime, tornado
        assert needle in text, needle
    fonts = set()
    for page in PdfReader(str(out)).pages:
        res = page["/Resources"]
        objs = [res] + [x.get_object().get("/Resources") or {} for x in (res.get("/XObject") or {}).values()]
        for r in objs:
            fonts |= {str(f.get_object()["/BaseFont"]).split("+")[-1] for f in (r.get("/Font") or {}).values()}
    assert fonts and all(f.startswith("tokencalc-Sans") for f in fonts), fonts  # no installed DejaVu embedded


def test_the_chart_scheme_serves_only_the_reports_charts():
    from tokencalc.render import report as R
    from tokencalc.render.report.pdf import CHART_SCHEME

    fetcher = R.confined_fetcher([R.templates_dir()], {"ceilings": b"<svg/>"}.get)
    assert fetcher.fetch(CHART_SCHEME + "ceilings").read() == b"<svg/>"
    for url in (CHART_SCHEME + "regime", CHART_SCHEME + "../../etc/passwd"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    plain = R.confined_fetcher([R.templates_dir()])
    with pytest.raises(ValueError):
        plain.fetch(CHART_SCHEME + "ceilings")
    assert len(fetcher.blocked) == 2 and len(plain.blocked) == 1
