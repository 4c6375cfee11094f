"""Trajectories: how an input changes over the horizon (docs/model.md §8).

A scenario's `[trajectory]` table says how inputs change from their resolved
starting values: compound `growth` (the compounding period is the unit under the
slash, read by the unit registry: "30 percent/(6 month)"), a linear `ramp`, dated
`steps`, or a `csv` time series. Parsing and validation only; evaluation is in
`plan`.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import InputError, ProfileError, TokencalcError
from ...resolve import schema as S
from ...resolve.fields import numeric_profile_fields
from ...resolve.profiles import leaf_value, suggest
from ...fileio import read_text
from ...units import factor, parse

CSV_BYTES = 16 * 1024 * 1024   # a year of hourly values is ~0.5 MB
_HEADER = re.compile(r"[A-Za-z0-9_ .%/()\[\]-]{1,40}")

DAY = factor("day", "time")
FORMS = ("growth", "ramp", "steps", "csv")
EXTRA = {"growth": {"start", "until"}, "ramp": {"over", "start"}, "steps": set(),
         "csv": {"column", "time", "unit", "time_unit"}}
# Core keys that may vary over time (numbers, not choices or the horizon itself).
VARIABLE_CORE = tuple(k for k, f in S.CORE.items() if f.type in ("quantity", "int")
                      and k not in ("horizon", "binding_tolerance", "input_output_ratio"))
# Which Inputs field a dotted profile key feeds (resolve.fields.PROFILE_FIELDS).
DOTTED = {f"{kind}.{key}": fld for kind in ("facility", "workload", "hardware")
          for key, fld in numeric_profile_fields(kind).items()
          if fld not in ("tpot_slo", "tpot_measured", "prefill_share", "input_output_ratio")}  # gate or resolution only


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
        if self.form in ("steps", "series"):   # "series": an hourly series' steps (analysis/horizon/hourly.py)
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
    known = [*VARIABLE_CORE, *DOTTED, "hardware.peak_flops.<precision>", "levers.<id>.c_tok_factor",
             "levers.<id>.e_tok_factor"]
    raise ProfileError(f"{_where(file, key)}: not an input that can vary over time (a core key such as "
                       f"p_it, devices, pue, or a dotted profile key such as facility.power)" + suggest(key, known))


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
    x = parse(raw, "time", file=file, key=key)
    if x < 0:
        raise ProfileError(f"{key} in {file}: expected a time >= 0 after the start, got {raw!r}")
    return x


def _value(spec: S.Field, raw: Any, file: str, key: str) -> float:
    if isinstance(raw, dict):
        raise ProfileError(f"{key} in {file}: a trajectory value must be a single value, not a range or table")
    value, _ = leaf_value(spec, raw, file, key)
    return float(value)


def growth_rate(raw: Any, file: str, key: str) -> tuple[float, float]:
    """(growth per compounding period, the period in s) of "30 percent/year" or "30 percent/(6 month)".

    The period is the quantity under the slash, read by the unit registry (a bare unit
    means one of it); the growth above it is a fraction ("30 percent", "0.3").

    Raises:
        ProfileError / UnitError: no slash, a period that is not a time, or a growth of -100 % or less.
    """
    where = f"{key} in {file}"
    example = 'e.g. "30 percent/year" or "30 percent/(6 month)"'
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        raise ProfileError(f"{where}: expected a growth per period, {example}; got the bare number {raw!r} (no unit)")
    if not isinstance(raw, str) or "/" not in raw:
        raise ProfileError(f"{where}: expected a growth per period, {example}; got {raw!r}")
    top, _, bottom = raw.strip().partition("/")
    bottom = bottom.strip()
    if bottom.startswith("(") and bottom.endswith(")"):
        bottom = bottom[1:-1].strip()
    if not bottom:
        raise ProfileError(f"{where}: expected a period after the slash, {example}; got {raw!r}")
    if not re.match(r"^[+-]?(\d|\.\d)", bottom):
        bottom = "1 " + bottom
    try:
        per = parse(top.strip(), "dimensionless", file=file, key=key) if top.strip() else None
        period = parse(bottom, "time", file=file, key=key)
    except TokencalcError as exc:
        raise ProfileError(f"{where}: could not read {raw!r} as a growth per period ({example}): {exc}") from None
    if per is None or not period > 0:
        raise ProfileError(f"{where}: expected a growth per period, {example}; got {raw!r}")
    if not per > -1.0:
        raise ProfileError(f"{where}: growth must be above -100 % per period, got {raw!r}")
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
        per, period = growth_rate(spec["growth"], file, f"{where}.growth")
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
    if "column" not in spec:
        raise ProfileError(f"{where} in {file}: a csv trajectory needs `column` (the header of the value column)")
    path = csv_path(spec["csv"], file, where, base_dir)
    try:
        text = read_text(path, what="trajectory CSV", limit=CSV_BYTES)
    except TokencalcError as exc:
        raise ProfileError(f"{where}.csv in {file}: {exc}") from None
    rows = [r for r in csv.reader(io.StringIO(text, newline=""))
            if r and any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
    rows = [r for r in rows if r and any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
    if len(rows) < 2:
        raise ProfileError(f"{where}.csv in {file}: '{path}' needs a header row and at least one data row")
    header = [h.strip() for h in rows[0]]
    col, tcol = str(spec["column"]), str(spec.get("time", header[0]))
    for name in (col, tcol):
        if name not in header:
            shown = (f"columns: {', '.join(header)}" if all(_HEADER.fullmatch(h) for h in header)
                     else "its first row is not a header of column names")
            raise ProfileError(f"{where} in {file}: '{path}' has no column '{name}'; {shown}")
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


def csv_path(ref: Any, file: str, where: str, base_dir: Path | None) -> Path:
    """The file a `csv =` names: relative to `base_dir`; inside it when the trajectory comes from a
    profile file (`base_dir` set), so a scenario can read its own data but nothing else."""
    rel = Path(str(ref)).expanduser()
    if base_dir is None:
        return rel
    path = rel if rel.is_absolute() else base_dir / rel
    if file != "--trajectory":
        try:
            path.resolve().relative_to(base_dir.resolve())
        except ValueError:
            raise ProfileError(f"{where}.csv in {file}: '{ref}' is outside the scenario's folder {base_dir}; a "
                               "scenario reads only series beside it (give other files with --trajectory)") from None
    return path


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




def parse_flag(text: str) -> tuple[str, Any]:
    """`KEY=SPEC` from `--trajectory`, SPEC an inline TOML table: `p_it={ growth = "30 percent/year" }`."""
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    if "=" not in text:
        raise InputError(f"--trajectory {text!r}: expected KEY=SPEC, e.g. "
                         "--trajectory 'p_it={ growth = \"30 percent/year\" }'")
    key, spec = text.split("=", 1)
    try:
        value = tomllib.loads(f"x = {spec.strip()}")["x"]
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"--trajectory {key.strip()}: SPEC must be an inline TOML table such as "
                         f"{{ ramp = 0.9, over = \"180 day\" }} ({exc})") from None
    except RecursionError:
        raise InputError(f"--trajectory {key.strip()}: SPEC is nested too deeply; expected an inline TOML table "
                         "such as { ramp = 0.9, over = \"180 day\" }") from None
    return key.strip(), value
