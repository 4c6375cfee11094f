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
from .bibtex import Bibliography
from .checklist import checklist
from .citations import find_profile, input_cites, lever_cites, short_cite, source_text
from .sections import horizon_section, uncertainty_section

PAPER_SIZES = {"a4": "A4", "letter": "letter"}
CONSTANT = "at constant inputs"


def build_context(app: Any, *, argv: Sequence[str], paper: str = "a4", charts: bool = True,
                  drawn: dict[str, Any] | None = None, inline: bool = True, images: bool = False) -> dict[str, Any]:
    """Everything the report shows (the HTML template, the LaTeX and the Markdown writers).

    Args:
        app: an `analysis.appendix.Appendix`.
        argv: the command line to print in the reproducibility footer.
        paper: "a4" or "letter".
        charts: include the optional sections' charts and the ceilings/regime charts.
        drawn: the charts (inline SVG by name) if already drawn (see `drawing.charts_in_background`).
        inline: charts as inline SVG markup (HTML, PDF); False leaves them to the caller (files).
        images: the inline charts as <img> elements with SVG data: URLs (the PDF: faster layout).

    Returns:
        A dict of strings, numbers, lists and chart SVG markup; `bib` is the `Bibliography`
        of the sources cited (each row's `cites` lists its keys).
    """
    from .drawing import charts_of

    resolved, result = app.resolved, app.result
    v = result.values
    scen = resolved.scenario
    bib = Bibliography()
    prov = provenance(result, resolved, bib)  # first: the bibliography follows the provenance table
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
        "summary": summary_groups(result, app.projection is not None),
        "operating_point": operating_point(resolved, result),
        "levers": levers(result, resolved, bib),
        "phi": f"Φ_c = {H.sig(v['phi_c'])}, Φ_e = {H.sig(v['phi_e'])}",
        "caveats": [{"profile": f"{p.kind} {p.id}", "text": " ".join(str(p.raw["notes"]).split())}
                    for p in resolved.profiles() if isinstance(p.raw.get("notes"), str) and p.raw["notes"].strip()],
        "checklist": checklist(resolved, result, app.projection),
        "notes": list(result.notes),
        "provenance": prov,
        "files": [{"kind": p.kind, "id": p.id, "path": p.path, "sha256": p.sha256}
                  for p in resolved.profiles() if p.sha256],
        "version": __version__,
        "argv": [str(a) for a in argv],
        "command": " ".join(shlex.quote(str(a)) for a in argv),
        "generated": _generated_date(),
        "paper": PAPER_SIZES[paper],
        "charts": {"ceilings": None, "regime": None},
        "horizon": None,
        "uncertainty": None,
        "cost": cost_section(result, resolved),
        "bib": bib,
    }
    if charts:
        drawn = (charts_of(app) if drawn is None else drawn) if inline else {}
        ctx["charts"] = {"ceilings": drawn.get("ceilings"), "regime": drawn.get("regime")}
        ctx["horizon"] = horizon_section(app.projection, resolved, bib, svg=drawn.get("horizon"))
        ctx["uncertainty"] = uncertainty_section(app.mc, app.swings, resolved, bib, svg=drawn.get("tornado"))
    if images:
        _to_images(ctx)
    ctx["bibtex"] = bib.text()
    ctx["sources"] = sources(bib)
    return ctx


def cost_section(result: Any, resolved: Any) -> dict[str, Any]:
    """Section "Cost and impact": the cost and its parts, embodied carbon, water, and listed API prices beside the
    modeled cost per million tokens (directional context only, analysis/prices.py)."""
    from ...analysis.prices import CAVEAT, for_workload, listed

    v = result.values
    rows = [{"label": label, "value": human} for sec, label, human, _, _ in summary_rows(result)
            if sec == "Cost and impact"]
    rows.insert(0, {"label": "Cost per million tokens (modeled)", "value": H.money(v["cost_usd_per_million_tokens"])})
    mine = {p.model for p in for_workload(resolved.workload.id if resolved.workload else None)}
    prices = [{"model": p.model, "provider": p.provider, "input": H.money(p.input), "output": H.money(p.output),
               "date": p.date, "source": p.source, "same_model": p.model in mine} for p in listed()]
    return {"rows": rows, "prices": prices, "caveat": CAVEAT}


def _to_images(ctx: dict[str, Any]) -> None:
    from .drawing import as_image

    ctx["charts"] = {k: as_image(v, f"{k} chart") for k, v in ctx["charts"].items()}
    if ctx["horizon"] is not None:
        ctx["horizon"]["chart"] = as_image(ctx["horizon"]["chart"], "horizon chart")
    if ctx["uncertainty"] is not None:
        ctx["uncertainty"]["tornado"] = as_image(ctx["uncertainty"]["tornado"], "tornado chart")


def sources(bib: Any) -> list[dict[str, Any]]:
    """The cited works as readable entries: key, text, an http(s) URL (None otherwise), where cited."""
    out = []
    for e in bib.entries:
        s = e.source
        text = ", ".join(x for x in (s.author, s.title, s.publisher, s.year) if x) if s.title else s.text
        if s.title and s.note:
            text += f" ({s.note})"
        url = s.url.strip() if s.title and s.url else None
        out.append({"key": e.key, "text": text, "cited_for": "; ".join(e.cited_for),
                    "url": url if url and url.lower().startswith(("https://", "http://")) else None,
                    "other_url": url if url and not url.lower().startswith(("https://", "http://")) else None})
    return out


def summary_groups(result: Any, projected: bool) -> list[dict[str, Any]]:
    """The result table by section; with a projection the horizon rows say they hold at constant inputs."""
    groups: list[dict[str, Any]] = []
    for section, label, human, _si, _unit in summary_rows(result):
        if section == "Cost and impact":
            continue  # its own section (3c), with the listed prices beside it
        if not groups or groups[-1]["section"] != section:
            groups.append({"section": section, "rows": []})
        if projected and section == "Horizon" and not label.startswith("Horizon"):
            label = f"{label}, {CONSTANT}"
        groups[-1]["rows"].append({"label": label, "value": human})
    if projected:
        for g in groups:
            if g["section"] == "Horizon":
                g["section"] = f"Horizon, {CONSTANT} (section 3a: with the scenario's trajectories)"
    return groups


def levers(result: Any, resolved: Any, bib: Any) -> list[dict[str, Any]]:
    """The lever gate's rows, each with the keys of the sources its factors cite."""
    rows = []
    for s in result.levers:
        lp = find_profile(resolved, "lever", s.id)
        rows.append({"id": s.id, "name": s.name, "counted": s.counted, "reason": s.reason,
                     "c_tok_factor": H.sig(s.c_tok_factor), "e_tok_factor": H.sig(s.e_tok_factor),
                     "confidence": s.confidence or "—",
                     "cites": bib.add(lever_cites(resolved, lp)) if lp is not None else []})
    return rows


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
            op = result.engine.get("operating_point") if result is not None else None
            if op is not None and op.itl_s is not None:  # the ITL at the operating point, labelled by its source
                measured = op.itl_s
                label += f" ({op.source})"
        if slo is not None or measured is not None:
            service.append({"label": label, "slo": H.ms(slo), "measured": H.ms(measured)})
    conditions = [
        ("Hardware", (f"{hw.name} ({hw.id})" if hw is not None else "—")),
        ("Devices", humanize_value(inp.devices, "1") if inp.devices is not None else "—"),
        ("Precision", inp.precision or "—"),
        ("Batch size (per replica)", _int(inp.batch_size)),
        ("Context length", "—" if inp.context_length is None else f"{_int(inp.context_length)} tokens"),
        ("Devices per replica", _int(inp.devices_per_replica)),
        ("Prefill / decode split", "—" if inp.prefill_share is None
         else f"{H.percent(inp.prefill_share)} prefill / {H.percent(1 - inp.prefill_share)} decode"),
        ("Token basis", inp.token_basis),
        ("e_tok accounting boundary (as given)", inp.e_tok_boundary),
    ]
    op = result.engine.get("operating_point") if result is not None else None
    if op is not None:
        from ..operating import operating_rows

        conditions = [c for c in conditions if c[0] not in ("Batch size (per replica)", "Context length",
                                                            "Devices per replica")]
        conditions += [(f"Operating point: {label[0].lower() + label[1:] if label[1:2].islower() else label}" if i
                        else "Operating point", value)
                       for i, (label, value) in enumerate(operating_rows(op))]
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


def provenance(result: Any, resolved: Any = None, bib: Any = None) -> list[dict[str, Any]]:
    """Every input with its humanised value, SI value and unit, its source and the keys it cites.

    A cited work appears as author and year (its full entry is in the sources list, once), with the
    profile's note on where in it the figure is; a note already shown for an earlier input is not
    repeated. A derived input names the inputs it reads (their rows give their sources). An
    `[override]`'s source carries the scenario's own citation of it (when given).
    """
    rows = []
    full = result.provenance
    shown: dict[tuple[str, str], str] = {}  # (cite key, note) -> the input that showed the note
    for key, p in result.to_json()["inputs"].items():
        source = p["source"]
        cites: list[str] = []
        if resolved is not None:
            found = input_cites(resolved, full, key)
            cites = bib.add(found) if bib is not None else []
            source = _source_cell(resolved, full, key, found, cites, shown)
        rows.append({"key": key, "value": humanize_value(p["value"], p["unit"]),
                     "si": _si_text(p["value"], p["unit"]), "source": source, "cites": cites})
    return rows


def _source_cell(resolved: Any, full: dict[str, Any], key: str, found: list[Any], keys: list[str],
                 shown: dict[tuple[str, str], str]) -> str:
    """The provenance table's Source text of one input (see `provenance`)."""
    p = full[key]
    o = p.origin
    extra = f" ({o.note})" if o.note else ""
    if (o.layer in ("profile", "scenario") and len(found) == 1 and len(keys) == 1 and found[0].source.title
            and "override:" not in (o.citation or "")):
        src = found[0].source
        text = f"{o.kind} {o.profile}: {short_cite(src)}"
        if src.note:
            first = shown.setdefault((keys[0], src.note), key)
            text += f" ({src.note})" if first == key else f" (as for `{first}`)"
        return text + extra
    given = [r for r in o.reads if r in full]  # a rule's optional reads that are absent are not named
    if o.layer == "derived" and given and o.citation in (None, "; ".join(dict.fromkeys(full[r].source for r in given))):
        return f"derived: {o.rule}, from " + ", ".join(f"`{r}`" for r in given) + extra  # their rows give sources
    return source_text(resolved, p, key)


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


