"""Reports: an HTML or PDF appendix documenting the operating point and the active constraint.

Data flow: `scenario.resolve` → `model.estimate` → :func:`build_context` (plain
data, humanised strings, chart SVG) → Jinja2 (autoescaped: profile text can never
become markup) → HTML → WeasyPrint → PDF.

Safety: WeasyPrint fetches resources only through :func:`confined_fetcher`, which
serves `data:` URLs and files inside the template folder and refuses everything
else (other files, any host); PDF attachments are dropped. Determinism: no clock
reads (a date appears only when the user sets SOURCE_DATE_EPOCH); the PDF render
runs with SOURCE_DATE_EPOCH set (font subset timestamps), charts use a fixed SVG
hash salt and no date. Heavy libraries (matplotlib, WeasyPrint) load inside the
functions that need them.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence
from urllib.parse import unquote, urlsplit

from .. import __version__, fileio
from . import humanize as H
from ..errors import InputError, TokencalcError

TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"
PAPER_SIZES = {"a4": "A4", "letter": "letter"}
# Used for the PDF render when the user has not set SOURCE_DATE_EPOCH: only font
# subset timestamps depend on it, and a constant keeps the bytes reproducible.
DEFAULT_SOURCE_DATE_EPOCH = "1704067200"  # 2024-01-01T00:00:00Z
FORMATS = {".html": "html", ".htm": "html", ".pdf": "pdf"}


class ReportError(TokencalcError):
    """The report cannot be produced (missing optional library, bad template folder)."""


# ---------------------------------------------------------------------------
# Templates

def templates_dir() -> Path:
    """The bundled templates folder (inside the wheel, or at the repo root in a checkout)."""
    here = Path(__file__).resolve().parent.parent  # the tokencalc package
    inside = here / "templates"
    return inside if inside.is_dir() else here.parent / "templates"


def template_folder(user_dir: str | os.PathLike | None) -> Path:
    """The folder templates and assets come from: `--template DIR` or the bundled one.

    Raises:
        ReportError: the folder does not exist or has no `report.html.j2`.
    """
    if user_dir is None:
        return templates_dir().resolve()
    folder = Path(user_dir)
    if not folder.is_dir():
        raise ReportError(f"--template {user_dir}: not a folder")
    if not (folder / TEMPLATE).is_file():
        raise ReportError(f"--template {user_dir}: expected a {TEMPLATE} in it (copy the bundled one from "
                          f"{templates_dir()} and edit it)")
    return folder.resolve()


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _environment(folder: Path) -> Any:
    """A sandboxed, autoescaping Jinja2 environment confined to `folder`.

    The bundled templates are also reachable as `tokencalc/<name>`, so a user
    template can `{% extends "tokencalc/report.html.j2" %}` and override blocks.
    """
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    class Confined(jinja2.FileSystemLoader):
        # FileSystemLoader already rejects `..`; also refuse symlinks that lead out.
        def get_source(self, environment: Any, template: str) -> Any:
            source, filename, uptodate = super().get_source(environment, template)
            if not any(_inside(Path(filename), Path(root)) for root in self.searchpath):
                raise jinja2.TemplateNotFound(template)
            return source, filename, uptodate

    loader = jinja2.ChoiceLoader([
        Confined(str(folder)),
        jinja2.PrefixLoader({"tokencalc": Confined(str(templates_dir()))}),
    ])
    env = SandboxedEnvironment(loader=loader, autoescape=True, trim_blocks=True, lstrip_blocks=True,
                               undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["sym"] = symbols
    return env


def _stylesheet(folder: Path) -> str:
    own = folder / STYLESHEET
    path = own if own.is_file() and _inside(own, folder) else templates_dir() / STYLESHEET
    return path.read_text(encoding="utf-8")


_SYMBOL = re.compile(r"(?<![A-Za-z])(K|c|e|P|γ\*|γ|η|Φ|Q̇)_(eff|tok|IT|peak|facility|ref|K|E|P|c|e)\b")


def symbols(text: Any) -> Any:
    """Escape `text`, then typeset symbols like K_eff, γ*_peak, η_K with subscripts."""
    from markupsafe import Markup, escape

    return Markup(_SYMBOL.sub(r"\1<sub>\2</sub>", str(escape(text))))


# ---------------------------------------------------------------------------
# Context: everything the template shows, as plain data

def build_context(resolved: Any, result: Any, *, argv: Sequence[str], paper: str = "a4",
                  charts: bool = True, drawn: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the report template shows.

    Args:
        resolved: a `scenario.Resolved`.
        result: `model.estimate(resolved.inputs)`.
        argv: the command line to print in the reproducibility footer.
        paper: "a4" or "letter".
        charts: render the matplotlib charts (False for a quick text-only context).
        drawn: the ceilings and regime charts if already drawn (see :func:`charts_in_background`).

    Returns:
        A dict of strings, numbers, lists and chart SVG markup.
    """
    from .formats import finding, summary_rows

    v = result.values
    scen = resolved.scenario
    summary: list[dict[str, Any]] = []
    for section, label, human, _si, _unit in summary_rows(result):
        if not summary or summary[-1]["section"] != section:
            summary.append({"section": section, "rows": []})
        summary[-1]["rows"].append({"label": label, "value": human})
    ctx: dict[str, Any] = {
        "title": "Token Production Function report",
        "scenario_name": scen.name if scen is not None and scen.id != "(flags)" else "Inputs from the command line",
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
        "command": " ".join(_quote(a) for a in argv),
        "generated": _generated_date(),
        "paper": PAPER_SIZES[paper],
        "charts": {"ceilings": None, "regime": None},
        "horizon": None,
        "uncertainty": None,
    }
    if charts:
        ctx["charts"] = {"ceilings": None, "regime": None, **(_charts(v) if drawn is None else drawn)}
        ctx["horizon"] = horizon_section(resolved)
        ctx["uncertainty"] = uncertainty_section(resolved)
    return ctx


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(str(arg))


def _generated_date() -> str | None:
    """The date to print: only from a user-set SOURCE_DATE_EPOCH, never the clock."""
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if raw is None:
        return None
    return _dt.datetime.fromtimestamp(_epoch(raw), tz=_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _epoch(raw: str) -> int:
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
        {"label": "Realized rate", "value": H.si(v["token_rate_tokens_per_s"], "token/s"),
         "note": f"U = {H.percent(v['utilization'])}"},
        {"label": "J/token", "value": H.si(v["e_tok_j_per_token"], "J/token"), "note": "IT boundary"},
        {"label": "γ = e_tok / c_tok", "value": H.si(v["gamma_j_per_flop"], "J/FLOP"), "note": "energy per FLOP demanded"},
        {"label": "γ* = P_IT / K_eff", "value": H.si(v["gamma_star_j_per_flop"], "J/FLOP"),
         "note": "power per FLOP/s delivered"},
    ]


def _charts(v: dict[str, Any]) -> dict[str, Any]:
    from markupsafe import Markup

    charts = _charts_module()
    out = {}
    ceil = charts.ceilings_svg(v["compute_ceiling_tokens_per_s"], v["power_ceiling_tokens_per_s"],
                               v["token_rate_tokens_per_s"], v["binding"], v["utilization"])
    if ceil:
        out["ceilings"] = Markup(ceil)  # matplotlib output: our labels and numbers only, text as paths
    regime = charts.regime_map_svg(v["gamma_j_per_flop"], v["gamma_star_j_per_flop"],
                                   v["gamma_star_peak_j_per_flop"], v["k_eff_convention"])
    if regime:
        out["regime"] = Markup(regime)
    return out


def charts_in_background(values: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    """Start drawing the ceilings and regime charts; call the result to collect them
    (`discard=True` only waits for the drawing to end).

    On Linux, with no other thread running, a forked child draws them (importing
    matplotlib) while the caller imports WeasyPrint: on two cores that saves the
    shorter of the two, about half a second. Anywhere else, and whenever the child
    fails, the charts are drawn in-process when collected. The SVG is identical
    either way.
    """
    if not hasattr(os, "fork") or not sys.platform.startswith("linux") or threading.active_count() > 1:
        return lambda discard=False: {} if discard else _charts(values)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: draw, send, and leave without running the parent's exit handlers
        code = 1
        try:
            os.close(read_fd)
            data = json.dumps({k: str(v) for k, v in _charts(values).items()}).encode("utf-8")
            with os.fdopen(write_fd, "wb") as fh:
                fh.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)

    def collect(discard: bool = False) -> dict[str, Any]:
        from markupsafe import Markup

        with os.fdopen(read_fd, "rb") as fh:
            data = fh.read()
        _, status = os.waitpid(pid, 0)  # always reaped: no zombie, whatever happens next
        if discard:
            return {}
        if status != 0 or not data:
            return _charts(values)  # raises the real error (e.g. no matplotlib) with its message
        return {k: Markup(v) for k, v in json.loads(data).items()}

    return collect


def _charts_module() -> Any:
    try:
        from . import charts
        import matplotlib  # noqa: F401  (fail here with a clear message, not mid-render)
    except ImportError:
        raise ReportError("reports need matplotlib for their charts: pip install 'tokencalc[report]'") from None
    return charts


# -- operating point --------------------------------------------------------

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
            service.append({"label": label, "slo": _ms(slo), "measured": _ms(measured)})
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


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{H.sig(seconds * 1e3)} ms"


def _int(x: Any) -> str:
    return "—" if x is None else f"{int(x):,}"


# -- disclosure checklist (MODEL.md §7) -------------------------------------

def checklist(resolved: Any, result: Any) -> list[dict[str, Any]]:
    """The six disclosure items of MODEL.md §7, each given or missing, from what the inputs contain.

    Returns:
        A list of {item, given (bool), detail, missing (list of str)}.
    """
    v, inp = result.values, resolved.inputs
    prov = inp.provenance
    out = []

    def item(title: str, missing: list[str], detail: str) -> None:
        out.append({"item": title, "given": not missing, "missing": missing, "detail": detail})

    # 1. J/token and its boundary
    e_at, ib = v["e_tok_at_boundary_j_per_token"], v["e_tok_input_boundary"]
    missing = [] if e_at is not None and ib else ["J/token (e_tok)"]
    if e_at is not None and v["e_tok_j_per_token"] is None:
        missing.append(f"conversion from the {ib} boundary to IT")
    detail = "—"
    if e_at is not None:
        detail = f"{H.si(e_at, 'J/token')} at the {ib} boundary"
        if ib != "it" and v["e_tok_j_per_token"] is not None:
            detail += f"; {H.si(v['e_tok_j_per_token'], 'J/token')} at IT"
        if v["e_tok_facility_j_per_token"] is not None:
            detail += f"; {H.si(v['e_tok_facility_j_per_token'], 'J/token')} at the facility"
        detail += f" ({v['token_basis']} tokens)"
    item("J/token and its accounting boundary", missing, detail)

    # 2. binding constraint with γ, γ* and the convention
    missing = [name for name, x in (("binding constraint", v["binding"]), ("γ", v["gamma_j_per_flop"]),
                                    ("γ*", v["gamma_star_j_per_flop"]), ("K_eff convention", v["k_eff_convention"]))
               if x is None]
    detail = "—"
    if v["binding"] is not None:
        rel = {"compute": "<", "power": ">", "balanced": "≈"}[v["binding"]]
        detail = (f"{v['binding']}-bound: γ = {H.si(v['gamma_j_per_flop'], 'J/FLOP')} {rel} "
                  f"γ* = {H.si(v['gamma_star_j_per_flop'], 'J/FLOP')} ({v['k_eff_convention']} K_eff)")
        if v["binding_peak"] is not None:
            detail += (f"; under the peak denominator {v['binding_peak']}-bound "
                       f"(γ*_peak = {H.si(v['gamma_star_peak_j_per_flop'], 'J/FLOP')})")
    item("Active binding constraint, γ and γ*, K_eff convention", missing, detail)

    # 3. PUE-adjusted delivered power
    missing = [name for name, x in (("P_facility", v["p_facility_w"]), ("PUE", v["pue"]), ("P_IT", v["p_it_w"]))
               if x is None]
    detail = (f"P_facility {H.si(v['p_facility_w'], 'W')}, PUE {'—' if v['pue'] is None else H.sig(v['pue'])}, "
              f"P_IT {H.si(v['p_it_w'], 'W')}")
    item("PUE-adjusted delivered power", missing, detail)

    # 4. utilization-adjusted output
    missing = []
    if "utilization" not in prov:
        missing.append("U (not given; U = 1 assumed)")
    if v["token_rate_tokens_per_s"] is None:
        missing.append("realized rate Q̇")
    if v["tokens_total"] is None:
        missing.append("Q(T) (no horizon)" if v["horizon_s"] is None else "Q(T)")
    detail = (f"U = {H.percent(v['utilization'])}, Q̇ = {H.si(v['token_rate_tokens_per_s'], 'token/s')}, "
              f"Q(T) = {H.count(v['tokens_total'])} tokens over {H.duration(v['horizon_s'])}")
    item("Utilization-adjusted token output", missing, detail)

    # 5. the operating point
    missing = []
    if not inp.quality:
        missing.append("quality targets q*")
    else:
        untol = sorted(b for b, (_, tol) in inp.quality.items() if tol is None)
        if untol:
            missing.append("tolerance for " + ", ".join(untol))
    wl = resolved.workload
    has_slo = inp.tpot_slo is not None or (wl is not None and wl.get("service.ttft") is not None)
    if not has_slo:
        missing.append("latency SLO s*")
    parts = [f"{b} {H.sig(s)}" + ("" if t is None else f" ± {H.sig(t)}") for b, (s, t) in sorted(inp.quality.items())]
    if inp.tpot_slo is not None:
        parts.append(f"TPOT ≤ {_ms(inp.tpot_slo)}")
    if wl is not None and wl.get("service.ttft") is not None:
        parts.append(f"TTFT ≤ {_ms(wl.get('service.ttft'))}")
    item("Operating point (q*, s*)", missing, "; ".join(parts) or "—")

    # 6. measurement conditions and sources
    missing = [name for name, x in (("hardware", resolved.hardware or inp.peak_flops or inp.k_eff),
                                    ("device count", inp.devices), ("precision", inp.precision),
                                    ("batch size", inp.batch_size), ("context length", inp.context_length),
                                    ("prefill/decode split", inp.prefill_share)) if x is None]
    unsourced = sorted(k for k, p in prov.items() if p.source.endswith("(no source given)"))
    if unsourced:
        missing.append("source of " + ", ".join(unsourced))
    hw = resolved.hardware
    detail = ", ".join(x for x in (
        f"{_int(inp.devices)} × {hw.name}" if hw is not None and inp.devices is not None else None,
        inp.precision, None if inp.batch_size is None else f"batch {_int(inp.batch_size)}",
        None if inp.context_length is None else f"context {_int(inp.context_length)}",
        None if inp.prefill_share is None else f"prefill share {H.percent(inp.prefill_share)}",
    ) if x) or "—"
    detail += f"; {len(prov) - len(unsourced)} of {len(prov)} inputs carry a source"
    item("Measurement conditions and the source of every number", missing, detail)
    return out


# -- provenance ---------------------------------------------------------------

def provenance(result: Any) -> list[dict[str, str]]:
    """Every input with its humanised value, SI value and unit, and its source."""
    rows = []
    for key, p in result.to_json()["inputs"].items():
        rows.append({"key": key, "value": humanize_value(p["value"], p["unit"]),
                     "si": _si_text(p["value"], p["unit"]), "source": p["source"]})
    return rows


def humanize_value(value: Any, unit: str) -> str:
    """An input in the unit people write it in (kWh prices, days, GB/s, ...)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if unit == "USD/J":
        return f"{H.sig(value * 3.6e6)} USD/kWh"
    if unit == "kgCO2e/J":
        return f"{H.sig(value * 3.6e6)} kgCO₂e/kWh"
    if unit == "s":
        return H.duration(value) if value >= 86400 else H.si(value, "s")
    if unit in ("", "1"):
        if isinstance(value, int) or float(value).is_integer():
            return H.count(value) if abs(value) >= 1e6 else f"{int(value):,}"
        return H.sig(value)
    if unit == "token":
        return f"{int(value):,} tokens" if float(value).is_integer() else H.si(value, "token")
    return H.si(value, unit)


def _si_text(value: Any, unit: str) -> str:
    if value is None or isinstance(value, (str, bool)):
        return ""
    text = f"{value:.10g}" if isinstance(value, float) else str(value)
    return f"{text} {unit}".strip() if unit not in ("", "1") else text


# -- BibTeX --------------------------------------------------------------------

_BIB_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&", "$": r"\$",
                "#": r"\#", "_": r"\_", "^": r"\^{}", "~": r"\~{}"}


def _bib(text: str) -> str:
    return "".join(_BIB_SPECIAL.get(c, c) for c in " ".join(str(text).split()))


def _bib_url(url: str) -> str:
    # Braces or backslashes in a URL would end the field; percent-encode them.
    return "".join({"{": "%7B", "}": "%7D", "\\": "%5C"}.get(c, c) for c in url.strip())


def _slug(text: str, limit: int = 24) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())[:limit]


def _author_key(author: str | None) -> str:
    """Surname of the first author; an organisation's initials (U.S. Energy Information Administration -> ueia)."""
    if not author:
        return "anon"
    first = author.split(",")[0].split(" et al")[0].split(" and ")[0].split()
    if not first:
        return "anon"
    if len(first) >= 3 and "," not in author and "et al" not in author:
        return _slug("".join(w[0] for w in first if w[0].isalnum())) or "anon"
    return _slug(first[-1]) or "anon"


_STOP = {"a", "an", "the", "of", "on", "in", "for", "and", "to", "from", "with", "by", "at"}


def bibtex(profiles: Sequence[Any]) -> str:
    """The sources of every profile as BibTeX @misc entries with stable keys.

    Citation tables (title/author/year/url) become one entry per distinct work,
    keyed `<author><year><first title word>`; plain-string citations become an
    entry keyed `<kind>:<id>:<key>` holding the text as a note.
    """
    entries: list[str] = []
    seen: dict[tuple, str] = {}
    used: set[str] = set()

    def unique(key: str) -> str:
        base, n = key, 0
        while key in used:
            n += 1
            key = f"{base}{chr(ord('a') + n - 1) if n <= 26 else n}"
        used.add(key)
        return key

    for prof in profiles:
        for skey, src in sorted(prof.sources.items()):
            cited = f"{prof.kind} {prof.id}: {skey}"
            if src.title:
                ident = (src.title, src.author, src.year, src.url, src.publisher)
                if ident in seen:
                    continue
                words = [w for w in re.findall(r"[A-Za-z0-9]+", src.title) if len(w) > 2 and w.lower() not in _STOP]
                key = unique(_author_key(src.author or src.publisher) + _slug(src.year or "nd", 4) + (_slug(words[0], 16) if words else ""))
                seen[ident] = key
                fields = [("title", "{" + _bib(src.title) + "}"), ("author", _bib(src.author) if src.author else None),
                          ("year", _bib(src.year) if src.year else None),
                          ("publisher", _bib(src.publisher) if src.publisher else None),
                          ("url", _bib_url(src.url) if src.url else None),
                          ("urldate", _bib(src.accessed) if src.accessed else None),
                          ("note", _bib(src.note) if src.note else None)]
            else:
                key = unique("tokencalc:" + re.sub(r"[^A-Za-z0-9:._-]+", "-", f"{prof.kind}:{prof.id}:{skey}").strip("-"))
                fields = [("title", _bib(f"Source of {skey} in the {prof.kind} profile {prof.id}")),
                          ("note", _bib(src.text))]
            body = ",\n".join(f"  {name:<9} = {{{val}}}" for name, val in fields if val)
            entries.append(f"@misc{{{key},\n{body},\n  howpublished = {{{_bib('cited for ' + cited)}}}\n}}")
    return "\n\n".join(entries) + ("\n" if entries else "")


# ---------------------------------------------------------------------------
# Optional sections from sibling modules (kept working without them)

def horizon_section(resolved: Any) -> dict[str, Any] | None:
    """The horizon chart, switch dates and totals, when `tokencalc.horizon` exists and the scenario
    has a [trajectory] (the report keeps working without that module)."""
    scen = resolved.scenario
    if scen is None or not scen.raw.get("trajectory"):
        return None
    try:
        from ..analysis import horizon
    except ImportError:
        return None
    if not hasattr(horizon, "project"):
        return None
    proj = horizon.project(resolved)
    data = proj.to_json() if hasattr(proj, "to_json") else proj
    series = data.get("series") or []
    if len(series) < 2:
        return None
    start = data.get("start_date")
    switches = data.get("switches") or []
    svg = _charts_module().horizon_svg(
        [s["t_s"] / 86400.0 for s in series], [s.get("token_rate_tokens_per_s") for s in series],
        [s.get("compute_ceiling_tokens_per_s") for s in series], [s.get("power_ceiling_tokens_per_s") for s in series],
        [s["t_s"] / 86400.0 for s in switches], start)
    rows = [{"when": (f"{s['date']} (day {H.sig(s['t_s'] / 86400)})" if s.get("date") else f"day {H.sig(s['t_s'] / 86400)}"),
             "from": s.get("from") or "—", "to": s.get("to") or "—"} for s in switches]
    totals = [{"label": label, "value": fmt(data[key])} for key, label, fmt in (
        ("tokens_total", "Tokens Q(T)", H.count), ("energy_it_j", "IT energy", H.energy),
        ("energy_facility_j", "Facility energy", H.energy), ("cost_usd", "Electricity cost", H.money),
        ("emissions_kg_co2e", "Emissions", H.mass_co2e)) if data.get(key) is not None]
    if data.get("horizon_s") is not None:
        totals.insert(0, {"label": "Horizon T", "value": H.duration(data["horizon_s"])})
    trajectories = [{"key": t.get("key"), "form": t.get("form"), "source": t.get("source") or "—"}
                    for t in data.get("trajectories") or []]
    from markupsafe import Markup

    return {"chart": Markup(svg) if svg else None, "switches": rows, "totals": totals,
            "trajectories": trajectories, "start_date": start}


MC_SAMPLES = 20_000
MC_SEED = 0


def uncertainty_section(resolved: Any, n: int = MC_SAMPLES, seed: int = MC_SEED) -> dict[str, Any] | None:
    """Percentile band, P(power-bound) and the tornado chart, when `tokencalc.uncertainty` exists
    and inputs carry ranges (the report keeps working without that module)."""
    if not any(p.ranges for p in resolved.profiles()):
        return None
    try:
        from ..analysis import uncertainty
    except ImportError:
        return None
    if not all(hasattr(uncertainty, f) for f in ("monte_carlo", "tornado", "tornado_svg")):
        return None
    if hasattr(uncertainty, "has_ranges") and not uncertainty.has_ranges(resolved):
        return None
    from markupsafe import Markup

    mc = uncertainty.monte_carlo(resolved, n, seed)
    mc = mc.to_json() if hasattr(mc, "to_json") else mc
    labels = {"token_rate_tokens_per_s": "Realized rate", "compute_ceiling_tokens_per_s": "Compute ceiling",
              "power_ceiling_tokens_per_s": "Power ceiling", "tokens_total": "Tokens Q(T)",
              "e_tok_j_per_token": "J/token (IT)", "energy_it_j": "IT energy", "energy_facility_j": "Facility energy",
              "cost_usd": "Electricity cost", "emissions_kg_co2e": "Emissions"}
    units = mc.get("units") or {}
    rows = []
    for key, pct in (mc.get("percentiles") or {}).items():
        unit = units.get(key, "")
        rows.append({"label": labels.get(key, key),
                     **{q: _mc_value(pct.get(q), key, unit) for q in ("p5", "p50", "p95")}})
    svg = uncertainty.tornado_svg(uncertainty.tornado(resolved))
    ranges = [{"key": r.get("key"), "low": humanize_value(r.get("low"), r.get("unit", "")),
               "mode": humanize_value(r.get("mode"), r.get("unit", "")),
               "high": humanize_value(r.get("high"), r.get("unit", "")), "source": r.get("source") or "—"}
              for r in mc.get("ranges") or []]
    return {"samples": f"{mc.get('samples', n):,}", "seed": mc.get("seed", seed),
            "p_power_bound": H.percent(mc.get("p_power_bound")), "percentiles": rows, "ranges": ranges,
            "tornado": Markup(_charts_module().inline(svg, "tornado")) if svg else None}


def _mc_value(x: float | None, key: str, unit: str) -> str:
    if x is None:
        return "—"
    return {"token": H.count, "J": H.energy, "USD": H.money, "kgCO2e": H.mass_co2e}.get(unit, lambda v: H.si(v, unit))(x)


# ---------------------------------------------------------------------------
# Rendering

def render_html(resolved: Any, *, argv: Sequence[str], template_dir: str | os.PathLike | None = None,
                paper: str = "a4", result: Any = None, drawn: dict[str, Any] | None = None) -> str:
    """The report as one self-contained HTML document (CSS inline, charts as inline SVG).

    Args:
        resolved: a `scenario.Resolved`.
        argv: the command line for the reproducibility footer.
        template_dir: a user template folder (`--template`), or None for the bundled one.
        paper: "a4" or "letter" (the @page size).
        result: the estimate, if already computed.
        drawn: the ceilings and regime charts, if already drawn.

    Raises:
        ReportError: missing matplotlib, bad template folder or a template error.
    """
    import jinja2
    from markupsafe import Markup

    from ..core.model import estimate

    if paper not in PAPER_SIZES:
        raise InputError(f"--paper {paper!r}: expected one of {', '.join(PAPER_SIZES)}")
    folder = template_folder(template_dir)
    result = estimate(resolved.inputs) if result is None else result
    ctx = build_context(resolved, result, argv=argv, paper=paper, drawn=drawn)
    ctx["css"] = Markup(_stylesheet(folder))  # the template folder's own CSS, trusted like the template
    try:
        return _environment(folder).get_template(TEMPLATE).render(ctx)
    except jinja2.TemplateError as exc:
        where = f" ({exc.filename}:{exc.lineno})" if getattr(exc, "lineno", None) else ""
        raise ReportError(f"template error{where}: {exc.message or exc}") from None


def estimate_of(resolved: Any) -> Any:
    """`model.estimate` of the resolved inputs."""
    from ..core.model import estimate

    return estimate(resolved.inputs)


def _weasyprint() -> Any:
    try:
        import weasyprint
    except OSError as exc:  # the Python package is there, Pango/HarfBuzz/... are not
        raise ReportError(
            f"PDF output needs WeasyPrint's system libraries (Pango, HarfBuzz, fontconfig), which could not be "
            f"loaded: {exc}. Install them (Debian/Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
            f"libharfbuzz0b; macOS: brew install pango), or write HTML instead (-o report.html).") from None
    except ImportError:
        raise ReportError("PDF output needs WeasyPrint: pip install 'tokencalc[report]' "
                          "(or write HTML instead: -o report.html)") from None
    return weasyprint


def confined_fetcher(roots: Sequence[Path]) -> Any:
    """A WeasyPrint URL fetcher that serves `data:` URLs and files under `roots`, nothing else.

    It subclasses `weasyprint.urls.URLFetcher` (WeasyPrint ≥ 70 requires it).
    Refused URLs are recorded in `.blocked` and raise, which WeasyPrint treats
    as a missing resource.
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    allowed = [Path(r).resolve() for r in roots]

    class ConfinedFetcher(URLFetcher):
        """Only `data:` URLs and files inside the template folder."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=("data", "file"), allow_redirects=False, timeout=1)
            self.blocked: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = url.split(":", 1)[0].lower() if ":" in url else ""
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                parts = urlsplit(url)
                if parts.netloc in ("", "localhost"):
                    path = Path(unquote(parts.path))
                    if path.is_file() and any(_inside(path, root) for root in allowed):
                        data = path.resolve().read_bytes()
                        return URLFetcherResponse(url, data, {"Content-Type": _mime(path)})
            self.blocked.append(url)
            raise ValueError(f"tokencalc: blocked {url} (only the template folder and data: URLs)")

    return ConfinedFetcher()


def _mime(path: Path) -> str:
    return {".css": "text/css", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
            ".svg": "image/svg+xml", ".gif": "image/gif", ".ttf": "font/ttf", ".otf": "font/otf",
            ".woff": "font/woff", ".woff2": "font/woff2"}.get(path.suffix.lower(), "application/octet-stream")


@contextmanager
def source_date_epoch() -> Iterator[None]:
    """Set SOURCE_DATE_EPOCH for the duration of a render unless the user has (fontTools reads it)."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        _epoch(os.environ["SOURCE_DATE_EPOCH"])
        yield
        return
    os.environ["SOURCE_DATE_EPOCH"] = DEFAULT_SOURCE_DATE_EPOCH
    try:
        yield
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)


def html_to_pdf(html: str, base_dir: Path) -> tuple[bytes, list[str]]:
    """Render HTML to PDF bytes with the confined fetcher and no attachments.

    Returns:
        (the PDF, the URLs that were refused).
    """
    weasyprint = _weasyprint()
    fetcher = confined_fetcher([base_dir])
    with source_date_epoch():
        try:
            doc = weasyprint.HTML(string=html, base_url=base_dir.as_uri() + "/", url_fetcher=fetcher).render()
            # No embedded files: neither <link rel=attachment> nor <a rel=attachment>.
            doc.metadata.attachments = []
            for page in doc.pages:
                page.links[:] = [link for link in page.links if link[0] != "attachment"]
            pdf = doc.write_pdf()
        except OSError as exc:  # an unreadable image or font the template folder supplied
            raise ReportError(f"PDF render failed: {exc} (a broken image or font in {base_dir}?)") from None
    return pdf, list(fetcher.blocked)


def render_pdf(resolved: Any, *, argv: Sequence[str], template_dir: str | os.PathLike | None = None,
               paper: str = "a4", result: Any = None) -> tuple[bytes, list[str]]:
    """The report as PDF bytes (see :func:`render_html`), plus the URLs the fetcher refused.

    Raises:
        ReportError: WeasyPrint or its system libraries missing, or as for `render_html`.
    """
    if paper not in PAPER_SIZES:
        raise InputError(f"--paper {paper!r}: expected one of {', '.join(PAPER_SIZES)}")
    folder = template_folder(template_dir)
    result = estimate_of(resolved) if result is None else result
    pending = charts_in_background(result.values)
    try:
        _weasyprint()  # imports while the charts are drawn; fails early without the system libraries
    except ReportError:
        pending(discard=True)
        raise
    html = render_html(resolved, argv=argv, template_dir=template_dir, paper=paper, result=result, drawn=pending())
    return html_to_pdf(html, folder)


def output_format(path: str | os.PathLike) -> str:
    """"html" or "pdf" from the output file's suffix.

    Raises:
        InputError: any other suffix.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"-o {path}: expected a file ending in .html or .pdf, got "
                         f"{suffix or 'no suffix'}")
    return FORMATS[suffix]


def check_writable(path: str | os.PathLike, force: bool) -> Path:
    """Refuse an existing output (unless `force`), a folder, or a missing parent folder (see fileio)."""
    return fileio.check_writable(path, force)


def write_atomic(path: str | os.PathLike, data: bytes, *, force: bool = False) -> None:
    """Write the report through a temporary file and a rename, never clobbering without `force` (see fileio)."""
    fileio.write_atomic(path, data, force=force)
