"""The checks every run must pass, and the listed exclusions.

A failure is a (check, message) pair. The checks: exit code 0/2/3; no traceback, no
"internal error", no memory error, no timeout; exit 2 says one line `tokencalc: error: `
(warnings and skipped rows may come before it); JSON where JSON was asked, with no
NaN/Infinity; the production function's identities on every estimate object; a
pre-existing output intact without --force; no write outside the case folder; no
temporary file left behind; nothing written on exit 2.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Callable

from .case import PREEXISTING
from .runner import Outcome

REL = 1e-9
ERROR = "tokencalc: error: "
ALLOWED_BEFORE_ERROR = ("tokencalc: warning: ", "tokencalc: skipped ")


@dataclass(frozen=True)
class Exclusion:
    """A known failure in code this harness may not change: matched, counted and listed, not failed."""

    name: str
    description: str
    matches: Callable[[Outcome, str], bool]


def _internal(o: Outcome, check: str) -> bool:
    return check in ("exit-code", "internal-error") and o.code == 1 and "internal error" in o.stderr


# User templates whose rendering raises (options.template_dir draws them).
RAISING_TEMPLATES = (b"{{ 1 / 0 }}", b"{{ range(10**9) | list }}")

# Failures in the report area once excluded here by name; all fixed (tests/test_report.py has their cases).
KNOWN_REPORT_ISSUES: list[Exclusion] = []


def _not_utf8(blob: bytes | None) -> bool:
    if blob is None:
        return False
    try:
        blob.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False

# Behaviour that is documented, not a bug.
DOCUMENTED: list[Exclusion] = [
    Exclusion("profiles-docs-check-exit-1",
              "`profiles docs --check FILE` exits 1 when FILE is not the current catalogue (documented in --help)",
              lambda o, check: (check == "exit-code" and o.code == 1 and o.case.command == "profiles docs"
                                and "--check" in o.case.argv and "is out of date" in o.stderr)),
]


def _raise_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} in JSON")


def parse_json(text: str) -> Any:
    """json.loads that refuses NaN, Infinity and -Infinity."""
    return json.loads(text, parse_constant=_raise_constant)


def check(o: Outcome) -> list[tuple[str, str]]:
    """Every failed check of one run, as (check, message)."""
    out: list[tuple[str, str]] = []
    err = o.stderr
    if o.timed_out:
        return [("timeout", f"no exit within the time cap ({o.elapsed:.1f} s)")]
    if o.code not in (0, 2, 3):
        out.append(("exit-code", f"exit code {o.code}"))
    if "Traceback (most recent call last)" in err:
        out.append(("traceback", "a traceback on stderr"))
    if "internal error" in err:
        out.append(("internal-error", "'internal error' on stderr"))
    if "MemoryError" in err or "Cannot allocate memory" in err or "std::bad_alloc" in err:
        out.append(("memory", "out of memory"))
    if o.code == 2:
        out += _error_line(o)
    if o.code in (0, 3) and o.case.json:
        out += _json(o)
    out += _files(o)
    return out


def _error_line(o: Outcome) -> list[tuple[str, str]]:
    lines = [x for x in o.stderr.splitlines() if x.strip()]
    if o.case.command == "profiles validate":
        bad = [x for x in lines if not x.startswith(ERROR)]
        return [("error-line", f"validate: a stderr line without '{ERROR}': {bad[0][:200]!r}")] if bad or not lines else []
    if not lines or not lines[-1].startswith(ERROR) or len(lines[-1]) <= len(ERROR):
        return [("error-line", "exit 2 without a final 'tokencalc: error: ...' line: "
                 + repr(o.stderr[-300:]))]
    if any(x.startswith(ERROR) for x in lines[:-1]) or not all(x.startswith(ALLOWED_BEFORE_ERROR) for x in lines[:-1]):
        return [("error-line", f"exit 2 with more than one line: {o.stderr[:400]!r}")]
    return []


def _json(o: Outcome) -> list[tuple[str, str]]:
    where = o.case.json or ""
    if where.startswith(("file:", "jsonl-file:")):
        name = where.split(":", 1)[1]
        blob = o.after.get(name)
        if blob is None:
            return [("json", f"expected JSON in {name}, which was not written")]
        text = blob.decode("utf-8", "replace")
    else:
        text = o.stdout.decode("utf-8", "replace")
    try:
        if where.startswith("jsonl"):
            docs = [parse_json(line) for line in text.splitlines() if line.strip()]
        else:
            docs = [parse_json(text)]
    except ValueError as exc:
        return [("json", f"invalid JSON ({exc}): {text[:200]!r}")]
    found: list[tuple[str, str]] = []
    o.stats["json documents"] = o.stats.get("json documents", 0) + len(docs)
    for doc in docs:
        for obj in _estimates(o.case.command, doc):
            o.stats["estimate identities"] = o.stats.get("estimate identities", 0) + 1
            found += [("identity", m) for m in identities(obj)]
    return found


def _estimates(command: str, doc: Any) -> list[dict]:
    """The estimate objects in a command's JSON: estimate's document, compare's rows."""
    if command == "estimate" and isinstance(doc, dict):
        return [doc]
    if command == "compare" and isinstance(doc, list):
        return [r for r in doc if isinstance(r, dict) and "token_rate_tokens_per_s" in r]
    if command == "compare" and isinstance(doc, dict):
        return [r for r in doc.get("rows", []) if isinstance(r, dict) and "token_rate_tokens_per_s" in r]
    return []


def close(a: float, b: float, rel: float = REL) -> bool:
    """a and b equal within a relative `rel`."""
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b))


def _log_close(num: list[float], den: list[float]) -> bool:
    """prod(num) == prod(den) within REL, computed in logs (no overflow, no underflow)."""
    if any(x == 0 for x in num + den):
        return (0 in num) == (0 in den)
    return abs(sum(math.log(abs(x)) for x in num) - sum(math.log(abs(x)) for x in den)) <= 4 * REL


def _classify(qk: float, qp: float, tol: float) -> str:
    keep = 1.0 - tol
    return "compute" if qk < keep * qp else "power" if qp < keep * qk else "balanced"


def identities(d: dict) -> list[str]:
    """Violated identities of one estimate object (empty when all hold)."""
    bad = []
    qk, qp = d.get("compute_ceiling_tokens_per_s"), d.get("power_ceiling_tokens_per_s")
    rate, u, tol = d.get("token_rate_tokens_per_s"), d.get("utilization"), d.get("binding_tolerance")
    tokens, horizon, e_tok = d.get("tokens_total"), d.get("horizon_s"), d.get("e_tok_j_per_token")
    g, gs = d.get("gamma_j_per_flop"), d.get("gamma_star_j_per_flop")
    if qk is None or qp is None:
        if rate is not None or d.get("binding") is not None:
            bad.append(f"a ceiling is unknown (Q_K={qk}, Q_P={qp}) but token_rate={rate}, binding={d.get('binding')}")
        return bad
    if rate is None or u is None or tol is None:
        return bad + [f"both ceilings known but token_rate={rate}, utilization={u}, binding_tolerance={tol}"]
    if not close(rate, u * min(qk, qp)):
        bad.append(f"token_rate {rate} != U*min(Q_K, Q_P) = {u}*min({qk}, {qp})")
    want = _classify(qk, qp, tol)
    if d.get("binding") != want:
        bad.append(f"binding {d.get('binding')!r}, expected {want!r} (Q_K={qk}, Q_P={qp}, tolerance={tol})")
    k_peak, c_tok = d.get("k_peak_flop_per_s"), d.get("c_tok_flop_per_token")
    if k_peak is not None and c_tok is not None and d.get("binding_peak") != _classify(k_peak / c_tok, qp, tol):
        bad.append(f"binding_peak {d.get('binding_peak')!r}, expected {_classify(k_peak / c_tok, qp, tol)!r}")
    if g is None or gs is None:
        bad.append(f"both ceilings known but gamma={g}, gamma_star={gs}")
    elif not _log_close([g, qp], [gs, qk]):
        bad.append(f"gamma/gamma_star = {g}/{gs} != Q_K/Q_P = {qk}/{qp}")
    if horizon is not None:
        if tokens is None or not close(tokens, rate * horizon):
            bad.append(f"tokens_total {tokens} != token_rate*horizon = {rate}*{horizon}")
        elif e_tok is not None:
            # IT energy = the tokens' energy + the idle capacity's, (1 - U) N P_idle T, when counted.
            idle = d.get("energy_idle_it_j") or 0.0
            if d.get("energy_it_j") is None or not close(d["energy_it_j"], tokens * e_tok + idle):
                bad.append(f"energy_it {d.get('energy_it_j')} != tokens_total*e_tok + idle = {tokens}*{e_tok} + {idle}")
            u, p_idle = d.get("utilization"), d.get("idle_power_it_w")
            if p_idle is not None and not close(idle, p_idle * horizon):
                bad.append(f"energy_idle_it {idle} != idle_power_it*horizon = {p_idle}*{horizon}")
            if p_idle is not None and u is not None and u >= 1.0 and p_idle != 0.0:
                bad.append(f"idle power {p_idle} W at U = 1")
    return bad


def _files(o: Outcome) -> list[tuple[str, str]]:
    out = []
    if o.audit:
        out.append(("outside-write", "wrote outside the case folder: " + "; ".join(o.audit[:3])))
    if not o.case.force:
        for name in o.case.preexisting:
            if o.after.get(name) != PREEXISTING:
                out.append(("clobber", f"{name} existed and was replaced without --force (exit {o.code})"))
    stray = [p for p in o.after if p.rsplit("/", 1)[-1].startswith(".") and p.endswith(".tmp")]
    if stray:
        out.append(("stray-temp", f"temporary file(s) left behind: {', '.join(stray[:3])}"))
    if o.code == 2:
        new = [p for p in o.after if p not in o.before]
        if new:
            out.append(("wrote-on-error", f"exit 2 but wrote {', '.join(new[:3])}"))
        changed = [p for p in o.before if p in o.after and o.after[p] != o.before[p]]
        if changed:
            out.append(("wrote-on-error", f"exit 2 but changed {', '.join(changed[:3])}"))
    return out


def judge(o: Outcome) -> tuple[list[tuple[str, str]], list[str]]:
    """(failures, names of the exclusions that matched) of one run."""
    failures, excluded = [], []
    for chk, msg in check(o):
        hit = next((e for e in KNOWN_REPORT_ISSUES + DOCUMENTED if e.matches(o, chk)), None)
        if hit is None:
            failures.append((chk, msg))
        else:
            excluded.append(hit.name)
    return failures, excluded
