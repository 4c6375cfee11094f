"""Output formats for `estimate`: table, json, csv, markdown, latex.

Each `OutputFormat` member maps to exactly one formatter (a test proves it).
JSON and CSV carry plain SI floats with the unit in the key name; the table,
Markdown and LaTeX layers humanise.
"""

from __future__ import annotations

import csv
import io
import json
from enum import Enum
from typing import Any, Callable

from . import humanize as H
from ..core.model import Result


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


def finding(result: Result) -> str:
    """The one-sentence finding: which constraint binds and what the other could sustain."""
    v = result.values
    b, qk, qp = v["binding"], v["compute_ceiling_tokens_per_s"], v["power_ceiling_tokens_per_s"]
    conv = v["k_eff_convention"] or "?"
    if b == "power":
        return (f"Power-bound ({conv} K_eff): delivered power limits output to {H.si(qp, 'token/s')}; "
                f"compute could sustain {H.si(qk, 'token/s')}.")
    if b == "compute":
        return (f"Compute-bound ({conv} K_eff): effective compute limits output to {H.si(qk, 'token/s')}; "
                f"delivered power could sustain {H.si(qp, 'token/s')}.")
    if b == "balanced":
        return (f"Balanced: compute ({H.si(qk, 'token/s')}) and delivered power ({H.si(qp, 'token/s')}) "
                f"are within {H.percent(v['binding_tolerance'])} of each other.")
    return "Binding constraint unknown: " + ("no compute ceiling" if qk is None else "no power ceiling") + " (see notes)."


def summary_rows(result: Result) -> list[tuple[str, str, str, Any, str]]:
    """(section, quantity, human value, SI value, SI unit) rows shared by the text formats."""
    v = result.values
    binding = v["binding"]
    rows = [
        ("Ceilings", "Compute ceiling K_eff / c_tok", H.rate(v["compute_ceiling_tokens_per_s"]), v["compute_ceiling_tokens_per_s"], "token/s"),
        ("Ceilings", "Power ceiling P_IT / e_tok", H.rate(v["power_ceiling_tokens_per_s"]), v["power_ceiling_tokens_per_s"], "token/s"),
        ("Ceilings", "Realized rate U · min(...)", H.rate(v["token_rate_tokens_per_s"]), v["token_rate_tokens_per_s"], "token/s"),
        ("Ceilings", "Binding constraint (" + (v["k_eff_convention"] or "—") + " K_eff)", binding or "unknown", binding, ""),
        ("Ceilings", "Binding constraint (peak K_eff)", v["binding_peak"] or "unknown", v["binding_peak"], ""),
        ("Crossover", "γ = e_tok / c_tok", H.si(v["gamma_j_per_flop"], "J/FLOP"), v["gamma_j_per_flop"], "J/FLOP"),
        ("Crossover", "γ* = P_IT / K_eff", H.si(v["gamma_star_j_per_flop"], "J/FLOP"), v["gamma_star_j_per_flop"], "J/FLOP"),
        ("Crossover", "γ*_peak = P_IT / K_peak", H.si(v["gamma_star_peak_j_per_flop"], "J/FLOP"), v["gamma_star_peak_j_per_flop"], "J/FLOP"),
        ("Inputs", "K_eff (" + (v["k_eff_convention"] or "—") + ")", H.si(v["k_eff_flop_per_s"], "FLOP/s"), v["k_eff_flop_per_s"], "FLOP/s"),
        ("Inputs", "K_peak", H.si(v["k_peak_flop_per_s"], "FLOP/s"), v["k_peak_flop_per_s"], "FLOP/s"),
        ("Inputs", "c_tok", H.si(v["c_tok_flop_per_token"], "FLOP/token"), v["c_tok_flop_per_token"], "FLOP/token"),
        ("Inputs", "e_tok (IT boundary)", H.si(v["e_tok_j_per_token"], "J/token"), v["e_tok_j_per_token"], "J/token"),
        ("Inputs", "P_facility", H.si(v["p_facility_w"], "W"), v["p_facility_w"], "W"),
        ("Inputs", "PUE", "—" if v["pue"] is None else H.sig(v["pue"]), v["pue"], "1"),
        ("Inputs", "P_IT", H.si(v["p_it_w"], "W"), v["p_it_w"], "W"),
        ("Inputs", "Utilization U", H.percent(v["utilization"]), v["utilization"], "1"),
        ("Inputs", "Φ_c, Φ_e (levers)", f"{H.sig(v['phi_c'])}, {H.sig(v['phi_e'])}", v["phi_c"], "1"),
        ("Inputs", "η_K = K_eff / K_peak", H.percent(v["eta_k"]), v["eta_k"], "1"),
        ("Inputs", "η_E = e_ref / e_tok", H.percent(v["eta_e"]), v["eta_e"], "1"),
        ("Horizon", "Horizon T", H.duration(v["horizon_s"]), v["horizon_s"], "s"),
        ("Horizon", "Tokens Q(T)", H.count(v["tokens_total"]), v["tokens_total"], "token"),
        ("Horizon", "IT energy", H.energy(v["energy_it_j"]), v["energy_it_j"], "J"),
        ("Horizon", "Facility energy", H.energy(v["energy_facility_j"]), v["energy_facility_j"], "J"),
        ("Horizon", "Electricity cost", H.money(v["cost_usd"]), v["cost_usd"], "USD"),
        ("Horizon", "Emissions", H.mass_co2e(v["emissions_kg_co2e"]), v["emissions_kg_co2e"], "kgCO2e"),
        ("Horizon", "Cost per million tokens", H.money(v["cost_usd_per_million_tokens"]), v["cost_usd_per_million_tokens"], "USD"),
    ]
    return rows


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


_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                  "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}


def latex_escape(text: str) -> str:
    """Escape LaTeX special characters in plain text."""
    return "".join(_LATEX_SPECIAL.get(c, c) for c in str(text))


LATEX_LABELS = {
    "Compute ceiling K_eff / c_tok": r"Compute ceiling $K_\mathrm{eff}/c_\mathrm{tok}$",
    "Power ceiling P_IT / e_tok": r"Power ceiling $P_\mathrm{IT}/e_\mathrm{tok}$",
    "Realized rate U · min(...)": r"Realized rate $U\cdot\min(\cdot)$",
    "γ = e_tok / c_tok": r"$\gamma = e_\mathrm{tok}/c_\mathrm{tok}$",
    "γ* = P_IT / K_eff": r"$\gamma^* = P_\mathrm{IT}/K_\mathrm{eff}$",
    "γ*_peak = P_IT / K_peak": r"$\gamma^*_\mathrm{peak} = P_\mathrm{IT}/K_\mathrm{peak}$",
    "c_tok": r"$c_\mathrm{tok}$",
    "e_tok (IT boundary)": r"$e_\mathrm{tok}$ (IT boundary)",
    "P_facility": r"$P_\mathrm{facility}$",
    "P_IT": r"$P_\mathrm{IT}$",
    "K_peak": r"$K_\mathrm{peak}$",
    "Utilization U": r"Utilization $U$",
    "Φ_c, Φ_e (levers)": r"$\Phi_c$, $\Phi_e$ (levers)",
    "η_K = K_eff / K_peak": r"$\eta_K = K_\mathrm{eff}/K_\mathrm{peak}$",
    "η_E = e_ref / e_tok": r"$\eta_E = e_\mathrm{ref}/e_\mathrm{tok}$",
    "Tokens Q(T)": r"Tokens $Q(T)$",
    "Horizon T": r"Horizon $T$",
}

LATEX_UNITS = {"token/s": r"token\,s$^{-1}$", "J/FLOP": r"J\,FLOP$^{-1}$", "FLOP/s": r"FLOP\,s$^{-1}$",
               "FLOP/token": r"FLOP\,token$^{-1}$", "J/token": r"J\,token$^{-1}$", "W": "W", "1": "",
               "s": "s", "token": "token", "J": "J", "USD": "USD", "kgCO2e": r"kg CO$_2$e", "": ""}


_LATEX_SYMBOLS = [(r"K\_eff", r"$K_\mathrm{eff}$"), (r"K\_peak", r"$K_\mathrm{peak}$"),
                  (r"c\_tok", r"$c_\mathrm{tok}$"), (r"e\_tok", r"$e_\mathrm{tok}$"), (r"P\_IT", r"$P_\mathrm{IT}$")]


def _latex_text(text: str) -> str:
    """Escape plain text, then typeset the model's symbols (K_eff, c_tok, ...) as math."""
    out = latex_escape(text)
    for plain, math in _LATEX_SYMBOLS:
        out = out.replace(plain, math)
    return out


# Units that take an SI prefix in the table (the number stays between 1 and 1000).
_PREFIXED = {"token/s", "J/FLOP", "FLOP/s", "FLOP/token", "J/token", "W"}
_LATEX_PREFIX = {"µ": r"$\mu$"}


def _latex_num(text: str) -> str:
    """A humanised number ("1,666", "83.0") in math mode with a proper thousands separator."""
    return "$" + text.replace(",", "{,}") + "$"


def latex_quantity(x: Any, unit: str) -> str:
    """One SI value as a LaTeX table cell: prefixed units, planners' units for energy/time/money/carbon."""
    if x is None:
        return "---"
    if unit in _PREFIXED and x != 0:
        number, _, prefix = H.si(x, "").partition(" ")
        return f"{_latex_num(number)}~{_LATEX_PREFIX.get(prefix, prefix)}{LATEX_UNITS[unit]}"
    if unit == "s":
        number, _, word = H.duration(x).partition(" ")
        return f"{_latex_num(number)}~{word}"
    if unit == "J":
        number, _, wh = H.energy(x).partition(" ")
        return f"{_latex_num(number)}~{_LATEX_PREFIX.get(wh[:-2], wh[:-2])}Wh"
    if unit == "USD":
        text = H.money(x)
        millions = text.endswith(" M")
        return r"\$" + _latex_num(text.lstrip("$").removesuffix(" M")) + ("~M" if millions else "")
    if unit == "kgCO2e":
        number, _, u = H.mass_co2e(x).partition(" ")
        return f"{_latex_num(number)}~{'t' if u.startswith('t') else 'kg'}~CO$_2$e"
    u = LATEX_UNITS.get(unit, latex_escape(unit))
    return f"${H.latex_number(x)}$" + (f"~{u}" if u else "")


def to_latex(result: Result) -> str:
    """A booktabs table (needs \\usepackage{booktabs}): symbols in math, numbers with SI prefixes."""
    v = result.values
    name = latex_escape(v["scenario"] or "estimate")
    lines = [r"% tokencalc estimate — requires \usepackage{booktabs}",
             r"\begin{table}[ht]", r"\centering",
             rf"\caption{{Token Production Function operating point: {name}. {_latex_text(finding(result))}}}",
             r"\label{tab:tokencalc-" + "".join(c for c in (v['scenario'] or 'estimate') if c.isalnum() or c == '-') + "}",
             r"\begin{tabular}{@{}llr@{}}", r"\toprule", r"Section & Quantity & Value \\", r"\midrule"]
    last = None
    for section, label, human, si_value, unit in summary_rows(result):
        if label.startswith("Binding"):
            cell = latex_escape(si_value or "unknown")
        elif label.startswith("Φ_c"):
            cell = f"${H.latex_number(v['phi_c'])}$, ${H.latex_number(v['phi_e'])}$"
        elif isinstance(si_value, (int, float)):
            cell = latex_quantity(si_value, unit)
        else:
            cell = "---"
        if last is not None and section != last:
            lines.append(r"\addlinespace")
        lines.append(f"{latex_escape(section) if section != last else ''} & "
                     f"{LATEX_LABELS.get(label) or _latex_text(label)} & {cell} \\\\")
        last = section
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


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
