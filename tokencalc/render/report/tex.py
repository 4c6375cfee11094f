"""The report as a LaTeX section a paper can \\input, with its .bib and its charts as PDF files.

The same context as the HTML report (`context.build_context`), written with
booktabs tables, siunitx v3 numbers (`\\num`, `\\qty`), `\\cite` keys for every
cited source and `\\includegraphics` of the charts written beside the file. All
text goes through `texmarkup` (escaped; profile text is never LaTeX).
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from . import texmarkup as T

LEVELS = {"section": ("section", "subsection"), "subsection": ("subsection", "subsubsection")}
CAPTIONS = {
    "ceilings": "The two ceilings and the realized rate. The dark bar is the binding ceiling; the realized rate is "
                "$U$ times the lower ceiling.",
    "regime": r"Regime map. Above the dashed boundary $\gamma = \gamma^*$ delivered power binds, below it compute "
              r"binds; the circle places the scenario under the reported $K_\mathrm{eff}$ convention, the square "
              r"under the peak denominator $K_\mathrm{peak}$ (an upper-bound calibration only).",
    "horizon": "Token rate and both ceilings over the horizon; dotted lines mark the dates at which the binding "
               "constraint switches.",
    "tornado": "Tornado: the metric with each ranged input at its low and at its high end, the others at their modes.",
}
_P = r">{\raggedright\arraybackslash}p"
_R = r">{\raggedleft\arraybackslash}p"


def header(ctx: dict[str, Any], stem: str, charts: Sequence[str]) -> list[str]:
    """The comment block: what the file needs, then the unit declarations."""
    names = ", ".join(charts) or "none"
    return [
        f"% tokencalc {ctx['version']}: Token Production Function report for {_comment(ctx['scenario_id'])}.",
        "% Input it in a paper:  \\input{" + _comment(stem) + "}",
        "% Needs in the preamble (all in TeX Live / MiKTeX):",
        "%   \\usepackage{booktabs}   % tables",
        "%   \\usepackage{siunitx}    % numbers and units, version 3 or later (\\qty, \\num)",
        "%   \\usepackage{graphicx}   % the charts",
        "%   \\usepackage{longtable}  % the checklist and provenance tables (one-column pages)",
        "%   \\usepackage{array}      % column types",
        "%   \\usepackage[T1]{fontenc} is recommended with pdflatex (lualatex/xelatex need nothing more).",
        f"% Sources: \\bibliography{{{_comment(stem)}}} ({_comment(stem)}.bib, beside this file, holds exactly the",
        "%   works cited here); charts, beside this file: " + _comment(names) + ".",
        "% Generated: edit the scenario and run the command below again rather than editing this file.",
        *T.UNIT_DECLARATIONS,
    ]


def _comment(text: str) -> str:
    return " ".join(str(text).split()).replace("%", "\\%")


def label(*parts: str) -> str:
    """A \\label key from our own ids (letters, digits, dashes)."""
    return ":".join(re.sub(r"[^A-Za-z0-9-]+", "-", p).strip("-") or "x" for p in parts)


def cite(keys: Sequence[str]) -> str:
    return (r"~\cite{" + ",".join(keys) + "}") if keys else ""


def table(spec: str, head: Sequence[str], rows: Sequence[Sequence[str]], caption: str, lab: str,
          long: bool = False) -> list[str]:
    """A booktabs table: a float, or a longtable (breaks across pages) when `long`."""
    head_line = " & ".join(head) + r" \\"
    body = [" & ".join(r) + r" \\" if isinstance(r, (list, tuple)) else r for r in rows]
    if long:
        return [r"\begingroup\small", r"\begin{longtable}{" + spec + "}",
                r"\caption{" + caption + r"}\label{" + lab + r"}\\", r"\toprule", head_line, r"\midrule",
                r"\endfirsthead", r"\toprule", head_line, r"\midrule", r"\endhead", r"\bottomrule", r"\endlastfoot",
                *body, r"\end{longtable}", r"\endgroup", ""]
    return [r"\begin{table}[htbp]", r"\centering\small", r"\caption{" + caption + r"}\label{" + lab + "}",
            r"\begin{tabular}{" + spec + "}", r"\toprule", head_line, r"\midrule", *body, r"\bottomrule",
            r"\end{tabular}", r"\end{table}", ""]


def figure(name: str, file: str, lab: str) -> list[str]:
    return [r"\begin{figure}[htbp]", r"\centering", r"\includegraphics[width=\linewidth]{" + file + "}",
            r"\caption{" + CAPTIONS[name] + r"}\label{" + lab + "}", r"\end{figure}", ""]


def items(texts: Sequence[str]) -> list[str]:
    return [r"\begin{itemize}", *(r"\item " + t for t in texts), r"\end{itemize}", ""] if texts else []


def result(ctx: dict[str, Any], sub: str, lab: str) -> list[str]:
    rows: list[Any] = []
    for i, group in enumerate(ctx["summary"]):
        if i:
            rows.append(r"\addlinespace")
        rows.append(r"\multicolumn{2}{@{}l}{\emph{" + T.own(group["section"]) + r"}} \\")
        rows += [(T.own(r["label"]), T.cell(r["value"])) for r in group["rows"]]
    out = [rf"\{sub}{{Result at the operating point}}\label{{sec:{lab}:result}}",
           r"The token rate is $\dot{Q} = U \cdot \min(K_\mathrm{eff}/c_\mathrm{tok},\, P_\mathrm{IT}/e_\mathrm{tok})$ "
           r"with $P_\mathrm{IT} = P_\mathrm{facility}/\mathrm{PUE}$. Delivered power binds when "
           r"$\gamma = e_\mathrm{tok}/c_\mathrm{tok}$ exceeds $\gamma^* = P_\mathrm{IT}/K_\mathrm{eff}$; otherwise "
           r"compute binds (Table~\ref{tab:" + lab + ":result}).", ""]
    out += table("@{}" + _P + r"{0.52\linewidth}" + _R + r"{0.44\linewidth}@{}", ["Quantity", "Value"], rows,
                 "The operating point of " + T.prose(ctx["scenario_name"]) + ".", "tab:" + lab + ":result")
    return out + items([T.own(n) for n in ctx["notes"]])


def operating_point(ctx: dict[str, Any], sub: str, lab: str) -> list[str]:
    op = ctx["operating_point"]
    out = [rf"\{sub}{{Operating point $(q^*, s^*)$}}\label{{sec:{lab}:operating-point}}",
           "Every figure holds at this operating point only" + (f": workload {T.prose(op['workload'])}"
                                                                 if op["workload"] else "")
           + ". A lever counts only if it keeps quality inside the tolerances and latency inside the SLO.", ""]
    if op["quality"]:
        out += table("@{}lrrl@{}", ["Benchmark", "Score", "Tolerance", "Metric"],
                     [(T.prose(q["benchmark"]), T.cell(q["score"]), T.own(q["tolerance"]), T.prose(q["metric"]))
                      for q in op["quality"]], "Quality targets $q^*$.", "tab:" + lab + ":quality")
    if op["service"]:
        out += table("@{}lrr@{}", ["Target", "SLO", "Measured"],
                     [(T.own(s["label"]), T.cell(s["slo"]), T.cell(s["measured"])) for s in op["service"]],
                     "Latency SLO $s^*$.", "tab:" + lab + ":slo")
    out += table("@{}" + _P + r"{0.4\linewidth}" + _P + r"{0.56\linewidth}@{}", ["Condition", "Value"],
                 [(T.own(c["label"]), T.value(c["value"])) for c in op["conditions"]],
                 "Serving and measurement conditions.", "tab:" + lab + ":conditions")
    return out + items([r"\emph{" + T.escape(c["profile"]) + ":} " + T.prose(c["text"]) for c in ctx["caveats"]])


def charts_part(ctx: dict[str, Any], files: dict[str, str], sub: str, lab: str) -> list[str]:
    out = [rf"\{sub}{{Charts}}\label{{sec:{lab}:charts}}", ""]
    for name in ("ceilings", "regime"):
        if name in files:
            out += figure(name, files[name], f"fig:{lab}:{name}")
    if "ceilings" not in files and "regime" not in files:
        out += ["No chart: the ceilings cannot be computed from the inputs.", ""]
    return out


def horizon_part(ctx: dict[str, Any], files: dict[str, str], sub: str, lab: str) -> list[str]:
    hz = ctx["horizon"]
    if hz is None:
        return []
    out = [rf"\{sub}{{Horizon with time-varying inputs}}\label{{sec:{lab}:horizon}}",
           "The inputs below change over the horizon" + (f" from {T.escape(hz['start_date'])}" if hz["start_date"]
                                                         else "")
           + "; the totals integrate the token rate over time with the scenario's trajectories (the result table "
             "gives them at constant inputs).", ""]
    if "horizon" in files:
        out += figure("horizon", files["horizon"], f"fig:{lab}:horizon")
    if hz["trajectories"]:
        out += table("@{}" + _P + r"{0.3\linewidth}l" + _P + r"{0.5\linewidth}@{}", ["Input", "Trajectory", "Source"],
                     [(T.key(t["key"]), T.escape(t["form"]), T.prose(t["source"]) + cite(t["cites"]))
                      for t in hz["trajectories"]], "Inputs that change over the horizon.",
                     "tab:" + lab + ":trajectories")
    rows = [(T.escape(s["when"]), T.escape(s["from"]) + "-bound", T.escape(s["to"]) + "-bound") for s in hz["switches"]]
    if rows:
        out += table("@{}lll@{}", ["When", "From", "To"], rows, "Switches of the binding constraint.",
                     "tab:" + lab + ":switches")
    else:
        out += ["The binding constraint does not change over the horizon.", ""]
    out += table("@{}" + _P + r"{0.6\linewidth}" + _R + r"{0.36\linewidth}@{}", ["Total", "Value"],
                 [(T.own(t["label"]), T.cell(t["value"])) for t in hz["totals"]],
                 "Totals over the horizon, with the scenario's trajectories.", "tab:" + lab + ":totals")
    return out


def uncertainty_part(ctx: dict[str, Any], files: dict[str, str], sub: str, lab: str) -> list[str]:
    u = ctx["uncertainty"]
    if u is None:
        return []
    out = [rf"\{sub}{{Uncertainty}}\label{{sec:{lab}:uncertainty}}",
           rf"Monte Carlo over the input ranges (triangular): \num{{{u['samples'].replace(',', '')}}} samples, seed "
           rf"{u['seed']}. Probability that delivered power binds: {T.cell(u['p_power_bound'])}.", ""]
    if u["ranges"]:
        # Each source on a line of its own under its range: three quantities with units leave no room beside them.
        rows: list[Any] = []
        for r in u["ranges"]:
            rows += [(T.key(r["key"]), T.cell(r["low"]), T.cell(r["mode"]), T.cell(r["high"])),
                     r"\multicolumn{4}{@{}" + _P + r"{\linewidth}@{}}{\footnotesize " + T.prose(r["source"])
                     + cite(r["cites"]) + r"} \\[2pt]"]
        out += table("@{}" + _P + r"{0.34\linewidth}rrr@{}", ["Ranged input", "Low", "Mode", "High"], rows,
                     "Inputs given as ranges, each with its source.", "tab:" + lab + ":ranges")
    if u["percentiles"]:
        out += table("@{}lrrr@{}", ["Output", "P5", "P50", "P95"],
                     [(T.own(r["label"]), T.cell(r["p5"]), T.cell(r["p50"]), T.cell(r["p95"]))
                      for r in u["percentiles"]], "Percentiles of the outputs.", "tab:" + lab + ":percentiles")
    if "tornado" in files:
        out += figure("tornado", files["tornado"], f"fig:{lab}:tornado")
    return out


def cost_part(ctx: dict[str, Any], sub: str, lab: str) -> list[str]:
    c = ctx["cost"]
    out = [rf"\{sub}{{Cost and impact}}\label{{sec:{lab}:cost}}",
           "The cost counts electricity, and hardware and the building where their prices are given (amortised "
           "straight-line over the lifetime; a rental is all-in). " + T.prose(c["caveat"]), ""]
    out += table("@{}lr@{}", ["Quantity", "Value"], [(T.own(r["label"]), T.cell(r["value"])) for r in c["rows"]],
                 "Cost and impact at the operating point.", "tab:" + lab + ":cost")
    # The provider beside the model, not in a column of its own: the five columns fit the text width.
    out += table("@{}" + _P + r"{0.25\linewidth}rrl" + _P + r"{0.33\linewidth}@{}",
                 ["Model (provider)", "Input", "Output", "Listed", "Source"],
                 [(T.prose(p["model"]) + r" \emph{(" + T.prose(p["provider"]) + ")}", T.cell(p["input"]),
                   T.cell(p["output"]), T.prose(p["date"]), T.prose(p["source"])) for p in c["prices"]],
                 "Listed API prices, USD per million tokens (directional context only).", "tab:" + lab + ":prices")
    return out


def levers_part(ctx: dict[str, Any], sub: str, lab: str) -> list[str]:
    out = [rf"\{sub}{{System-efficiency levers}}\label{{sec:{lab}:levers}}"]
    if not ctx["levers"]:
        return out + [f"No levers in this scenario ({T.own(ctx['phi'])}).", ""]
    rows = [(T.prose(lv["name"]) + r" (\texttt{" + T.escape(lv["id"]) + "})" + cite(lv["cites"]),
             "yes" if lv["counted"] else "no", T.cell(lv["c_tok_factor"]), T.cell(lv["e_tok_factor"]),
             T.own(lv["reason"])) for lv in ctx["levers"]]
    out += table("@{}" + _P + r"{0.3\linewidth}lrr" + _P + r"{0.36\linewidth}@{}",
                 ["Lever", "Counted", "$f_c$", "$f_e$", "Why"], rows,
                 f"Levers; counted ones combine into {T.own(ctx['phi'])}.", "tab:" + lab + ":levers")
    return out


def checklist_part(ctx: dict[str, Any], sub: str, lab: str) -> list[str]:
    rows = []
    for i, c in enumerate(ctx["checklist"], 1):
        detail = T.own(c["detail"]) + ((r"\newline\emph{Missing: " + T.own("; ".join(c["missing"])) + "}")
                                       if c["missing"] else "")
        rows.append((str(i), T.own(c["item"]), r"\textbf{" + ("given" if c["given"] else "missing") + "}", detail))
    return [rf"\{sub}{{Disclosure checklist}}\label{{sec:{lab}:checklist}}",
            "The six items a Token Production Function report must carry, checked against what the inputs "
            "actually contain.", "",
            *table("@{}r" + _P + r"{0.26\linewidth}l" + _P + r"{0.46\linewidth}@{}",
                   ["\\#", "Item", "Status", "What the inputs give"], rows, "Disclosure checklist.",
                   "tab:" + lab + ":checklist", long=True)]


def provenance_part(ctx: dict[str, Any], sub: str, lab: str) -> list[str]:
    rows = [(T.key(p["key"]), T.value(p["value"]), T.prose(p["source"]) + cite(p["cites"]))
            for p in ctx["provenance"]]
    return [rf"\{sub}{{Provenance of every input}}\label{{sec:{lab}:provenance}}",
            "Each input as resolved (profiles, then the scenario, then command-line flags), with its source.", "",
            *table("@{}" + _P + r"{0.22\linewidth}" + _R + r"{0.25\linewidth}" + _P + r"{0.45\linewidth}@{}",
                   ["Input", "Value", "Source"], rows, "Provenance of every input.", "tab:" + lab + ":provenance",
                   long=True)]


def reproducibility_part(ctx: dict[str, Any], sub: str, lab: str) -> list[str]:
    def hash_text(h: str) -> str:
        return r"\texttt{" + r"\allowbreak{}".join(h[i:i + 16] for i in range(0, len(h), 16)) + "}"

    rows = [(T.escape(f["kind"]) + r" \texttt{" + T.escape(f["id"]) + "}", hash_text(T.escape(f["sha256"])))
            for f in ctx["files"]]
    out = [rf"\{sub}{{Reproducibility}}\label{{sec:{lab}:reproducibility}}",
           # ragged right: a typewriter command line has no stretchable spaces to justify with
           r"{\raggedright " + f"tokencalc {T.escape(ctx['version'])}; command: " + r"\texttt{"
           + T.breakable(ctx["command"]) + "}."
           + (f" Generated {T.escape(ctx['generated'])}." if ctx["generated"] else "")
           + r" The same inputs and tokencalc version give byte-identical files.\par}", ""]
    if rows:
        out += table("@{}" + _P + r"{0.34\linewidth}" + _P + r"{0.62\linewidth}@{}", ["Input file", "SHA-256"], rows,
                     "The input files.", "tab:" + lab + ":files")
    return out


def render_latex(ctx: dict[str, Any], *, stem: str, charts: dict[str, str], level: str = "section") -> str:
    """The .tex text of a report context.

    Args:
        ctx: from `context.build_context(..., inline=False)`.
        stem: the output's name without suffix (for the comments: `\\input{stem}`, `stem.bib`).
        charts: chart name -> file name written beside the .tex.
        level: "section" (a \\section with \\subsections) or "subsection".
    """
    if level not in LEVELS:
        raise ValueError(f"latex level {level!r}: expected one of {', '.join(LEVELS)}")
    top, sub = LEVELS[level]
    lab = label("tokencalc", ctx["scenario_id"])
    out = header(ctx, stem, list(charts.values()))
    out += ["", rf"\{top}{{Token Production Function: {T.prose(ctx['scenario_name'])}}}\label{{sec:{lab}}}",
            r"\textbf{Finding.} " + T.own(ctx["finding"]), ""]
    if ctx["description"]:
        out += [T.prose(ctx["description"]), ""]
    out += result(ctx, sub, lab) + operating_point(ctx, sub, lab) + charts_part(ctx, charts, sub, lab)
    out += horizon_part(ctx, charts, sub, lab) + uncertainty_part(ctx, charts, sub, lab) + cost_part(ctx, sub, lab)
    out += levers_part(ctx, sub, lab)
    out += checklist_part(ctx, sub, lab) + provenance_part(ctx, sub, lab) + reproducibility_part(ctx, sub, lab)
    return "\n".join(out).rstrip("\n") + "\n"
