"""Reports: an HTML, PDF, LaTeX or Markdown appendix documenting the operating point and the active constraint.

Data flow: `analysis.appendix` (every analysis the report shows, done once) →
`context.build_context` (plain data, humanised strings, the cited sources as a
`bibtex.Bibliography`, chart SVG) → Jinja2 (`templates`: autoescaped, sandboxed,
confined to the template folder) → HTML (`html`) → WeasyPrint (`pdf`: confined
fetcher, no attachments, the template folder's compact fonts; in forked `workers` started with the command, else a forked `child`) → PDF; or the same
context → `tex` (+ .bib, chart PDFs) / `markdown` (+ chart SVGs). `files`
renders every file of one report in memory; the CLI checks them all, then
writes. No clock reads: a date appears only when the user sets
SOURCE_DATE_EPOCH. Heavy libraries (matplotlib, WeasyPrint) load inside the
functions that need them.
"""

from .context import PAPER_SIZES, build_context, checklist, humanize_value, provenance
from .files import FORMATS, LATEX_LEVELS, output_format, render_files
from .html import render_html
from .pdf import confined_fetcher, html_to_pdf, render_pdf, source_date_epoch
from .templates import TEMPLATE, template_folder, templates_dir
from .workers import report_workers

__all__ = ["FORMATS", "LATEX_LEVELS", "PAPER_SIZES", "TEMPLATE", "build_context", "checklist", "confined_fetcher",
           "html_to_pdf", "humanize_value", "output_format", "provenance", "render_files", "render_html",
           "render_pdf", "report_workers", "source_date_epoch", "template_folder", "templates_dir"]
