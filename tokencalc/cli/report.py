"""`tokencalc report`: an HTML, PDF, LaTeX or Markdown appendix for one operating point."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer
from typing_extensions import Annotated

from .options import scenario_argument, scenario_options


class Paper(str, Enum):
    """Page size of the PDF (and of printing the HTML)."""

    a4 = "a4"
    letter = "letter"


class LatexLevel(str, Enum):
    """Heading level of the LaTeX report: a \\section (with \\subsections) or a \\subsection."""

    section = "section"
    subsection = "subsection"


def command_line(ctx: Any) -> list[str]:
    """The invocation as a canonical argument list, from what the user actually gave.

    Rebuilt from the parsed parameters (only those from the command line or the
    environment), so it is the same whether tokencalc ran as a script or through
    `main([...])`, and it never depends on the caller's `sys.argv`.
    """
    out = ["tokencalc", ctx.info_name or "report"]
    positional = []
    for param in ctx.command.params:
        src = ctx.get_parameter_source(param.name)
        if getattr(src, "name", None) not in ("COMMANDLINE", "ENVIRONMENT"):
            continue
        value = ctx.params.get(param.name)
        if param.param_type_name == "argument":
            if value is not None:
                positional.append(str(value))
            continue
        flag = max(param.opts, key=len)  # the long form
        values = value if getattr(param, "multiple", False) else [value]
        for item in values or []:
            if getattr(param, "is_flag", False):
                if item:
                    out.append(flag)
            elif item is not None:
                out += [flag, item.value if isinstance(item, Enum) else str(item)]
    return out + positional


def write_all(files: list[tuple[Path, bytes]], force: bool) -> None:
    """Check every file, then write each atomically; on a failure remove the files this call created."""
    from ..fileio import check_writable, write_atomic

    for path, _ in files:
        check_writable(path, force)
    created: list[Path] = []
    try:
        for path, data in files:
            existed = path.exists()
            write_atomic(path, data, force=force)
            if not existed:
                created.append(path)
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
        raise


def register(app: typer.Typer) -> None:
    """Add `report` to the app."""

    @app.command()
    @scenario_options
    def report(
        ctx: typer.Context,
        scenario: Annotated[Optional[str], scenario_argument()] = None,
        output: Annotated[Path, typer.Option(
            "--output", "-o", help="report file: .html, .pdf, .tex (with .bib and chart PDFs beside it) or .md "
                                   "(with chart SVGs beside it); the suffix decides",
            show_default=False, dir_okay=False)] = ...,  # type: ignore[assignment]
        force: Annotated[bool, typer.Option("--force", help="overwrite existing output files")] = False,
        template: Annotated[Optional[Path], typer.Option(
            "--template", help="folder with your own report.html.j2 (and report.css, assets); "
                               "nothing outside it is read", file_okay=False, show_default=False)] = None,
        paper: Annotated[Paper, typer.Option("--paper", help="page size of the PDF")] = Paper.a4,
        latex_level: Annotated[LatexLevel, typer.Option(
            "--latex-level", help="heading of the .tex report: a \\section or a \\subsection")] = LatexLevel.section,
        request=None,
    ) -> None:
        """An appendix documenting the operating point and the active constraint, as HTML, PDF, LaTeX or
        Markdown (by the suffix of -o): finding, q* and s*, charts, levers, disclosure checklist, provenance
        with the cited sources, reproducibility footer.

        Charts: the two ceilings with the realized rate, the regime map (γ against γ* under the
        realized and the peak conventions), the horizon when the scenario has a [trajectory], the
        tornado when inputs have ranges. A .tex is a section a paper can \\input (booktabs, siunitx;
        the packages are listed at its top), with a .bib of exactly the cited sources and the charts as
        PDF files beside it; a .md has pipe tables and the charts as SVG files beside it. Every file is
        checked before any is written. The same inputs give byte-identical files. Only files in the
        template folder and data: URLs are ever read while rendering.
        Examples:

          tokencalc report -o default.pdf

          tokencalc report my-scenario.toml -o appendix.html --paper letter

          tokencalc report iea-energy-and-ai -o appendix.tex --latex-level subsection
        """
        from ..analysis.appendix import appendix
        from ..fileio import check_writable
        from ..render import report as R

        kind = R.output_format(output)
        check_writable(output, force)  # fail before the render, not after
        argv = command_line(ctx)
        with R.report_workers(kind) as workers:  # they import matplotlib (and WeasyPrint) meanwhile
            app_ = appendix(request)
            files, blocked = R.render_files(app_, output, argv=argv, template_dir=template, paper=paper.value,
                                            latex_level=latex_level.value, workers=workers)
        write_all(files, force)
        for url in blocked:
            sys.stderr.write(f"tokencalc: warning: not fetched: {url} (only the template folder and data: URLs)\n")
        binding = app_.result.values["binding"]
        size = len(files[0][1])
        beside = ", ".join(p.name for p, _ in files[1:])
        extra = f" and {len(files) - 1} file(s) beside it: {beside}" if beside else ""
        sys.stderr.write(f"tokencalc: wrote {output} ({kind.upper()}, {size:,} bytes){extra}: "
                         f"{binding + '-bound' if binding else 'binding constraint unknown'}\n")
