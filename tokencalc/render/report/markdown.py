"""The report as Markdown (for a repository or a review site), charts as SVG files beside it.

The same context and sections as the HTML report: pipe tables, the checklist, the
charts as relative links, the cited sources as a list. Every string is escaped
(`<`, `>`, `&` as entities; Markdown's punctuation with a backslash), so profile
text never becomes markup, a link or math; a profile's `backtick` spans stay code.
"""

from __future__ import annotations

import re
from typing import Any, Sequence
from urllib.parse import quote

_SPECIAL = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_PUNCT = set("\\`*_[]{}#!|$~^")  # no link, emphasis, code, math or heading can start from escaped text
_CODE = re.compile(r"`([^`\n]+)`")
CAPTIONS = {
    "ceilings": "The two ceilings and the realized rate (the dark bar is the binding ceiling)",
    "regime": "Regime map: γ against γ* under the reported and the peak K_eff conventions",
    "horizon": "Token rate and both ceilings over the horizon, switch dates dotted",
    "tornado": "Tornado: each ranged input at its low and at its high end, the others at their modes",
}


def _md(text: str) -> str:
    return "".join(_SPECIAL.get(c) or ("\\" + c if c in _PUNCT else c) for c in text)


def md(text: Any) -> str:
    """Plain text as Markdown that shows exactly that text (whitespace collapsed)."""
    return _md(" ".join(str(text).split()))


def prose(text: Any) -> str:
    """A profile's text: escaped, its `backtick` spans kept as code (a `|` in them escaped for tables)."""
    parts = _CODE.split(" ".join(str(text).split()))
    return "".join(_md(p) if i % 2 == 0 else "`" + p.replace("|", "\\|") + "`" for i, p in enumerate(parts))


def code(text: Any) -> str:
    """Text as a code span (keys, ids, hashes): a span delimiter longer than any backtick run inside."""
    t = " ".join(str(text).split()).replace("|", "\\|")
    fence = "`" * (max((len(r) for r in re.findall(r"`+", t)), default=0) + 1)
    return f"{fence} {t} {fence}" if t.startswith("`") or t.endswith("`") else f"{fence}{t}{fence}"


def pipe_table(head: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> list[str]:
    """A pipe table; `align` has one of l, r per column."""
    rule = ["---:" if a == "r" else "---" for a in align]
    return ["| " + " | ".join(head) + " |", "| " + " | ".join(rule) + " |",
            *("| " + " | ".join(r) + " |" for r in rows), ""]


def cites(keys: Sequence[str]) -> str:
    return (" [" + ", ".join(md(k) for k in keys) + "]") if keys else ""


def _link_target(name: str) -> str:
    return quote(name, safe="-._~")


def result_md(ctx: dict[str, Any]) -> list[str]:
    rows = []
    for g in ctx["summary"]:
        rows.append((f"**{md(g['section'])}**", ""))
        rows += [(md(r["label"]), md(r["value"])) for r in g["rows"]]
    out = ["## 1 Result at the operating point", "",
           "The token rate is Q̇ = U · min(K\\_eff / c\\_tok, P\\_IT / e\\_tok) with P\\_IT = P\\_facility / PUE. "
           "Delivered power binds when γ = e\\_tok / c\\_tok exceeds γ\\* = P\\_IT / K\\_eff; otherwise compute binds.",
           "", *pipe_table(["Quantity", "Value"], rows, "lr")]
    if ctx["notes"]:
        out += ["Notes:", "", *(f"- {md(n)}" for n in ctx["notes"]), ""]
    return out


def operating_point_md(ctx: dict[str, Any]) -> list[str]:
    op = ctx["operating_point"]
    out = ["## 2 Operating point (q\\*, s\\*)", "",
           "Every figure holds at this operating point only" + (f": workload {md(op['workload'])}"
                                                                 if op["workload"] else "")
           + ". A lever counts only if it keeps quality inside the tolerances and latency inside the SLO.", ""]
    if op["quality"]:
        out += ["Quality targets q\\*:", "", *pipe_table(
            ["Benchmark", "Score", "Tolerance", "Metric"],
            [(md(q["benchmark"]), md(q["score"]), md(q["tolerance"]), prose(q["metric"])) for q in op["quality"]],
            "lrrl")]
    else:
        out += ["No quality targets declared.", ""]
    if op["service"]:
        out += ["Latency SLO s\\*:", "", *pipe_table(
            ["Target", "SLO", "Measured"], [(md(s["label"]), md(s["slo"]), md(s["measured"])) for s in op["service"]],
            "lrr")]
    else:
        out += ["No latency SLO declared.", ""]
    out += ["Serving and measurement conditions:", "",
            *pipe_table(["Condition", "Value"], [(md(c["label"]), prose(c["value"])) for c in op["conditions"]], "ll")]
    if ctx["caveats"]:
        out += ["Caveats declared by the profiles:", "",
                *(f"- *{md(c['profile'])}:* {prose(c['text'])}" for c in ctx["caveats"]), ""]
    return out


def chart_md(name: str, files: dict[str, str]) -> list[str]:
    return [f"![{md(CAPTIONS[name])}]({_link_target(files[name])})", "", f"*{md(CAPTIONS[name])}.*", ""] \
        if name in files else []


def horizon_md(ctx: dict[str, Any], files: dict[str, str]) -> list[str]:
    hz = ctx["horizon"]
    if hz is None:
        return []
    out = ["### 3a Horizon with time-varying inputs", "",
           "The inputs below change over the horizon" + (f" from {md(hz['start_date'])}" if hz["start_date"] else "")
           + "; the totals integrate the token rate over time with the scenario's trajectories (section 1 gives "
             "them at constant inputs).", "", *chart_md("horizon", files)]
    if hz["trajectories"]:
        out += pipe_table(["Input", "Trajectory", "Source"],
                          [(code(t["key"]), md(t["form"]), prose(t["source"]) + cites(t["cites"]))
                           for t in hz["trajectories"]], "lll")
    if hz["switches"]:
        out += ["Switches of the binding constraint:", "", *pipe_table(
            ["When", "From", "To"], [(md(s["when"]), md(s["from"]) + "-bound", md(s["to"]) + "-bound")
                                     for s in hz["switches"]], "lll")]
    else:
        out += ["The binding constraint does not change over the horizon.", ""]
    out += ["Totals over the horizon, with the scenario's trajectories:", "",
            *pipe_table(["Total", "Value"], [(md(t["label"]), md(t["value"])) for t in hz["totals"]], "lr")]
    return out


def uncertainty_md(ctx: dict[str, Any], files: dict[str, str]) -> list[str]:
    u = ctx["uncertainty"]
    if u is None:
        return []
    out = ["### 3b Uncertainty", "",
           f"Monte Carlo over the input ranges (triangular): {md(u['samples'])} samples, seed {u['seed']}. "
           f"Probability that delivered power binds: **{md(u['p_power_bound'])}**.", ""]
    if u["ranges"]:
        out += pipe_table(["Ranged input", "Low", "Mode", "High", "Source"],
                          [(code(r["key"]), md(r["low"]), md(r["mode"]), md(r["high"]),
                            prose(r["source"]) + cites(r["cites"])) for r in u["ranges"]], "lrrrl")
    if u["percentiles"]:
        out += pipe_table(["Output", "P5", "P50", "P95"],
                          [(md(r["label"]), md(r["p5"]), md(r["p50"]), md(r["p95"])) for r in u["percentiles"]],
                          "lrrr")
    return out + chart_md("tornado", files)


def cost_md(ctx: dict[str, Any]) -> list[str]:
    c = ctx["cost"]
    out = ["### 3c Cost and impact", "",
           "The cost counts electricity, and hardware and the building where their prices are given (amortised "
           "straight-line over the lifetime; a rental is all-in).", ""]
    out += pipe_table(["Quantity", "Value"], [(md(r["label"]), md(r["value"])) for r in c["rows"]], "lr")
    out += pipe_table(["Listed API price (per million tokens)", "Provider", "Input", "Output", "Listed", "Source"],
                      [(md(p["model"]) + (" (this workload's model)" if p["same_model"] else ""), md(p["provider"]),
                        md(p["input"]), md(p["output"]), md(p["date"]), prose(p["source"])) for p in c["prices"]],
                      "llrrll")
    return out + [f"*{md(c['caveat'])}*", ""]


def levers_md(ctx: dict[str, Any]) -> list[str]:
    out = ["## 4 System-efficiency levers", ""]
    if not ctx["levers"]:
        return out + [f"No levers in this scenario ({md(ctx['phi'])}).", ""]
    rows = [(prose(lv["name"]) + f" ({code(lv['id'])}, {md(lv['confidence'])})" + cites(lv["cites"]),
             "yes" if lv["counted"] else "**no**", md(lv["c_tok_factor"]), md(lv["e_tok_factor"]), md(lv["reason"]))
            for lv in ctx["levers"]]
    return out + pipe_table(["Lever", "Counted", "f\\_c", "f\\_e", "Why"], rows, "llrrl") + [
        f"Counted levers combine into {md(ctx['phi'])}.", ""]


def checklist_md(ctx: dict[str, Any]) -> list[str]:
    rows = []
    for i, c in enumerate(ctx["checklist"], 1):
        missing = f"<br>*Missing: {md('; '.join(c['missing']))}*" if c["missing"] else ""
        rows.append((str(i), md(c["item"]), "given" if c["given"] else "**missing**", md(c["detail"]) + missing))
    return ["## 5 Disclosure checklist", "",
            "The six items a Token Production Function report must carry, checked against what the inputs actually "
            "contain.", "", *pipe_table(["#", "Item", "Status", "What the inputs give"], rows, "llll")]


def provenance_md(ctx: dict[str, Any]) -> list[str]:
    rows = [(code(p["key"]), md(p["value"]), prose(p["source"]) + cites(p["cites"])) for p in ctx["provenance"]]
    return ["## 6 Provenance of every input", "",
            "Each input as resolved (profiles, then the scenario, then command-line flags), with its source.", "",
            *pipe_table(["Input", "Value", "Source"], rows, "lrl")]


def sources_md(ctx: dict[str, Any]) -> list[str]:
    out = ["## 7 Sources cited", ""]
    for e in ctx["bib"].entries:
        s = e.source
        parts = [x for x in (s.author, s.title, s.publisher, s.year) if x] if s.title else [s.text]
        text = md(", ".join(parts)) + (f" ({md(s.note)})" if s.title and s.note else "")
        url = s.url.strip() if s.title and s.url else ""
        link = f" <{quote(url, safe=':/?&=#%+.,;@~-_')}>" if re.match(r"https?://", url) else (
            f" {md(url)}" if url else "")
        out.append(f"- **{md(e.key)}**: {text}.{link} Cited for {md('; '.join(e.cited_for))}.")
    return out + ([""] if ctx["bib"].entries else ["No source is cited.", ""])


def reproducibility_md(ctx: dict[str, Any]) -> list[str]:
    out = ["## 8 Reproducibility", "", f"tokencalc {md(ctx['version'])}; command: {code(ctx['command'])}."
           + (f" Generated {md(ctx['generated'])}." if ctx["generated"] else ""), ""]
    if ctx["files"]:
        out += pipe_table(["Input file", "SHA-256"], [(f"{md(f['kind'])} {code(f['id'])} ({md(f['path'])})",
                                                        code(f["sha256"])) for f in ctx["files"]], "ll")
    return out + ["The same inputs and tokencalc version give byte-identical files.", ""]


def render_markdown(ctx: dict[str, Any], *, charts: dict[str, str]) -> str:
    """The Markdown text of a report context (`context.build_context(..., inline=False)`).

    Args:
        charts: chart name -> SVG file name written beside the Markdown file.
    """
    out = [f"# Token Production Function report: {prose(ctx['scenario_name'])}", "",
           f"Scenario {code(ctx['scenario_id'])}" + (f" ({md(ctx['scenario_path'])})" if ctx["scenario_path"] else "")
           + f" · tokencalc {md(ctx['version'])}", "", f"**Finding.** {md(ctx['finding'])}", ""]
    if ctx["description"]:
        out += [prose(ctx["description"]), ""]
    out += pipe_table([md(h["label"]) for h in ctx["headline"]],
                      [[md(h["value"]) + (f"<br>{md(h['note'])}" if h["note"] else "") for h in ctx["headline"]]],
                      "l" * len(ctx["headline"]))
    out += result_md(ctx) + operating_point_md(ctx) + ["## 3 Charts", ""]
    out += chart_md("ceilings", charts) + chart_md("regime", charts)
    if "ceilings" not in charts and "regime" not in charts:
        out += ["No chart: the ceilings cannot be computed from the inputs.", ""]
    out += horizon_md(ctx, charts) + uncertainty_md(ctx, charts) + cost_md(ctx) + levers_md(ctx) + checklist_md(ctx)
    out += provenance_md(ctx) + sources_md(ctx) + reproducibility_md(ctx)
    return "\n".join(out).rstrip("\n") + "\n"
