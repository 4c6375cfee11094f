"""LaTeX for papers: an estimate as a booktabs table, symbols in math, numbers with their units.

Every cell is the one humanizer's text (`humanize.quantity`: the same number and
prefix the terminal table shows), typeset: the number in math mode with a
proper thousands separator, the unit with CO$_2$e, µ and negative exponents.
Counts of tokens are written as m×10^e.
"""

from __future__ import annotations

import re
from typing import Any

from ..core import Result
from . import humanize as H
from .summary import finding, summary_rows

_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
            "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}

LABELS = {
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
_SYMBOLS = [(r"K\_eff", r"$K_\mathrm{eff}$"), (r"K\_peak", r"$K_\mathrm{peak}$"), (r"c\_tok", r"$c_\mathrm{tok}$"),
            (r"e\_tok", r"$e_\mathrm{tok}$"), (r"P\_IT", r"$P_\mathrm{IT}$")]


def latex_escape(text: str) -> str:
    """Escape LaTeX special characters in plain text."""
    return "".join(_SPECIAL.get(c, c) for c in str(text))


def latex_text(text: str) -> str:
    """Escape plain text, then typeset the model's symbols (K_eff, c_tok, ...) as math."""
    out = latex_escape(text)
    for plain, math in _SYMBOLS:
        out = out.replace(plain, math)
    return out


def latex_unit(unit: str) -> str:
    """A humanised unit in LaTeX: "ktCO2e" -> kt~CO$_2$e, "token/s" -> token\\,s$^{-1}$, "µJ" -> $\\mu$J."""
    unit = unit.replace("µ", r"$\mu$")
    m = re.fullmatch(r"(.*?)(g|t)CO2e", unit)
    if m:
        return f"{m.group(1)}{m.group(2)}~CO$_2$e"
    if "/" in unit:
        num, den = unit.split("/", 1)
        return rf"{num}\,{den}$^{{-1}}$"
    return unit


def _num(text: str) -> str:
    """A humanised number ("1,666", "83.0", "1.23e+21") in math mode."""
    if "e" in text:
        return f"${H.latex_number(float(text.replace(',', '')))}$"
    return "$" + text.replace(",", "{,}") + "$"


def latex_quantity(x: Any, unit: str) -> str:
    """One SI value as a LaTeX table cell, in the units and prefixes the terminal table uses."""
    if x is None:
        return "---"
    if unit == "token":
        return f"${H.latex_number(x)}$~token"
    if unit == "USD":
        text = H.money(x).lstrip("$")
        number, _, scale = text.partition(" ")
        return r"\$" + _num(number) + (f"~{scale}" if scale else "")
    human = H.quantity(x, unit)
    number, _, u = human.partition(" ")
    return _num(number) + (f"~{latex_unit(u)}" if u else "")


def to_latex(result: Result) -> str:
    """A booktabs table (needs \\usepackage{booktabs}): symbols in math, numbers with SI prefixes."""
    v = result.values
    name = latex_escape(v["scenario"] or "estimate")
    lines = [r"% tokencalc estimate — requires \usepackage{booktabs}",
             r"\begin{table}[ht]", r"\centering",
             rf"\caption{{Token Production Function operating point: {name}. {latex_text(finding(result))}}}",
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
        lines.append(f"{latex_escape(section) if section != last else ''} & {LABELS.get(label) or latex_text(label)} "
                     f"& {cell} \\\\")
        last = section
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"
