"""Every file of one report, by the output's suffix: .html/.htm, .pdf, .tex (+ .bib + chart PDFs), .md (+ chart SVGs).

Rendering happens in memory; the caller checks every path and only then writes
(`fileio.check_writable`, `fileio.write_atomic`), so an existing file among them
stops the report before anything is written.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Sequence

from ...errors import InputError

FORMATS = {".html": "html", ".htm": "html", ".pdf": "pdf", ".tex": "tex", ".md": "md"}
LATEX_LEVELS = ("section", "subsection")


def output_format(path: str | os.PathLike) -> str:
    """"html", "pdf", "tex" or "md" from the output file's suffix.

    Raises:
        InputError: any other suffix.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"-o {path}: expected a file ending in .html, .pdf, .tex or .md, got "
                         f"{suffix or 'no suffix'}")
    return FORMATS[suffix]


def chart_names(output: Path, names: Sequence[str], ext: str) -> dict[str, str]:
    """File names of the charts beside `output`: `<stem>-<chart>.<ext>` (stem reduced to safe characters)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", output.stem).strip("-.") or "report"
    return {name: f"{stem}-{name}.{ext}" for name in names}


def render_files(app: Any, output: str | os.PathLike, *, argv: Sequence[str],
                 template_dir: str | os.PathLike | None = None, paper: str = "a4",
                 latex_level: str = "section", workers: Any = None) -> tuple[list[tuple[Path, bytes]], list[str]]:
    """Render the report of an `analysis.appendix.Appendix` for `output`.

    Returns:
        ([(path, bytes)] with `output` first, then the files beside it; the URLs the PDF fetcher refused).

    Args:
        workers: the `workers.ReportWorkers` started with the command (None: render in this process).

    Raises:
        InputError: unknown suffix or LaTeX level; otherwise as `render_html` / `render_pdf`.
    """
    from .drawing import chart_files

    out = Path(output)
    kind = output_format(out)
    if kind == "pdf":
        from .pdf import render_pdf

        data, blocked = render_pdf(app, argv=argv, template_dir=template_dir, paper=paper, workers=workers)
        return [(out, data)], blocked
    if kind == "html":
        from .html import render_html

        drawn = _drawn_by(workers, app, "inline")
        if drawn is not None:
            from markupsafe import Markup

            drawn = {name: Markup(svg) for name, svg in drawn.items()}
        html = render_html(app, argv=argv, template_dir=template_dir, paper=paper, drawn=drawn)
        return [(out, html.encode("utf-8"))], []
    if kind == "tex" and latex_level not in LATEX_LEVELS:
        raise InputError(f"--latex-level {latex_level!r}: expected one of {', '.join(LATEX_LEVELS)}")
    from .context import build_context

    ctx = build_context(app, argv=argv, paper=paper, inline=False)
    ext = "pdf" if kind == "tex" else "svg"
    drawn = _drawn_by(workers, app, ext)
    charts = chart_files(app, ext) if drawn is None else {n: d if isinstance(d, bytes) else d.encode("utf-8")
                                                          for n, d in drawn.items()}
    names = chart_names(out, list(charts), ext)
    beside = [(out.with_name(names[n]), data) for n, data in charts.items()]
    if kind == "tex":
        from .tex import render_latex

        text = render_latex(ctx, stem=out.stem, charts=names, level=latex_level)
        bib = ctx["bib"].text() or "% tokencalc: the inputs cite no source\n"
        return [(out, text.encode("utf-8")), (out.with_suffix(".bib"), bib.encode("utf-8")), *beside], []
    from .markdown import render_markdown

    return [(out, render_markdown(ctx, charts=names).encode("utf-8")), *beside], []


def _drawn_by(workers: Any, app: Any, fmt: str) -> dict[str, Any] | None:
    """The appendix's charts drawn by the chart worker in `fmt`, or None (not started, or it failed)."""
    if workers is None or not workers.started:
        return None
    from .drawing import chart_jobs

    return workers.charts({name: (fmt, args) for name, args in chart_jobs(app).items()})
