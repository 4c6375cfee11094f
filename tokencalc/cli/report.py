"""`tokencalc report`: an HTML or PDF appendix for one operating point."""

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


def register(app: typer.Typer) -> None:
    """Add `report` to the app."""

    @app.command()
    @scenario_options
    def report(
        ctx: typer.Context,
        scenario: Annotated[Optional[str], scenario_argument()] = None,
        output: Annotated[Path, typer.Option("--output", "-o", help="report file: .html or .pdf (the suffix decides)",
                                             show_default=False, dir_okay=False)] = ...,  # type: ignore[assignment]
        force: Annotated[bool, typer.Option("--force", help="overwrite an existing output file")] = False,
        template: Annotated[Optional[Path], typer.Option(
            "--template", help="folder with your own report.html.j2 (and report.css, assets); "
                               "nothing outside it is read", file_okay=False, show_default=False)] = None,
        paper: Annotated[Paper, typer.Option("--paper", help="page size of the PDF")] = Paper.a4,
        request=None,
    ) -> None:
        """An HTML or PDF appendix (by the suffix of -o) documenting the operating point and the active
        constraint: finding, q* and s*, charts, levers, disclosure checklist, provenance with BibTeX,
        reproducibility footer.

        Charts: the two ceilings with the realized rate, the regime map (γ against γ* under the
        realized and the peak conventions), the horizon when the scenario has a [trajectory], the
        tornado when inputs have ranges. The same inputs give a byte-identical file. Only files in
        the template folder and data: URLs are ever read while rendering.
        Examples:

          tokencalc report -o default.pdf

          tokencalc report my-scenario.toml -o appendix.html --paper letter
        """
        from ..analysis.appendix import appendix
        from ..fileio import check_writable, write_atomic
        from ..render import report as R

        kind = R.output_format(output)
        check_writable(output, force)  # fail before the render, not after
        argv = command_line(ctx)
        app_ = appendix(request)
        if kind == "pdf":
            data, blocked = R.render_pdf(app_, argv=argv, template_dir=template, paper=paper.value)
        else:
            html = R.render_html(app_, argv=argv, template_dir=template, paper=paper.value)
            data, blocked = html.encode("utf-8"), []
        write_atomic(output, data, force=force)
        for url in blocked:
            sys.stderr.write(f"tokencalc: warning: not fetched: {url} (only the template folder and data: URLs)\n")
        binding = app_.result.values["binding"]
        sys.stderr.write(f"tokencalc: wrote {output} ({kind.upper()}, {len(data):,} bytes): "
                         f"{binding + '-bound' if binding else 'binding constraint unknown'}\n")
