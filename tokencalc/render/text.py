"""Output formats of `estimate`: table, json, csv, markdown, latex.

Each `OutputFormat` member maps to exactly one formatter (a test proves it).
JSON and CSV carry plain SI floats with the unit in the key name; the table,
Markdown and LaTeX (`render.latex`) humanise, each value from its SI unit.
"""

from __future__ import annotations

import csv
import io
import json
from enum import Enum
from typing import Any, Callable

from ..core import Result
from .latex import to_latex
from .summary import finding, summary_rows


class OutputFormat(str, Enum):
    """How `estimate` prints its result."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    latex = "latex"

    def formatter(self) -> Callable[[Result], str]:
        """The function that renders a Result in this format."""
        return FORMATTERS[self]


def to_json(result: Result) -> str:
    """The documented JSON object, keys in a stable order, SI units."""
    return json.dumps(result.to_json(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def scalar_items(result: Result) -> list[tuple[str, Any]]:
    """The flat (key, value) pairs of a result: everything but nested inputs/levers/notes."""
    return [(k, v) for k, v in result.to_json().items() if k not in ("inputs", "levers", "notes")]


def to_csv(result: Result) -> str:
    """One header row and one value row of the scalar keys (SI), plus the levers counted."""
    items = scalar_items(result)
    items.append(("levers_counted", ";".join(s.id for s in result.levers if s.counted)))
    items.append(("levers_not_counted", ";".join(s.id for s in result.levers if not s.counted)))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([k for k, _ in items])
    w.writerow(["" if v is None else (repr(v) if isinstance(v, float) else v) for _, v in items])
    return buf.getvalue()


def to_markdown(result: Result) -> str:
    """A GitHub/pandoc pipe table with a finding line and the lever table."""
    out = [f"**{result.values['scenario'] or 'estimate'}** — {finding(result)}", "",
           "| Quantity | Value |", "|---|---|"]
    for _, label, human, _, _ in summary_rows(result):
        out.append(f"| {_md(label)} | {_md(human)} |")
    if result.levers:
        out += ["", "| Lever | Counted | Why |", "|---|---|---|"]
        for s in result.levers:
            out.append(f"| {_md(s.id)} | {'yes' if s.counted else 'no'} | {_md(s.reason)} |")
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|")


def to_table(result: Result) -> str:
    """Plain-text fallback of the rich table (the CLI prints the rich version)."""
    out = [finding(result)]
    for section, label, human, _, _ in summary_rows(result):
        out.append(f"{section:10} {label:34} {human}")
    return "\n".join(out) + "\n"


FORMATTERS: dict[OutputFormat, Callable[[Result], str]] = {
    OutputFormat.table: to_table,
    OutputFormat.json: to_json,
    OutputFormat.csv: to_csv,
    OutputFormat.markdown: to_markdown,
    OutputFormat.latex: to_latex,
}


def estimate_document(est: Any, fmt: OutputFormat) -> str:
    """An `analysis.point.Estimate` in a file format; with a Monte Carlo band, each format gains it.

    JSON gains an `mc` object; CSV gains `mc_*` columns; Markdown and LaTeX gain a percentile table.
    """
    if fmt is OutputFormat.json:
        return json.dumps(est.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    text = FORMATTERS[fmt](est.result)
    if est.mc is None:
        return text
    from . import uncertainty as RU

    if fmt is OutputFormat.csv:
        rows = list(csv.reader(io.StringIO(text)))
        extra = RU.mc_csv_columns(est.mc)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(rows[0] + [k for k, _ in extra])
        w.writerow(rows[1] + [repr(v) if isinstance(v, float) else ("" if v is None else v) for _, v in extra])
        return buf.getvalue()
    if fmt is OutputFormat.markdown:
        return text + RU.mc_markdown(est.mc)
    if fmt is OutputFormat.latex:
        return text + RU.mc_latex(est.mc)
    return text
