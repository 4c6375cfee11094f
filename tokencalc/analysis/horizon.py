"""Time-varying inputs and the token output over a horizon (MODEL.md §6).

    Q(T) = ∫₀ᵀ U(t) · min(Q̇_K(t), Q̇_P(t)) dt

A scenario's `[trajectory]` table says how inputs change from their resolved
starting values: compound `growth`, a linear `ramp`, dated `steps`, or a `csv`
time series. :func:`project` evaluates the engine (:func:`model.core`) on numpy
time arrays, locates the times at which the binding constraint switches by
root finding, and integrates tokens, IT and facility energy, cost and
emissions piecewise between breakpoints (step dates, ramp ends, switch times,
period boundaries). On every piece the integrand is smooth: a piece that is
exponential (constant included) is integrated in closed form, anything else by
adaptive Gauss-Kronrod (15 points) to a relative error of 1e-10.

Pure: no printing, no files other than a trajectory's CSV. numpy is imported
here, so this module is only imported by commands that need it.
"""

from __future__ import annotations

import csv
import datetime as _dt
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..core import model as M
from ..resolve import schema as S
from ..errors import InputError, ProfileError, TokencalcError
from ..resolve.scenario import EXCLUSIVE, numeric_profile_fields

SCHEMA = "tokencalc.project/1"
YEAR = 365.25 * 86400.0
DAY = 86400.0
FORMS = ("growth", "ramp", "steps", "csv")
EXTRA = {"growth": {"start", "until"}, "ramp": {"over", "start"}, "steps": set(),
         "csv": {"column", "time", "unit", "time_unit"}}
# Core keys that may vary over time (numbers, not choices or the horizon itself).
VARIABLE_CORE = tuple(k for k, f in S.CORE.items() if f.type in ("quantity", "int")
                      and k not in ("horizon", "binding_tolerance", "input_output_ratio"))
# Which Inputs field a dotted profile key feeds (scenario.PROFILE_FIELDS); values scale in proportion.
DOTTED = {f"{kind}.{key}": fld for kind in ("facility", "workload", "hardware")
          for key, fld in numeric_profile_fields(kind).items()
          if fld not in ("tpot_slo", "tpot_measured", "prefill_share", "input_output_ratio")}  # gate or resolution only
# Inputs that answer the same question: a trajectory on one replaces the others.
GROUPS = EXCLUSIVE

# Gauss-Kronrod 7-15 nodes on [-1, 1] and weights.
_XK = np.array([0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
                0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
                0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
                0.207784955007898467600689403773245, 0.0])
_WK = np.array([0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
                0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
                0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
                0.204432940075298892414161999234649, 0.209482141084727828012999174891714])
_WG = np.array([0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
                0.381830050505118944950369775488975, 0.417959183673469387755102040816327])
NODES = np.concatenate([-_XK[:7], _XK[::-1]])                       # 15 nodes, ascending
W15 = np.concatenate([_WK[:7], _WK[::-1]])
W7 = np.zeros(15)
W7[[1, 3, 5]] = _WG[:3]
W7[[13, 11, 9]] = _WG[:3]
W7[7] = _WG[3]
RTOL = 1e-10       # per piece; the totals' error is far below the 1e-6 the contract asks for
EXP_TOL = 1e-11    # residual of log f against a line under which a piece is taken as exponential


# ---------------------------------------------------------------------------
# Trajectories

@dataclass(frozen=True)
class Trajectory:
    """How one input changes over time.

    Attributes:
        key: the `[trajectory]` key (core key, or dotted profile key).
        form: growth, ramp, steps or csv.
        spec: the raw table as written (for the report).
        field: the `Inputs` field it feeds (or `levers.<id>.<factor>`).
        dotted: True for a profile key: its values scale the field in proportion.
        breakpoints: times (s) where the trajectory has a kink or a jump.
        params: form parameters in SI (rate, target, times, values).
        source: where the spec was read.
    """

    key: str
    form: str
    spec: dict
    field: str
    dotted: bool
    breakpoints: tuple[float, ...]
    params: dict
    source: str

    def value(self, t: np.ndarray, v0: float | None, left: bool = False) -> np.ndarray:
        """The input's value at times `t` (s), starting from `v0`; `left` gives left limits at step dates."""
        p = self.params
        if self.form == "growth":
            dt = np.clip(t - p["start"], 0.0, p["until"] - p["start"])
            return v0 * np.exp(p["k"] * dt)
        if self.form == "ramp":
            frac = np.clip((t - p["start"]) / p["over"], 0.0, 1.0)
            return v0 + (p["target"] - v0) * frac
        if self.form == "steps":
            at = p["at"]
            idx = np.searchsorted(at, t, side="left" if left else "right")
            first = v0 if v0 is not None else p["values"][0]
            return np.concatenate([[first], p["values"]])[idx]
        return np.interp(t, p["t"], p["values"])


def _where(source: str, key: str) -> str:
    return f"trajectory.{key} in {source}"


def _flatten(table: dict, prefix: str = "") -> list[tuple[str, Any]]:
    out = []
    for k, v in table.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and not (set(v) & set(FORMS)) and v and not _is_key(path):
            out += _flatten(v, path + ".")
        else:
            out.append((path, v))
    return out


def _is_key(path: str) -> bool:
    head, _, rest = path.partition(".")
    return path in S.CORE or path in DOTTED or (head == "levers" and rest.count(".") == 1) \
        or path.startswith("hardware.peak_flops.")


def field_spec(key: str, file: str) -> tuple[S.Field, str, bool]:
    """The schema Field of a trajectory key, the Inputs field it feeds, and whether it is dotted.

    Raises:
        ProfileError: not a core input that can vary, or not a dotted key that feeds the model.
    """
    if key in S.CORE:
        if key not in VARIABLE_CORE:
            raise ProfileError(f"{_where(file, key)}: {key} cannot vary over time; inputs that can: "
                               + ", ".join(VARIABLE_CORE))
        return S.CORE[key], key, False
    head, _, rest = key.partition(".")
    if head == "levers" and rest.count(".") == 1:
        lid, lkey = rest.split(".")
        if lkey in ("c_tok_factor", "e_tok_factor"):
            return S.leaf("lever", lkey), key, True  # type: ignore[return-value]
    if head in ("hardware", "facility", "workload") and rest:
        spec = S.leaf(head, rest)
        if head == "hardware" and rest.startswith("peak_flops."):
            return spec, "peak_flops", True  # type: ignore[return-value]
        if spec is not None and key in DOTTED:
            return spec, DOTTED[key], True
    from ..resolve.profiles import _suggest

    known = [*VARIABLE_CORE, *DOTTED, "hardware.peak_flops.<precision>", "levers.<id>.c_tok_factor",
             "levers.<id>.e_tok_factor"]
    raise ProfileError(f"{_where(file, key)}: not an input that can vary over time (a core key such as "
                       f"p_it, devices, pue, or a dotted profile key such as facility.power)" + _suggest(key, known))


def _date(raw: Any) -> _dt.date | None:
    if isinstance(raw, _dt.datetime):
        return raw.date()
    if isinstance(raw, _dt.date):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", raw):
        try:
            return _dt.date.fromisoformat(raw.strip())
        except ValueError:
            return None
    return None


def time_offset(raw: Any, start_date: str | None, file: str, key: str) -> float:
    """A time in a trajectory: an offset with a unit ("90 day") or an ISO date (needs `start_date`), in s."""
    d = _date(raw)
    if d is not None:
        if start_date is None:
            raise ProfileError(f"{key} in {file}: the date {d.isoformat()} needs the scenario's start_date "
                               "(e.g. start_date = 2025-01-01), or give an offset such as \"90 day\"")
        start = _dt.date.fromisoformat(start_date)
        if d < start:
            raise ProfileError(f"{key} in {file}: the date {d.isoformat()} is before the scenario's start_date "
                               f"{start_date}")
        return (d - start).days * DAY
    from ..units import parse

    x = parse(raw, "time", file=file, key=key)
    if x < 0:
        raise ProfileError(f"{key} in {file}: expected a time >= 0 after the start, got {raw!r}")
    return x


def _value(spec: S.Field, raw: Any, file: str, key: str) -> float:
    from ..resolve.profiles import _leaf_value

    if isinstance(raw, dict):
        raise ProfileError(f"{key} in {file}: a trajectory value must be a single value, not a range or table")
    value, _ = _leaf_value(spec, raw, file, key)
    return float(value)


def _growth_rate(raw: Any, file: str, key: str) -> tuple[float, float]:
    """(rate per compounding period, period in s) of "30 percent/year"; the period is the unit under the slash."""
    from ..units import parse

    g = parse(raw, "rate", file=file, key=key)
    period = YEAR
    if isinstance(raw, str):
        m = re.search(r"/\s*([A-Za-z_]+)\s*$", raw.strip())
        if m:
            try:
                period = parse(f"1 {m.group(1)}", "time")
            except TokencalcError:
                period = YEAR
    per = g * period
    if not per > -1.0:
        raise ProfileError(f"{key} in {file}: growth must be above -100 % per period, got {raw!r}")
    return per, period


def parse_trajectory(key: str, spec: Any, *, file: str, start_date: str | None, base_dir: Path | None) -> Trajectory:
    """Validate one `[trajectory]` entry and turn it into a :class:`Trajectory` (SI units).

    Args:
        key: core key or dotted profile key.
        spec: the TOML table: `{growth = ...}`, `{ramp = ..., over = ...}`, `{steps = [...]}` or `{csv = ..., column = ...}`.
        file: the file (or flag) it came from, for error messages.
        start_date: the scenario's `start_date` (ISO), needed for dated entries.
        base_dir: folder CSV paths are relative to.

    Raises:
        ProfileError / UnitError: malformed spec, wrong unit, out-of-order or undated steps.
    """
    fspec, target, dotted = field_spec(key, file)
    where = f"trajectory.{key}"
    if not isinstance(spec, dict):
        raise ProfileError(f"{where} in {file}: expected a table such as {{ growth = \"30 percent/year\" }}, "
                           f"{{ ramp = ..., over = \"180 day\" }}, {{ steps = [...] }} or {{ csv = ..., column = ... }}; "
                           f"got {spec!r}")
    forms = [f for f in FORMS if f in spec]
    if len(forms) != 1:
        raise ProfileError(f"{where} in {file}: expected exactly one of {', '.join(FORMS)}, got "
                           + (", ".join(forms) if forms else "none (keys: " + ", ".join(sorted(spec)) + ")"))
    form = forms[0]
    bad = set(spec) - {form} - EXTRA[form]
    if bad:
        raise ProfileError(f"{where} in {file}: unknown key(s) {', '.join(sorted(bad))} for {form}; "
                           f"allowed: {', '.join(sorted({form} | EXTRA[form]))}")
    params: dict[str, Any] = {}
    bps: list[float] = []
    if form == "growth":
        per, period = _growth_rate(spec["growth"], file, f"{where}.growth")
        start = time_offset(spec.get("start", "0 s"), start_date, file, f"{where}.start")
        until = time_offset(spec["until"], start_date, file, f"{where}.until") if "until" in spec else math.inf
        if until <= start:
            raise ProfileError(f"{where}.until in {file}: must be after the start of the growth")
        params.update(k=math.log1p(per) / period, start=start, until=until, per=per, period=period)
        bps += [start, until]
    elif form == "ramp":
        if "over" not in spec:
            raise ProfileError(f"{where} in {file}: a ramp needs `over`, e.g. {{ ramp = ..., over = \"180 day\" }}")
        over = time_offset(spec["over"], None, file, f"{where}.over")
        if over <= 0:
            raise ProfileError(f"{where}.over in {file}: expected a duration > 0, got {spec['over']!r}")
        start = time_offset(spec.get("start", "0 s"), start_date, file, f"{where}.start")
        params.update(target=_value(fspec, spec["ramp"], file, f"{where}.ramp"), over=over, start=start)
        bps += [start, start + over]
    elif form == "steps":
        steps = spec["steps"]
        if not isinstance(steps, list) or not steps or not all(isinstance(s, dict) for s in steps):
            raise ProfileError(f"{where}.steps in {file}: expected a list of {{ at = ..., value = ... }} tables")
        at, vals = [], []
        for i, s in enumerate(steps):
            sk = f"{where}.steps[{i}]"
            if set(s) != {"at", "value"}:
                raise ProfileError(f"{sk} in {file}: expected keys at and value, got {', '.join(sorted(s)) or 'none'}")
            t = time_offset(s["at"], start_date, file, f"{sk}.at")
            if at and t <= at[-1]:
                raise ProfileError(f"{sk}.at in {file}: steps must be in time order; {s['at']!r} is not after "
                                   f"{steps[i - 1]['at']!r}")
            at.append(t)
            vals.append(_value(fspec, s["value"], file, f"{sk}.value"))
        params.update(at=np.array(at), values=np.array(vals))
        bps += at
    else:
        params.update(_read_csv(spec, fspec, file, where, start_date, base_dir))
        bps += list(params["t"])
    return Trajectory(key, form, dict(spec), target, dotted, tuple(sorted(set(b for b in bps if math.isfinite(b)))),
                      params, file)


def _read_csv(spec: dict, fspec: S.Field, file: str, where: str, start_date: str | None,
              base_dir: Path | None) -> dict:
    from ..units import parse

    if "column" not in spec:
        raise ProfileError(f"{where} in {file}: a csv trajectory needs `column` (the header of the value column)")
    ref = Path(str(spec["csv"])).expanduser()
    path = ref if ref.is_absolute() or base_dir is None else base_dir / ref
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise ProfileError(f"{where}.csv in {file}: cannot read '{path}': {exc.strerror or exc}") from None
    rows = [r for r in rows if r and any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
    if len(rows) < 2:
        raise ProfileError(f"{where}.csv in {file}: '{path}' needs a header row and at least one data row")
    header = [h.strip() for h in rows[0]]
    col, tcol = str(spec["column"]), str(spec.get("time", header[0]))
    for name in (col, tcol):
        if name not in header:
            raise ProfileError(f"{where} in {file}: '{path}' has no column '{name}'; columns: {', '.join(header)}")
    ci, ti = header.index(col), header.index(tcol)
    vfactor = parse(f"1 {spec['unit']}", fspec.dim, file=file, key=f"{where}.unit") if "unit" in spec else None
    tfactor = parse(f"1 {spec['time_unit']}", "time", file=file, key=f"{where}.time_unit") if "time_unit" in spec else None
    ts, vs = [], []
    for n, r in enumerate(rows[1:], start=2):
        loc = f"{path} line {n}"
        if len(r) <= max(ci, ti):
            raise ProfileError(f"{where} in {file}: {loc} has {len(r)} fields, expected at least {max(ci, ti) + 1}")
        traw, vraw = r[ti].strip(), r[ci].strip()
        t = _number(traw)
        if t is not None:
            if tfactor is None:
                raise ProfileError(f"{where} in {file}: {loc}: time {traw!r} has no unit; add time_unit = \"day\" "
                                   "(or write times as \"90 day\" or ISO dates)")
            t *= tfactor
        else:
            t = time_offset(traw, start_date, f"{loc} ({file})", f"{where} column {tcol}")
        v = _number(vraw)
        if v is not None and vfactor is not None:
            v *= vfactor
        else:
            v = _value(fspec, vraw if v is None else v, f"{loc} ({file})", f"{where} column {col}")
        if ts and t <= ts[-1]:
            raise ProfileError(f"{where} in {file}: {loc}: times must increase, got {traw!r} after an equal or later time")
        ts.append(t)
        vs.append(v)
    return {"t": np.array(ts), "values": np.array(vs), "path": str(path)}


def _number(text: str) -> float | None:
    try:
        x = float(text)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def parse_table(table: dict, *, file: str, start_date: str | None, base_dir: Path | None) -> list[Trajectory]:
    """Parse a whole `[trajectory]` table (dotted keys may be nested or quoted)."""
    out = [parse_trajectory(k, v, file=file, start_date=start_date, base_dir=base_dir) for k, v in _flatten(table)]
    seen: dict[str, str] = {}
    for tr in out:
        if tr.field in seen:
            raise ProfileError(f"trajectory in {file}: {seen[tr.field]} and {tr.key} both feed {tr.field}; keep one")
        seen[tr.field] = tr.key
    return out


def from_resolved(resolved: Any, extra: dict[str, Any] | None = None, extra_source: str = "--trajectory") -> list[Trajectory]:
    """The trajectories of a resolved scenario, plus `extra` ones (from flags) that replace same-key entries."""
    scen = resolved.scenario
    table = dict(scen.raw.get("trajectory", {})) if scen is not None else {}
    start = scen.get("start_date") if scen is not None else None
    base = Path(scen.file).parent if scen is not None and scen.file else None
    file = scen.path if scen is not None else "(flags)"
    trajs = parse_table(table, file=file, start_date=start, base_dir=base)
    if extra:
        flagged = parse_table(extra, file=extra_source, start_date=start, base_dir=Path.cwd())
        keys = {t.key for t in flagged}
        fields = {t.field for t in flagged}
        trajs = [t for t in trajs if t.key not in keys and t.field not in fields] + flagged
    return trajs


# ---------------------------------------------------------------------------
# The model over time

@dataclass
class _Plan:
    """Base inputs and how each trajectory modifies them."""

    base: M.Inputs
    trajs: list[Trajectory]
    v0: dict[str, float | None]            # starting value of each trajectory (by key)
    c_factor: float
    e_factor: float
    lever_phase: dict[str, tuple[str, float | None, float]]   # key -> (phase, prefill share, base factor)
    notes: list[str]


def _plan(resolved: Any, trajs: list[Trajectory]) -> _Plan:
    inp: M.Inputs = resolved.inputs
    notes: list[str] = []
    statuses = M.gate_levers(inp)
    c_factor = e_factor = 1.0
    for s in statuses:
        if s.counted:
            c_factor *= s.c_tok_factor
            e_factor *= s.e_tok_factor
    cleared: dict[str, Any] = {}
    v0: dict[str, float | None] = {}
    lever_phase = {}
    for tr in trajs:
        f = tr.field
        where = f"trajectory.{tr.key} in {tr.source}"
        if f.startswith("levers."):
            _, lid, lkey = f.split(".")
            status = next((s for s in statuses if s.id == lid), None)
            lever = next((lv for lv in inp.levers if lv.id == lid), None)
            if lever is None:
                raise InputError(f"{where}: lever '{lid}' is not in this scenario's levers")
            if not status.counted:
                notes.append(f"Trajectory on {tr.key} has no effect: the lever is not counted ({status.reason}).")
            lever_phase[tr.key] = (lever.phase, inp.prefill_share, getattr(lever, lkey))
            v0[tr.key] = getattr(lever, lkey)
            continue
        if not tr.dotted:
            v0[tr.key] = _num(getattr(inp, f))
            for group in GROUPS:
                if f in group:
                    for other in group:
                        if other != f and getattr(inp, other) is not None:
                            cleared[other] = None
                            notes.append(f"Trajectory on {f} replaces {other} "
                                         f"({inp.provenance[other].source if other in inp.provenance else 'resolved'}).")
        else:
            kind, _, pkey = tr.key.partition(".")
            prof = getattr(resolved, kind, None)
            pv = prof.get(pkey) if prof is not None else None
            v0[tr.key] = pv
            if pv is None:
                raise InputError(f"{where}: the {kind} profile gives no {pkey} to start from; "
                                 f"put a trajectory on the core key {tr.field} instead")
            src = inp.provenance.get(tr.field)
            fed = src is not None and src.source.startswith(f"{kind} {prof.id}")
            if tr.field == "peak_flops" and pkey.split(".", 1)[1] != inp.precision:
                fed = False
            if not fed:
                notes.append(f"Trajectory on {tr.key} has no effect: {tr.field} comes from "
                             f"{src.source if src is not None else 'nowhere (it is not used)'}.")
                v0[tr.key] = None
        if v0[tr.key] is None and not (tr.form in ("csv",) or (tr.form == "steps" and tr.params["at"][0] == 0.0)):
            if tr.dotted:
                continue
            raise InputError(f"{where}: {tr.field} has no starting value in this scenario; give one "
                             f"(e.g. --{tr.field.replace('_', '-')}) or start the steps at \"0 day\"")
    base = M.with_values(inp, **cleared) if cleared else inp
    return _Plan(base, trajs, v0, c_factor, e_factor, lever_phase, notes)


def _num(x: Any) -> float | None:
    return None if x is None else float(x)


def _evaluate(plan: _Plan, t: np.ndarray, left: bool = False) -> dict[str, Any]:
    """The engine at times `t` (array): ceilings, rate and the per-token figures the totals need."""
    changes: dict[str, Any] = {}
    c_factor, e_factor = plan.c_factor, plan.e_factor
    for tr in plan.trajs:
        v0 = plan.v0[tr.key]
        if tr.key in plan.lever_phase:
            phase, share, f0 = plan.lever_phase[tr.key]
            ratio = M.phase_factor(tr.value(t, v0, left), phase, share) / M.phase_factor(f0, phase, share)
            if tr.field.endswith("c_tok_factor"):
                c_factor = c_factor * ratio
            else:
                e_factor = e_factor * ratio
            continue
        if tr.dotted:
            if v0 is None:
                continue
            base = getattr(plan.base, tr.field)
            ratio = tr.value(t, v0, left) / v0
            changes[tr.field] = base * ratio
            if tr.key in ("hardware.tdp", "hardware.server_power_per_device") and plan.base.it_overhead is not None \
                    and (plan.base.it_overhead_source or "").startswith("hardware"):
                oh = changes.get("it_overhead", plan.base.it_overhead)
                changes["it_overhead"] = oh / ratio if tr.key == "hardware.tdp" else oh * ratio
        else:
            changes[tr.field] = tr.value(t, v0, left)
    inp = M.with_values(plan.base, **changes) if changes else plan.base
    r = M.core(inp, c_factor, e_factor)
    n = t.shape
    out = {"t": t}
    for k in ("compute_ceiling", "power_ceiling", "token_rate", "e_tok", "c_tok", "k_eff", "p_it", "p_facility"):
        v = r[k]
        out[k] = None if v is None else np.broadcast_to(np.asarray(v, dtype=float), n)
    for k in ("pue", "electricity_price", "carbon_intensity"):
        v = getattr(inp, k)
        out[k] = None if v is None else np.broadcast_to(np.asarray(v, dtype=float), n)
    out["utilization"] = np.broadcast_to(np.asarray(r["utilization"], dtype=float), n)
    return out


COMPONENTS = ("tokens", "energy_it", "energy_facility", "cost", "emissions")


def _integrand(ev: dict[str, Any]) -> list[np.ndarray | None]:
    rate = ev["token_rate"]
    e_it = rate * ev["e_tok"] if ev["e_tok"] is not None else None
    e_fac = e_it * ev["pue"] if e_it is not None and ev["pue"] is not None else None
    cost = e_fac * ev["electricity_price"] if e_fac is not None and ev["electricity_price"] is not None else None
    emis = e_fac * ev["carbon_intensity"] if e_fac is not None and ev["carbon_intensity"] is not None else None
    return [rate, e_it, e_fac, cost, emis]


# ---------------------------------------------------------------------------
# Numerics: root finding and integration

def _bisect(g: Callable[[np.ndarray], np.ndarray], lo: np.ndarray, hi: np.ndarray, xtol: float) -> np.ndarray:
    """Vectorized bisection for the sign change of boolean-valued g (g(lo) != g(hi)); returns midpoints."""
    glo = g(lo)
    for _ in range(200):
        if lo.size == 0 or np.max(hi - lo) <= xtol:
            break
        mid = 0.5 * (lo + hi)
        gm = g(mid)
        same = gm == glo
        lo = np.where(same, mid, lo)
        hi = np.where(same, hi, mid)
    return 0.5 * (lo + hi)


def _gk(f: Callable[[np.ndarray], list[np.ndarray | None]], a: np.ndarray, b: np.ndarray, ncomp: int,
        rtol: float = RTOL, max_levels: int = 40) -> tuple[np.ndarray, dict[str, int]]:
    """Integrate the components of `f` over each [a_i, b_i]; returns (ncomp, n) integrals and method counts.

    A piece whose component is exponential in t (log-linear at the 15 nodes to 1e-11) is integrated in
    closed form; otherwise Gauss-Kronrod 15 is accepted where |K15 - G7| <= rtol·|K15|, and pieces that
    fail are halved (all pieces of a level in one vectorized engine call).
    """
    n = a.size
    total = np.zeros((ncomp, n))
    stats = {"closed_form": 0, "gauss_kronrod": 0, "subdivisions": 0}
    owner = np.arange(n)
    lo, hi = a.astype(float), b.astype(float)
    for level in range(max_levels):
        if lo.size == 0:
            break
        mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
        t = (mid[:, None] + half[:, None] * NODES[None, :]).ravel()
        comps = f(t)
        F = np.stack([np.zeros_like(t) if c is None else np.asarray(c, dtype=float) for c in comps[:ncomp]])
        F = F.reshape(ncomp, lo.size, 15)
        K = half * (F @ W15)
        G = half * (F @ W7)
        ok = np.abs(K - G) <= rtol * np.abs(K) + 1e-300
        # closed form for exponential pieces (constants included)
        with np.errstate(divide="ignore", invalid="ignore"):
            pos = np.all(F > 0, axis=2)
            y = np.log(np.where(F > 0, F, 1.0))
            c0 = y.mean(axis=2)
            c1 = (y * NODES).sum(axis=2) / (NODES @ NODES)
            resid = np.max(np.abs(y - c0[..., None] - c1[..., None] * NODES), axis=2)
            expo = pos & (resid <= EXP_TOL)
            x = c1
            shx = np.where(np.abs(x) < 1e-6, 1.0 + x * x / 6.0, np.sinh(x) / np.where(x == 0, 1.0, x))
            closed = np.exp(c0) * 2.0 * half * shx
        value = np.where(expo, closed, K)
        done_comp = expo | ok
        done = np.all(done_comp, axis=0) | (level == max_levels - 1) | (half <= 1e-9 * np.maximum(np.abs(mid), 1.0))
        for i in range(ncomp):
            np.add.at(total[i], owner[done], value[i, done])
        stats["closed_form"] += int(np.sum(expo[:, done]))
        stats["gauss_kronrod"] += int(np.sum(~expo[:, done]))
        nd = ~done
        if not nd.any():
            break
        stats["subdivisions"] += int(nd.sum())
        lo_nd, hi_nd, mid_nd = lo[nd], hi[nd], mid[nd]
        owner = np.concatenate([owner[nd], owner[nd]])
        lo = np.concatenate([lo_nd, mid_nd])
        hi = np.concatenate([mid_nd, hi_nd])
    return total, stats


# ---------------------------------------------------------------------------
# Periods

def _add_months(d: _dt.date, months: int) -> _dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    return _dt.date(d.year + y, m + 1, 1)


def period_edges(horizon_s: float, start_date: str | None, unit: str) -> tuple[np.ndarray, list[str]]:
    """Edges (s) and labels of the resampling periods: calendar ones with a start date, fixed lengths without."""
    if start_date is not None and unit in ("month", "quarter", "year"):
        start = _dt.date.fromisoformat(start_date)
        step = {"month": 1, "quarter": 3, "year": 12}[unit]
        first = _dt.date(start.year, 1, 1) if unit == "year" else \
            _dt.date(start.year, ((start.month - 1) // step) * step + 1, 1)
        edges, labels, d = [0.0], [], first
        while True:
            nxt = _add_months(d, step)
            labels.append(d.strftime("%Y") if unit == "year" else
                          (f"{d.year}-Q{(d.month - 1) // 3 + 1}" if unit == "quarter" else d.strftime("%Y-%m")))
            t = (nxt - start).days * DAY
            if t >= horizon_s - 1e-6:
                edges.append(horizon_s)
                break
            edges.append(t)
            d = nxt
        return np.array(edges), labels
    length = {"day": DAY, "week": 7 * DAY, "month": YEAR / 12, "quarter": YEAR / 4, "year": YEAR}[unit]
    n = max(1, int(math.ceil(horizon_s / length - 1e-9)))
    edges = np.minimum(np.arange(n + 1) * length, horizon_s)
    if start_date is not None:
        start = _dt.datetime.fromisoformat(start_date)
        labels = [(start + _dt.timedelta(seconds=float(e))).date().isoformat() for e in edges[:-1]]
    else:
        labels = [f"{unit[0].upper()}{i + 1}" for i in range(n)]
    return edges, labels


def default_period(horizon_s: float) -> str:
    """Resampling unit by horizon length: days up to 45 days, months up to 2 years, quarters up to 6, else years."""
    if horizon_s <= 45 * DAY:
        return "day"
    if horizon_s <= 2 * YEAR + DAY:
        return "month"
    if horizon_s <= 6 * YEAR + DAY:
        return "quarter"
    return "year"


def default_resolution(horizon_s: float) -> float:
    """Series resolution when none is given: hourly up to 60 days, daily beyond."""
    return 3600.0 if horizon_s <= 60 * DAY else DAY


# ---------------------------------------------------------------------------
# The projection

@dataclass(frozen=True)
class Switch:
    """A time at which the binding constraint changes."""

    t_s: float
    from_: str
    to: str
    date: str | None = None


@dataclass
class Projection:
    """The horizon: series on a time grid, exact totals, switch times, periods.

    Arrays (numpy, one value per series time `t_s`): `token_rate`, `compute_ceiling`,
    `power_ceiling`, `binding` (str), `p_it`, `e_tok`, `c_tok`, `k_eff`, `utilization`.
    `totals` holds the documented JSON keys (tokens_total, energy_it_j, energy_facility_j,
    cost_usd, emissions_kg_co2e, power_bound_s, power_bound_share).
    """

    scenario: str | None
    start_date: str | None
    horizon_s: float
    resolution_s: float
    t_s: np.ndarray
    series: dict[str, Any]
    binding: np.ndarray
    switches: list[Switch]
    totals: dict[str, float | None]
    periods: list[dict[str, Any]]
    period_unit: str
    trajectories: list[Trajectory]
    notes: list[str]
    integration: dict[str, int]
    start: dict[str, Any]
    end: dict[str, Any]
    target_tokens: float | None = None
    time_to_target_s: float | None = None

    def date_of(self, t_s: float) -> str | None:
        """ISO date of an offset (None without a start date)."""
        if self.start_date is None:
            return None
        return (_dt.datetime.fromisoformat(self.start_date) + _dt.timedelta(seconds=float(t_s))).date().isoformat()

    def to_json(self, series: bool = True) -> dict[str, Any]:
        """The documented JSON object (INTERFACE.md `project`), SI units, plain numbers."""
        out: dict[str, Any] = {
            "schema": SCHEMA, "scenario": self.scenario, "start_date": self.start_date,
            "horizon_s": self.horizon_s, "resolution_s": self.resolution_s,
            **{k: _plain(v) for k, v in self.totals.items()},
            "switches": [{"t_s": s.t_s, "date": s.date, "from": s.from_, "to": s.to} for s in self.switches],
            "target_tokens": self.target_tokens, "time_to_target_s": self.time_to_target_s,
            "time_to_target_date": (self.date_of(self.time_to_target_s) if self.time_to_target_s is not None else None),
            "start": {k: _plain(v) for k, v in self.start.items()},
            "end": {k: _plain(v) for k, v in self.end.items()},
            "period_unit": self.period_unit,
            "periods": [{k: _plain(v) for k, v in p.items()} for p in self.periods],
            "trajectories": [{"key": t.key, "form": t.form, "feeds": t.field, "spec": _spec_json(t.spec),
                              "source": t.source} for t in self.trajectories],
            "integration": dict(self.integration),
            "notes": list(self.notes),
        }
        if series:
            out["series"] = self.series_rows()
        return out

    def series_rows(self) -> list[dict[str, Any]]:
        """The series as a list of dicts with the documented keys."""
        cols = [("t_s", self.t_s)] + [(SERIES_KEYS[k], self.series[k]) for k in SERIES_KEYS]
        lists = [(name, None if arr is None else arr.tolist()) for name, arr in cols]
        binding = self.binding.tolist()
        rows = []
        for i in range(self.t_s.size):
            row = {name: (None if arr is None else arr[i]) for name, arr in lists}
            row["binding"] = binding[i] or None
            rows.append(row)
        return rows


SERIES_KEYS = {"token_rate": "token_rate_tokens_per_s", "compute_ceiling": "compute_ceiling_tokens_per_s",
               "power_ceiling": "power_ceiling_tokens_per_s", "p_it": "p_it_w", "k_eff": "k_eff_flop_per_s",
               "c_tok": "c_tok_flop_per_token", "e_tok": "e_tok_j_per_token", "utilization": "utilization"}


def _plain(v: Any) -> Any:
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    return v


def _spec_json(spec: dict) -> dict:
    def conv(v: Any) -> Any:
        if isinstance(v, (_dt.date, _dt.datetime)):
            return v.isoformat()
        if isinstance(v, list):
            return [conv(x) for x in v]
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v
    return conv(spec)


def _binding_codes(qk: np.ndarray, qp: np.ndarray, tol: float) -> np.ndarray:
    bal = np.abs(qk - qp) <= tol * np.maximum(qk, qp)
    return np.where(bal, "balanced", np.where(qk < qp, "compute", "power"))


def project(resolved: Any, horizon_s: float | None = None, resolution_s: float | None = None, *,
            trajectories: list[Trajectory] | None = None, period: str | None = None,
            target_tokens: float | None = None) -> Projection:
    """Project a resolved scenario over its horizon with its trajectories.

    Args:
        resolved: a `scenario.Resolved` (its `[trajectory]` table is read unless `trajectories` is given).
        horizon_s: horizon T in s (default: the resolved `horizon` input).
        resolution_s: spacing of the series in s (default: hourly up to 60 days, daily beyond).
        trajectories: parsed trajectories to use instead of the scenario's (see :func:`from_resolved`).
        period: resampling unit of the period table: day, week, month, quarter or year (default by T).
        target_tokens: when given, the time at which Q(t) reaches it (None if not within T).

    Returns:
        A :class:`Projection`; `.to_json()` gives the documented JSON.

    Raises:
        TokencalcError: malformed trajectories, no horizon, or a token rate that cannot be computed.
    """
    trajs = from_resolved(resolved) if trajectories is None else trajectories
    inp: M.Inputs = resolved.inputs
    T = horizon_s if horizon_s is not None else inp.horizon
    if T is None or not T > 0:
        raise InputError("project needs a horizon > 0 (--horizon \"365 day\" or the scenario's horizon)")
    T = float(T)
    res = float(resolution_s) if resolution_s is not None else default_resolution(T)
    if not res > 0:
        raise InputError(f"--resolution must be > 0 s, got {res:g} s")
    if T / res > 5e6:
        raise InputError(f"--resolution {res:g} s gives {T / res:.3g} points over the horizon; use a coarser one "
                         "(at most 5 million points)")
    plan = _plan(resolved, trajs)
    notes = list(plan.notes)
    start_date = resolved.scenario.get("start_date") if resolved.scenario is not None else None
    tol = inp.binding_tolerance if inp.binding_tolerance is not None else M.DEFAULT_TOLERANCE

    def ev(t: np.ndarray, left: bool = False) -> dict[str, Any]:
        return _evaluate(plan, np.asarray(t, dtype=float), left)

    first = ev(np.array([0.0]))
    if first["token_rate"] is None:
        why = [n for n in M.estimate(plan.base).notes if "unknown" in n or "no power" in n.lower() or "No " in n]
        raise InputError("cannot project: the token rate is unknown (both ceilings are needed). " + " ".join(why[:2]))
    _check_bounds(plan, T, start_date)
    _check_effect(plan, T, notes)

    # series on the grid
    n = int(math.floor(T / res + 1e-9)) + 1
    t = np.arange(n, dtype=float) * res
    if t[-1] < T * (1 - 1e-12):
        t = np.append(t, T)
    grid = ev(t)
    qk, qp = grid["compute_ceiling"], grid["power_ceiling"]
    binding = _binding_codes(qk, qp, tol)

    # breakpoints of the trajectories inside (0, T)
    bps = sorted({b for tr in trajs for b in tr.breakpoints if 0.0 < b < T})
    edges = np.array([0.0, *bps, T])

    # switches: bracket on each smooth segment (limits at its ends), then bisect
    def power_bound(x: np.ndarray, left: bool = False) -> np.ndarray:
        e = ev(x, left)
        # ceilings equal to rounding (a ramp that ends on the other ceiling) are not a switch
        return e["power_ceiling"] < e["compute_ceiling"] * (1 - 1e-12)

    a, b = edges[:-1], edges[1:]
    m = 64
    inner = (a[:, None] + (b - a)[:, None] * (np.arange(1, m) / m)[None, :])
    pts = np.concatenate([a[:, None], inner, b[:, None]], axis=1)          # (nseg, m+1)
    pb = np.empty(pts.shape, dtype=bool)
    pb[:, 1:-1] = power_bound(inner.ravel()).reshape(inner.shape)
    pb[:, 0] = power_bound(a)
    pb[:, -1] = power_bound(b, left=True)
    # grid points of the series also bracket (finer where the user asked for a fine series)
    gpb = qp < qk * (1 - 1e-12)
    lo_l, hi_l, from_l = [], [], []
    for s in range(len(a)):
        i0, i1 = np.searchsorted(t, a[s], side="right"), np.searchsorted(t, b[s], side="left")
        xs = np.concatenate([[a[s]], np.sort(np.concatenate([inner[s], t[i0:i1]]))])
        order = np.argsort(np.concatenate([inner[s], t[i0:i1]]), kind="stable")
        vs = np.concatenate([[pb[s, 0]], np.concatenate([pb[s, 1:-1], gpb[i0:i1]])[order]])
        xs, vs = np.append(xs, b[s]), np.append(vs, pb[s, -1])
        change = np.nonzero(vs[1:] != vs[:-1])[0]
        lo_l.append(xs[change])
        hi_l.append(xs[change + 1])
        from_l.append(vs[change])
    lo, hi, frm = np.concatenate(lo_l), np.concatenate(hi_l), np.concatenate(from_l)
    keep = hi > lo
    roots = _bisect(power_bound, lo[keep], hi[keep], xtol=1e-12 * T) if keep.any() else np.array([])
    found = list(zip(roots.tolist(), frm[keep].tolist()))
    # jumps at breakpoints (a step flips the regime at its date)
    found += [(float(edges[k + 1]), bool(pb[k, -1])) for k in range(len(a) - 1) if pb[k, -1] != pb[k + 1, 0]]
    found.sort()
    switches = [Switch(ts, "power" if was else "compute", "compute" if was else "power", _date_of(start_date, ts))
                for ts, was in found]
    sw_t = np.array([ts for ts, _ in found])

    # integration pieces: trajectory breakpoints, switch times, period edges
    unit = period or default_period(T)
    pedges, plabels = period_edges(T, start_date, unit)
    cuts = np.unique(np.concatenate([edges, sw_t, pedges]))
    cuts = cuts[(cuts >= 0) & (cuts <= T)]
    pa, pz = cuts[:-1], cuts[1:]
    pa, pz = pa[pz > pa], pz[pz > pa]

    def comps(x: np.ndarray) -> list[np.ndarray | None]:
        return _integrand(ev(x))

    avail = [c is not None for c in _integrand(first)]
    integrals, stats = _gk(comps, pa, pz, len(COMPONENTS))
    mids = 0.5 * (pa + pz)
    piece_power = power_bound(mids)
    lengths = pz - pa
    totals: dict[str, float | None] = {}
    names = {"tokens": "tokens_total", "energy_it": "energy_it_j", "energy_facility": "energy_facility_j",
             "cost": "cost_usd", "emissions": "emissions_kg_co2e"}
    for i, c in enumerate(COMPONENTS):
        totals[names[c]] = float(integrals[i].sum()) if avail[i] else None
    totals["power_bound_s"] = float(lengths[piece_power].sum())
    totals["power_bound_share"] = totals["power_bound_s"] / T

    # periods
    pidx = np.clip(np.searchsorted(pedges, mids, side="right") - 1, 0, len(plabels) - 1)
    periods = []
    for k, label in enumerate(plabels):
        sel = pidx == k
        dur = float(pedges[k + 1] - pedges[k])
        row: dict[str, Any] = {"period": label, "t_start_s": float(pedges[k]), "t_end_s": float(pedges[k + 1])}
        for i, c in enumerate(COMPONENTS):
            row[names[c]] = float(integrals[i][sel].sum()) if avail[i] else None
        row["mean_token_rate_tokens_per_s"] = row["tokens_total"] / dur if dur > 0 else None
        row["power_bound_share"] = float(lengths[sel & piece_power].sum()) / dur if dur > 0 else None
        periods.append(row)

    # time to a target number of tokens
    t_target = None
    if target_tokens is not None:
        t_target = _time_to(target_tokens, integrals[0], pa, pz, lambda x: ev(x)["token_rate"])
        if t_target is None:
            notes.append(f"{target_tokens:.6g} tokens are not reached within the horizon "
                         f"(Q(T) = {totals['tokens_total']:.6g}); extend --horizon.")

    def snapshot(e: dict[str, Any], i: int) -> dict[str, Any]:
        out = {SERIES_KEYS[k]: (None if e[k] is None else float(e[k][i])) for k in SERIES_KEYS}
        out["p_facility_w"] = None if e["p_facility"] is None else float(e["p_facility"][i])
        out["pue"] = None if e["pue"] is None else float(e["pue"][i])
        return out

    series = {k: (None if grid[k] is None else np.ascontiguousarray(grid[k])) for k in SERIES_KEYS}
    return Projection(
        scenario=inp.scenario, start_date=start_date, horizon_s=T, resolution_s=res, t_s=t, series=series,
        binding=binding, switches=switches, totals=totals, periods=periods, period_unit=unit, trajectories=trajs,
        notes=notes, integration={"pieces": int(pa.size), **stats}, start=snapshot(grid, 0),
        end=snapshot(grid, t.size - 1), target_tokens=target_tokens, time_to_target_s=t_target)


def _date_of(start_date: str | None, t_s: float) -> str | None:
    if start_date is None:
        return None
    return (_dt.datetime.fromisoformat(start_date) + _dt.timedelta(seconds=float(t_s))).date().isoformat()


def _time_to(target: float, pieces: np.ndarray, pa: np.ndarray, pz: np.ndarray,
             rate: Callable[[np.ndarray], np.ndarray]) -> float | None:
    """Time at which the cumulative integral reaches `target` (safeguarded Newton inside one smooth piece)."""
    if target <= 0:
        return 0.0
    cum = np.concatenate([[0.0], np.cumsum(pieces)])
    if target > cum[-1]:
        return None
    k = int(np.searchsorted(cum, target, side="left")) - 1
    k = min(max(k, 0), pa.size - 1)
    need = target - cum[k]
    lo, hi = float(pa[k]), float(pz[k])
    a0 = lo

    def F(x: float) -> float:
        val, _ = _gk(lambda t: [rate(t)], np.array([a0]), np.array([x]), 1)
        return float(val[0, 0]) - need

    x = lo + (hi - lo) * (need / pieces[k]) if pieces[k] > 0 else lo
    for _ in range(60):
        fx = F(x)
        if fx > 0:
            hi = x
        else:
            lo = x
        if abs(fx) <= 1e-13 * target or hi - lo <= 1e-12 * max(abs(hi), 1.0):
            break
        d = float(rate(np.array([x]))[0])
        nx = x - fx / d if d > 0 else 0.5 * (lo + hi)
        x = nx if lo < nx < hi else 0.5 * (lo + hi)
    return float(x)


def _sample_times(plan: _Plan, T: float) -> np.ndarray:
    pts = {0.0, T}
    for tr in plan.trajs:
        for b in tr.breakpoints:
            if 0 <= b <= T:
                pts.update({b, max(b - 1e-9 * T, 0.0)})
    return np.array(sorted(pts))


def _check_bounds(plan: _Plan, T: float, start_date: str | None) -> None:
    """Every trajectory stays inside its input's allowed range over the horizon (growth can leave it)."""
    from ..resolve.profiles import _check_bounds as check

    ts = _sample_times(plan, T)
    for tr in plan.trajs:
        v0 = plan.v0[tr.key]
        if v0 is None and tr.form in ("growth", "ramp"):
            continue
        fspec, _, _ = field_spec(tr.key, tr.source)
        vals = tr.value(ts, v0)
        for x, tt in zip(vals, ts):
            when = _date_of(start_date, tt) or f"t = {tt / DAY:.6g} day"
            try:
                check(fspec, float(x), tr.source, f"trajectory.{tr.key} (its value at {when})", float(x))
            except ProfileError as exc:
                raise ProfileError(str(exc) + f"; the {tr.form} takes it out of range within the horizon") from None


def _check_effect(plan: _Plan, T: float, notes: list[str]) -> None:
    """Note trajectories that change nothing the projection reports (their input is masked)."""
    ts = _sample_times(plan, T)
    keys = ("compute_ceiling", "power_ceiling", "token_rate", "e_tok", "pue", "electricity_price", "carbon_intensity")
    for tr in plan.trajs:
        v0 = plan.v0[tr.key]
        if v0 is None or any(f"on {tr.key} has no effect" in n for n in notes):
            continue
        vals = tr.value(ts, v0)
        i = int(np.argmax(np.abs(vals - v0)))
        if vals[i] == v0:
            continue
        only = replace(plan, trajs=[tr])
        frozen = replace(plan, trajs=[])
        a, b = _evaluate(only, ts[i:i + 1]), _evaluate(frozen, ts[i:i + 1])
        if all((a[k] is None and b[k] is None) or (a[k] is not None and b[k] is not None and a[k][0] == b[k][0])
               for k in keys):
            notes.append(f"Trajectory on {tr.key} changes nothing reported here: {tr.field} does not enter "
                         "the ceilings in this scenario (another input answers the same question).")
