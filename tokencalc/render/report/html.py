"""The report as one self-contained HTML document (CSS inline, charts as inline SVG)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from ...errors import InputError, ReportError
from .context import PAPER_SIZES, build_context
from .templates import TEMPLATE, environment, stylesheet, template_folder

FORMATS = {".html": "html", ".htm": "html", ".pdf": "pdf"}


def render_html(app: Any, *, argv: Sequence[str], template_dir: str | os.PathLike | None = None,
                paper: str = "a4", drawn: dict[str, Any] | None = None) -> str:
    """The report of an `analysis.appendix.Appendix` as one self-contained HTML document.

    Args:
        app: the analyses to document.
        argv: the command line for the reproducibility footer.
        template_dir: a user template folder (`--template`), or None for the bundled one.
        paper: "a4" or "letter" (the @page size).
        drawn: the ceilings and regime charts, if already drawn.

    Raises:
        ReportError / MissingPieceError: missing matplotlib, bad template folder or a template error.
    """
    import jinja2
    from markupsafe import Markup

    check_paper(paper)
    folder = template_folder(template_dir)
    ctx = build_context(app, argv=argv, paper=paper, drawn=drawn)
    ctx["css"] = Markup(stylesheet(folder))  # the template folder's own CSS, trusted like the template
    try:
        return environment(folder).get_template(TEMPLATE).render(ctx)
    except jinja2.TemplateError as exc:
        where = f" ({exc.filename}:{exc.lineno})" if getattr(exc, "lineno", None) else ""
        raise ReportError(f"template error{where}: {exc.message or exc}") from None




def check_paper(paper: str) -> None:
    """Refuse an unknown paper size."""
    if paper not in PAPER_SIZES:
        raise InputError(f"--paper {paper!r}: expected one of {', '.join(PAPER_SIZES)}")


def output_format(path: str | os.PathLike) -> str:
    """"html" or "pdf" from the output file's suffix.

    Raises:
        InputError: any other suffix.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"-o {path}: expected a file ending in .html or .pdf, got "
                         f"{suffix or 'no suffix'}")
    return FORMATS[suffix]
