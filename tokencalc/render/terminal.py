"""Rich terminal rendering of an estimate (the `table` format)."""

from __future__ import annotations

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text
from typing import Any

from ..core import Result
from ..units import factor
from . import humanize as H
from .operating import SOURCE_LABELS, operating_rows
from .summary import finding, summary_rows


def estimate_renderable(result: Result, title: str | None = None) -> Group:
    """Build the rich renderables for one estimate."""
    v = result.values
    style = {"power": "bold yellow", "compute": "bold cyan", "balanced": "bold green"}.get(v["binding"] or "", "bold red")
    parts: list[Any] = [Text(title or result.inputs.title or v["scenario"] or "estimate", style="bold"),
                        Text(finding(result), style=style), _ceilings(v), _crossover(v), _inputs(v)]
    op = result.engine.get("operating_point")
    if op is not None:
        parts.append(operating_table(op))
    parts.append(_horizon(v))
    parts += [_section(result, name) for name in ("Requests", "Cost and impact", "Boundary ladder")
              if _has(result, name)]
    if result.levers:
        parts.append(_levers(result))
    if result.warnings:
        parts.append(Text("Warnings", style="bold red"))
        parts += [Text(f"! {w}", style="red") for w in result.warnings]
    if result.notes:
        parts.append(Text("Notes", style="bold"))
        parts += [Text(f"• {n}", style="dim") for n in result.notes]
    return Group(*parts)


def _ceilings(v: dict[str, Any]) -> Table:
    binding = v["binding"]
    day = factor("day", "time")
    t = Table(title="Ceilings", box=box.SIMPLE_HEAVY, title_justify="left", show_header=True, header_style="bold")
    t.add_column("")
    t.add_column("token/s", justify="right")
    t.add_column("token/day", justify="right")
    t.add_column("")
    qk, qp, q = v["compute_ceiling_tokens_per_s"], v["power_ceiling_tokens_per_s"], v["token_rate_tokens_per_s"]
    for label, x, which in (("Compute ceiling  K_eff/c_tok", qk, "compute"), ("Power ceiling    P_IT/e_tok", qp, "power")):
        mark = "◀ binds" if binding == which or binding == "balanced" else ""
        row_style = "bold reverse" if mark else None
        t.add_row(label, H.si(x, ""), H.count(None if x is None else x * day), mark, style=row_style)
    t.add_row(f"Realized rate    U·min  (U = {H.percent(v['utilization'])})", H.si(q, ""),
              H.count(None if q is None else q * day), "")
    return t


def _crossover(v: dict[str, Any]) -> Table:
    c = Table(title="Which constraint binds", box=box.SIMPLE_HEAVY, title_justify="left", header_style="bold")
    c.add_column("K_eff convention")
    c.add_column("K_eff", justify="right")
    c.add_column("γ* = P_IT/K_eff", justify="right")
    c.add_column("γ = e_tok/c_tok", justify="right")
    c.add_column("binding")
    conv = v["k_eff_convention"] or "—"
    c.add_row(f"{conv} (reported)", H.si(v["k_eff_flop_per_s"], "FLOP/s"), H.si(v["gamma_star_j_per_flop"], "J/FLOP"),
              H.si(v["gamma_j_per_flop"], "J/FLOP"), v["binding"] or "unknown")
    c.add_row("peak (upper bound)", H.si(v["k_peak_flop_per_s"], "FLOP/s"), H.si(v["gamma_star_peak_j_per_flop"], "J/FLOP"),
              H.si(v["gamma_j_per_flop"], "J/FLOP"), v["binding_peak"] or "unknown")
    return c


def _inputs(v: dict[str, Any]) -> Table:
    i = Table(title="Inputs", box=box.SIMPLE, title_justify="left", show_header=False)
    i.add_column("")
    i.add_column("", justify="right")
    i.add_column("", style="dim")
    ib = v["e_tok_input_boundary"]
    rows = [
        ("c_tok", H.si(v["c_tok_flop_per_token"], "FLOP/token"), v["c_tok_origin"] or ""),
        ("e_tok (IT)", H.si(v["e_tok_j_per_token"], "J/token"),
         f"from {H.si(v['e_tok_at_boundary_j_per_token'], 'J/token')} at the {ib} boundary" if ib and ib != "it" else (v["e_tok_origin"] or "")),
        ("e_tok (facility)", H.si(v["e_tok_facility_j_per_token"], "J/token"), "e_tok × PUE"),
        ("P_facility / PUE / P_IT", f"{H.si(v['p_facility_w'], 'W')} / {'—' if v['pue'] is None else H.sig(v['pue'])} / {H.si(v['p_it_w'], 'W')}", ""),
        ("Devices", "—" if v["devices"] is None else f"{v['devices']:,}", ""),
        ("η_K  (K_eff/K_peak)", H.percent(v["eta_k"]), v["k_eff_limited_by"] or ""),
        ("η_E  (e_ref/e_tok)", H.percent(v["eta_e"]), "vs every FLOP at peak, board at TDP"),
        ("Φ_c, Φ_e  (levers)", f"{H.sig(v['phi_c'])}, {H.sig(v['phi_e'])}", ""),
        ("Run at the compute ceiling needs", H.si(v["power_demand_at_compute_ceiling_w"], "W"), "IT power"),
    ]
    for r in rows:
        i.add_row(*r)
    return i


def operating_table(op: Any) -> Table:
    """The operating point: where it comes from (measured, interpolated, modeled) and its figures."""
    t = Table(title=f"Operating point: {SOURCE_LABELS.get(op.source, op.source)}", box=box.SIMPLE,
              title_justify="left", show_header=False)
    t.add_column("")
    t.add_column("", justify="right")
    for label, value in operating_rows(op)[1:]:
        t.add_row(label, value)
    return t


def _horizon(v: dict[str, Any]) -> Table:
    h = Table(title=f"Over {H.duration(v['horizon_s'])} at constant inputs", box=box.SIMPLE, title_justify="left",
              show_header=False)
    h.add_column("")
    h.add_column("", justify="right")
    for label, val in (("Tokens", H.count(v["tokens_total"])), ("IT energy", H.energy(v["energy_it_j"])),
                       ("Facility energy", H.energy(v["energy_facility_j"])), ("Cost" if v["capex_usd"] is not None or v["opex_usd"] is not None else "Electricity cost",
                        H.money(v["cost_usd"])),
                       ("Emissions", H.mass_co2e(v["emissions_kg_co2e"])),
                       ("Cost per million tokens", H.money(v["cost_usd_per_million_tokens"])),
                       ("Emissions per token", H.si(v["emissions_g_co2e_per_token"], "gCO2e"))):
        if label == "Facility energy" and v["energy_idle_it_j"] is not None:
            h.add_row("  of which idle capacity (IT)", H.energy(v["energy_idle_it_j"]))
        h.add_row(label, val)
    return h


def _has(result: Result, section: str) -> bool:
    return any(row[0] == section for row in summary_rows(result))


def _section(result: Result, section: str) -> Table:
    """One optional section of the summary (requests, the boundary ladder) as a two-column table."""
    t = Table(title=section, box=box.SIMPLE, title_justify="left", show_header=False)
    t.add_column("")
    t.add_column("", justify="right")
    for sec, label, human, _, _ in summary_rows(result):
        if sec == section:
            t.add_row(label, human)
    return t


def _levers(result: Result) -> Table:
    lt = Table(title="Levers", box=box.SIMPLE_HEAVY, title_justify="left", header_style="bold")
    lt.add_column("lever")
    lt.add_column("counted")
    lt.add_column("c_tok ×", justify="right")
    lt.add_column("e_tok ×", justify="right")
    lt.add_column("why", overflow="fold")
    for s in result.levers:
        lt.add_row(s.id, Text("yes", style="green") if s.counted else Text("no", style="red"),
                   H.sig(s.c_tok_factor), H.sig(s.e_tok_factor), s.reason)
    return lt


def print_estimate(result: Result, console: Console | None = None) -> None:
    """Print the rich rendering of `result`."""
    (console or Console()).print(estimate_renderable(result))


def print_point(est: Any, console: Console | None = None) -> None:
    """Print an `analysis.point.Estimate`: the estimate, and its Monte Carlo band when sampled."""
    con = console or Console()
    con.print(estimate_renderable(est.result))
    if est.mc is not None:
        from .uncertainty import mc_renderable

        con.print(mc_renderable(est.mc, est.result.values))
    if est.disaggregated is not None:
        con.print(disaggregated_table(est.disaggregated))


def disaggregated_table(dis: Any) -> Table:
    """A disaggregated deployment: each fleet's ceilings in requests/s, the binding one, energy per request."""
    v = dis.values
    t = Table(title=f"Disaggregated deployment: prefill fleet {dis.prefill_scenario}, decode fleet above",
              box=box.SIMPLE, title_justify="left", show_header=False)
    t.add_column("")
    t.add_column("", justify="right")
    for fleet in ("prefill", "decode"):
        for kind in ("compute", "power"):
            mark = "  ← binds" if v["binding"] == f"{fleet}_{kind}" else ""
            t.add_row(f"{fleet.capitalize()} {kind} ceiling",
                      H.si(v[f"{fleet}_{kind}_ceiling_requests_per_s"], "request/s") + mark)
    for label, key, unit in (("Realized request rate", "requests_per_s", "request/s"),
                             ("Energy per request (IT)", "energy_per_request_it_j", "J"),
                             ("Energy per request (facility)", "energy_per_request_j", "J"),
                             ("Prefill share of request energy", "prefill_energy_share", "1"),
                             ("Facility power, both fleets", "p_facility_w", "W")):
        t.add_row(label, H.percent(v[key]) if unit == "1" else H.quantity(v[key], unit))
    return t
