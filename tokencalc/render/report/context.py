"""The report's context: everything the template shows, as plain data and humanised strings.

Built from an `analysis.appendix.Appendix` (the analyses are already done) and
formatted with the one humanizer; the template only lays it out.
"""

from __future__ import annotations

import datetime as _dt
import os
import shlex
from typing import Any, Sequence

from ...version import __version__
from ...errors import InputError
from .. import humanize as H
from ..summary import finding, summary_rows
from .bibtex import bibtex
from .checklist import checklist
from .sections import horizon_section, uncertainty_section

PAPER_SIZES = {"a4": "A4", "letter": "letter"}


def build_context(app: Any, *, argv: Sequence[str], paper: str = "a4", charts: bool = True,
                  drawn: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the report template shows.

    Args:
        app: an `analysis.appendix.Appendix`.
        argv: the command line to print in the reproducibility footer.
        paper: "a4" or "letter".
        charts: render the matplotlib charts (False for a quick text-only context).
        drawn: the ceilings and regime charts if already drawn (see `drawing.charts_in_background`).

    Returns:
        A dict of strings, numbers, lists and chart SVG markup.
    """
    from .drawing import charts_of

    resolved, result = app.resolved, app.result
    v = result.values
    scen = resolved.scenario
    summary: list[dict[str, Any]] = []
    for section, label, human, _si, _unit in summary_rows(result):
        if not summary or summary[-1]["section"] != section:
            summary.append({"section": section, "rows": []})
        summary[-1]["rows"].append({"label": label, "value": human})
    ctx: dict[str, Any] = {
        "title": "Token Production Function report",
        "scenario_name": resolved.inputs.title or "Inputs from the command line",
        "scenario_id": v["scenario"] or "bare",
        "scenario_path": scen.path if scen is not None and scen.path != "(flags)" else None,
        "description": (scen.get("description") or scen.raw.get("description")) if scen is not None else None,
        "finding": finding(result),
        "binding": v["binding"] or "unknown",
        "binding_peak": v["binding_peak"],
        "convention": v["k_eff_convention"],
        "headline": _headline(v),
        "summary": summary,
        "operating_point": operating_point(resolved, result),
        "levers": [{"id": s.id, "name": s.name, "counted": s.counted, "reason": s.reason,
                    "c_tok_factor": H.sig(s.c_tok_factor), "e_tok_factor": H.sig(s.e_tok_factor),
                    "confidence": s.confidence or "—"} for s in result.levers],
        "phi": f"Φ_c = {H.sig(v['phi_c'])}, Φ_e = {H.sig(v['phi_e'])}",
        "caveats": [{"profile": f"{p.kind} {p.id}", "text": " ".join(str(p.raw["notes"]).split())}
                    for p in resolved.profiles() if isinstance(p.raw.get("notes"), str) and p.raw["notes"].strip()],
        "checklist": checklist(resolved, result),
        "notes": list(result.notes),
        "provenance": provenance(result),
        "bibtex": bibtex(resolved.profiles()),
        "files": [{"kind": p.kind, "id": p.id, "path": p.path, "sha256": p.sha256}
                  for p in resolved.profiles() if p.sha256],
        "version": __version__,
        "command": " ".join(shlex.quote(str(a)) for a in argv),
        "generated": _generated_date(),
        "paper": PAPER_SIZES[paper],
        "charts": {"ceilings": None, "regime": None},
        "horizon": None,
        "uncertainty": None,
    }
    if charts:
        ctx["charts"] = {"ceilings": None, "regime": None, **(charts_of(v) if drawn is None else drawn)}
        ctx["horizon"] = horizon_section(app.projection)
        ctx["uncertainty"] = uncertainty_section(app.mc, app.swings)
    return ctx


def _generated_date() -> str | None:
    """The date to print: only from a user-set SOURCE_DATE_EPOCH, never the clock."""
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if raw is None:
        return None
    return _dt.datetime.fromtimestamp(epoch(raw), tz=_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def epoch(raw: str) -> int:
    """SOURCE_DATE_EPOCH as whole seconds.

    Raises:
        InputError: not a whole non-negative number.
    """
    try:
        value = int(raw.strip())
    except ValueError:
        raise InputError(f"SOURCE_DATE_EPOCH: expected whole seconds since 1970-01-01, got {raw!r}") from None
    if value < 0:
        raise InputError(f"SOURCE_DATE_EPOCH: expected a non-negative number of seconds, got {raw!r}")
    return value


def _headline(v: dict[str, Any]) -> list[dict[str, str]]:
    """The few numbers a reader looks for first."""
    binding = v["binding"]
    return [
        {"label": "Binding constraint", "value": f"{binding}-bound" if binding else "unknown",
         "note": f"{v['k_eff_convention'] or '—'} K_eff" + (f"; peak: {v['binding_peak']}" if v["binding_peak"] else "")},
        {"label": "Realized rate", "value": H.quantity(v["token_rate_tokens_per_s"], "token/s"),
         "note": f"U = {H.percent(v['utilization'])}"},
        {"label": "J/token", "value": H.quantity(v["e_tok_j_per_token"], "J/token"), "note": "IT boundary"},
        {"label": "γ = e_tok / c_tok", "value": H.quantity(v["gamma_j_per_flop"], "J/FLOP"),
         "note": "energy per FLOP demanded"},
        {"label": "γ* = P_IT / K_eff", "value": H.quantity(v["gamma_star_j_per_flop"], "J/FLOP"),
         "note": "power per FLOP/s delivered"},
    ]


def operating_point(resolved: Any, result: Any) -> dict[str, Any]:
    """q* (quality targets and tolerances), s* (latency SLO) and the measurement conditions."""
    inp = resolved.inputs
    wl, hw = resolved.workload, resolved.hardware
    quality = []
    for bench, (score, tol) in sorted(inp.quality.items()):
        metric = wl.get(f"quality.{bench}.metric") if wl is not None else None
        quality.append({"benchmark": bench, "score": H.sig(score), "tolerance": "—" if tol is None else f"± {H.sig(tol)}",
                        "metric": metric or "—"})
    service = []
    for key, label in (("ttft", "TTFT (time to first token)"), ("tpot", "TPOT (time per output token)")):
        slo = wl.get(f"service.{key}") if wl is not None else None
        measured = wl.get(f"measured.{key}") if wl is not None else None
        if key == "tpot":
            slo = inp.tpot_slo if inp.tpot_slo is not None else slo
            measured = inp.tpot_measured if inp.tpot_measured is not None else measured
        if slo is not None or measured is not None:
            service.append({"label": label, "slo": H.ms(slo), "measured": H.ms(measured)})
    conditions = [
        ("Hardware", (f"{hw.name} ({hw.id})" if hw is not None else "—")),
        ("Devices", H.count(inp.devices) if inp.devices is not None else "—"),
        ("Precision", inp.precision or "—"),
        ("Batch size (per replica)", _int(inp.batch_size)),
        ("Context length", "—" if inp.context_length is None else f"{_int(inp.context_length)} tokens"),
        ("Devices per replica", _int(inp.devices_per_replica)),
        ("Prefill / decode split", "—" if inp.prefill_share is None
         else f"{H.percent(inp.prefill_share)} prefill / {H.percent(1 - inp.prefill_share)} decode"),
        ("Token basis", inp.token_basis),
        ("e_tok accounting boundary (as given)", inp.e_tok_boundary),
    ]
    if wl is not None:
        for key, label in (("measured.hardware", "Measured on"), ("measured.batch_size", "Measured at batch"),
                           ("measured.context_length", "Measured at context"),
                           ("measured.conditions", "Measurement conditions")):
            if wl.get(key) is not None:
                conditions.append((label, str(wl.get(key))))
    return {"workload": (f"{wl.name} ({wl.id})" if wl is not None else None), "quality": quality,
            "service": service, "conditions": [{"label": a, "value": b} for a, b in conditions]}


def _int(x: Any) -> str:
    return "—" if x is None else f"{int(x):,}"


def provenance(result: Any) -> list[dict[str, str]]:
    """Every input with its humanised value, SI value and unit, and its source."""
    rows = []
    for key, p in result.to_json()["inputs"].items():
        rows.append({"key": key, "value": humanize_value(p["value"], p["unit"]),
                     "si": _si_text(p["value"], p["unit"]), "source": p["source"]})
    return rows


def humanize_value(value: Any, unit: str) -> str:
    """An input in the unit people write it in (kWh prices, days, GB/s, ...)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and unit in ("", "1"):
        if float(value).is_integer():
            return H.count(value) if abs(value) >= 1e6 else f"{int(value):,}"
    if unit == "token" and isinstance(value, (int, float)) and float(value).is_integer():
        return f"{int(value):,} tokens"
    return H.quantity(value, "1" if unit == "" and not isinstance(value, str) else unit)


def _si_text(value: Any, unit: str) -> str:
    if value is None or isinstance(value, (str, bool)):
        return ""
    text = f"{value:.10g}" if isinstance(value, float) else str(value)
    return f"{text} {unit}".strip() if unit not in ("", "1") else text


