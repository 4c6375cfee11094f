"""The report as one self-contained HTML document (CSS inline, charts as inline SVG)."""

from __future__ import annotations

import os
from typing import Any, Sequence

from ...errors import InputError, ReportError
from .context import PAPER_SIZES, build_context
from .templates import TEMPLATE, environment, stylesheet, template_folder

# What a user's template can raise from its own expressions ({{ 1/0 }}, a filter on the wrong type, an
# include of itself): the template's fault, reported as such. The bundled template's errors stay bugs.
_USER_TEMPLATE_ERRORS = (RecursionError, ArithmeticError, TypeError, ValueError, LookupError, AttributeError)


def render_html(app: Any, *, argv: Sequence[str], template_dir: str | os.PathLike | None = None,
                paper: str = "a4", drawn: dict[str, Any] | None = None, images: bool = False) -> str:
    """The report of an `analysis.appendix.Appendix` as one self-contained HTML document.

    Args:
        app: the analyses to document.
        argv: the command line for the reproducibility footer.
        template_dir: a user template folder (`--template`), or None for the bundled one.
        paper: "a4" or "letter" (the @page size).
        drawn: the ceilings and regime charts, if already drawn.
        images: charts as <img> with SVG data: URLs rather than inline SVG (the PDF path).

    Raises:
        ReportError / MissingPieceError: missing matplotlib, bad template folder or a template error.
    """
    import jinja2
    from markupsafe import Markup

    check_paper(paper)
    folder = template_folder(template_dir)
    ctx = build_context(app, argv=argv, paper=paper, drawn=drawn, images=images)
    ctx["css"] = Markup(stylesheet(folder))  # the template folder's own CSS, trusted like the template
    try:
        return environment(folder).get_template(TEMPLATE).render(ctx)
    except jinja2.TemplateError as exc:
        where = f" ({exc.filename}:{exc.lineno})" if getattr(exc, "lineno", None) else ""
        raise ReportError(f"template error{where}: {exc.message or exc}") from None
    except RecursionError:
        raise ReportError(f"template error: templates in {folder} include or extend each other without end") from None
    except _USER_TEMPLATE_ERRORS as exc:
        if template_dir is None:
            raise
        raise ReportError(f"template error in {folder}: {type(exc).__name__}: {exc}") from None


def check_paper(paper: str) -> None:
    """Refuse an unknown paper size."""
    if paper not in PAPER_SIZES:
        raise InputError(f"--paper {paper!r}: expected one of {', '.join(PAPER_SIZES)}")
