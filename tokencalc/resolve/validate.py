"""Validation of profile values: the schema walk, leaf values with units, ranges and citations.

Every profile value crosses here: a quantity is parsed by the unit registry and
checked for dimension and bounds, a range `{ low, mode, high }` / `{ value, rel }`
is checked for order, an unknown key is an error with a "did you mean".
"""

from __future__ import annotations

import datetime as _dt
import difflib
import math
from dataclasses import dataclass
from typing import Any, Iterable

from ..errors import ProfileError
from . import schema as S

MAX_COUNT = 10**15   # whole numbers (devices, batch, context): beyond any real deployment
SOURCE_FIELDS = ("title", "author", "year", "url", "publisher", "note", "accessed", "date")


@dataclass(frozen=True)
class Source:
    """A citation for one or more profile keys."""

    text: str
    title: str | None = None
    author: str | None = None
    year: str | None = None
    url: str | None = None
    publisher: str | None = None
    note: str | None = None
    accessed: str | None = None

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Range:
    """An uncertain input: triangular (low, mode, high) in SI units."""

    low: float
    mode: float
    high: float


def coerce_text(spec: S.Field, raw: Any) -> Any:
    """`--set` gives text: turn it into what a TOML file would hold for this field."""
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    if spec.type == "int":
        try:
            return int(text)
        except ValueError:
            return text
    if spec.type == "bool":
        return {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}.get(text.lower(), text)
    if spec.type == "refs":
        return [t.strip() for t in text.split(",") if t.strip()]
    return text


def leaf_keys(fields: dict[str, S.Spec], prefix: str = "") -> list[str]:
    out = []
    for k, spec in fields.items():
        path = f"{prefix}{k}"
        if isinstance(spec, S.Table):
            out += leaf_keys(spec.fields, path + ".")
        elif isinstance(spec, S.MapOf):
            out.append(path + ".<" + spec.key_help + ">")
        elif isinstance(spec, S.ArrayOf):
            out += leaf_keys(spec.item.fields, path + "[].")
        else:
            out.append(path)
    return out


def suggest(key: str, known: Iterable[str]) -> str:
    known = list(known)
    last = key.split(".")[-1]
    hint = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if not hint:
        hint = [k for k in known if k.split(".")[-1] in difflib.get_close_matches(last, [x.split(".")[-1] for x in known], n=1, cutoff=0.6)][:1]
    return f"; did you mean '{hint[0]}'?" if hint else ""


def validate(data: dict, kind: str, file: str) -> tuple[dict[str, Any], dict[str, Range]]:
    """Check a parsed TOML document against the schema of `kind`.

    Returns:
        (values, ranges): flat dotted keys -> SI values, and the ranges given.
    """
    values: dict[str, Any] = {}
    ranges: dict[str, Range] = {}
    _walk(S.KIND_SPECS[kind], data, "", file, values, ranges)
    return values, ranges


def _walk(fields: dict[str, S.Spec], data: dict, prefix: str, file: str,
          values: dict[str, Any], ranges: dict[str, Range]) -> None:
    for k, v in data.items():
        path = prefix + k
        spec = fields.get(k)
        if spec is None:
            raise ProfileError(f"{path} in {file}: unknown key" + suggest(path, [prefix + x for x in leaf_keys(fields)]))
        _one(spec, v, path, file, values, ranges)


def _one(spec: S.Spec, v: Any, path: str, file: str, values: dict, ranges: dict) -> None:
    if isinstance(spec, S.Free):
        if not isinstance(v, dict):
            raise ProfileError(f"{path} in {file}: expected a table, got {_show(v)}")
        return
    if isinstance(spec, S.Table):
        if not isinstance(v, dict):
            raise ProfileError(f"{path} in {file}: expected a table [{path}], got {_show(v)}")
        _walk(spec.fields, v, path + ".", file, values, ranges)
        return
    if isinstance(spec, S.MapOf):
        if not isinstance(v, dict):
            raise ProfileError(f"{path} in {file}: expected a table of {spec.key_help} = value, got {_show(v)}")
        for name, item in v.items():
            _one(spec.item, item, f"{path}.{name}", file, values, ranges)
        return
    if isinstance(spec, S.ArrayOf):
        _rows(spec, v, path, file, values)
        return
    value, rng = leaf_value(spec, v, file, path)
    values[path] = value
    if rng is not None:
        ranges[path] = rng


def _rows(spec: S.ArrayOf, v: Any, path: str, file: str, values: dict) -> None:
    """An array of tables: each row walked like a table, then `check_rows`; stored as `<path>.<i>.<key>`."""
    if not isinstance(v, list) or not all(isinstance(r, dict) for r in v):
        raise ProfileError(f"{path} in {file}: expected an array of tables [[{path}]], got {_show(v)}")
    rows = []
    for i, row in enumerate(v):
        got: dict[str, Any] = {}
        ranges: dict[str, Range] = {}
        _walk(spec.item.fields, row, f"{path}[{i}].", file, got, ranges)
        if ranges:  # a measured point is one reading, not an uncertain input
            raise ProfileError(f"{next(iter(ranges))} in {file}: expected a value (a measured point), got a range")
        rows.append({k[len(f"{path}[{i}]."):]: x for k, x in got.items()})
    check_rows(spec, rows, path, file)
    for i, row in enumerate(rows):
        values.update({f"{path}.{i}.{k}": x for k, x in row.items()})


def check_rows(spec: S.ArrayOf, rows: list[dict[str, Any]], path: str, file: str) -> None:
    """Every row has the required keys; rows of one group differ in the distinct key.

    Raises:
        ProfileError: naming the file, the row index and the key.
    """
    seen: dict[tuple, int] = {}
    for i, row in enumerate(rows):
        missing = [k for k in spec.required if k not in row]
        if missing:
            raise ProfileError(f"{path}[{i}].{missing[0]} in {file}: missing (every row needs "
                               f"{', '.join(spec.required)})")
        if spec.distinct is None:
            continue
        key = (*(row.get(g) for g in spec.group), row[spec.distinct])
        if key in seen:
            group = ", ".join(f"{g} {row.get(g)!r}" for g in spec.group)
            raise ProfileError(f"{path}[{i}].{spec.distinct} in {file}: {row[spec.distinct]:g} repeats row "
                               f"{seen[key]} of the same {group}")
        seen[key] = i


def _show(v: Any) -> str:
    if isinstance(v, dict):
        return "a table"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, bool):
        return f"the boolean {str(v).lower()}"
    if isinstance(v, str):
        return f"the string {v!r}"
    return f"{type(v).__name__} {v!r}"


def leaf_value(spec: S.Field, v: Any, file: str, path: str) -> tuple[Any, Range | None]:
    """Validate one leaf; returns (value, range or None)."""
    t = spec.type
    if t == "quantity":
        if isinstance(v, dict):
            rng = _range(spec, v, file, path)
            return rng.mode, rng
        x = _quantity(spec, v, file, path)
        return x, None
    if t == "int":
        if isinstance(v, bool) or not isinstance(v, int):
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            else:
                raise ProfileError(f"{path} in {file}: expected a whole number, got {_show(v)}")
        if spec.min is not None and v < spec.min:
            raise ProfileError(f"{path} in {file}: expected a whole number >= {int(spec.min)}, got {v}")
        if v > MAX_COUNT:
            raise ProfileError(f"{path} in {file}: expected a whole number <= {MAX_COUNT:.0e} (beyond any real "
                               f"deployment), got {v:.3g}")
        return v, None
    if t == "bool":
        if not isinstance(v, bool):
            raise ProfileError(f"{path} in {file}: expected true or false, got {_show(v)}")
        return v, None
    if t == "refs":
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
            raise ProfileError(f"{path} in {file}: expected a list of {spec.ref_kind} ids or paths, got {_show(v)}")
        return list(v), None
    if t == "date":
        if isinstance(v, _dt.datetime):
            v = v.date()
        if isinstance(v, _dt.date):
            return v.isoformat(), None
        try:
            return _dt.date.fromisoformat(str(v)).isoformat(), None
        except ValueError:
            raise ProfileError(f"{path} in {file}: expected an ISO date (YYYY-MM-DD), got {_show(v)}") from None
    # str and ref
    if not isinstance(v, str) or (t == "ref" and not v.strip()):
        raise ProfileError(f"{path} in {file}: expected {'a ' + spec.ref_kind + ' id or path' if t == 'ref' else 'a string'}, got {_show(v)}")
    if spec.choices and v not in spec.choices:
        hint = difflib.get_close_matches(v, spec.choices, n=1)
        raise ProfileError(f"{path} in {file}: expected one of {', '.join(spec.choices)}, got {v!r}"
                           + (f"; did you mean '{hint[0]}'?" if hint else ""))
    return v, None


def _quantity(spec: S.Field, v: Any, file: str, path: str) -> float:
    from ..units import parse  # pint only when a quantity is actually read

    x = parse(v, spec.dim, file=file, key=path)
    check_bounds(spec, x, file, path, v)
    return x


def check_bounds(spec: S.Field, x: float, file: str, path: str, shown: Any) -> None:
    lo_ok = spec.min is None or (x > spec.min if spec.min_open else x >= spec.min)
    hi_ok = spec.max is None or (x < spec.max if spec.max_open else x <= spec.max)
    if lo_ok and hi_ok:
        return
    from ..units import DIMENSIONS

    unit = DIMENSIONS[spec.dim][1]
    unit = "" if unit == "1" else f" {unit}"
    parts = []
    if spec.min is not None:
        parts.append(f"{'>' if spec.min_open else '>='} {spec.min:g}{unit}")
    if spec.max is not None:
        parts.append(f"{'<' if spec.max_open else '<='} {spec.max:g}{unit}")
    raise ProfileError(f"{path} in {file}: expected a value {' and '.join(parts)}, got {shown!r}"
                       + (f" (= {x:g}{unit})" if isinstance(shown, str) and any(c.isalpha() or c == "%" for c in shown) else ""))


def _range(spec: S.Field, v: dict, file: str, path: str) -> Range:
    keys = set(v)
    if keys <= {"low", "mode", "high"} and {"low", "high"} <= keys:
        low = _quantity(spec, v["low"], file, path + ".low")
        high = _quantity(spec, v["high"], file, path + ".high")
        mode = _quantity(spec, v["mode"], file, path + ".mode") if "mode" in v else (low + high) / 2
        if not low <= mode <= high:
            raise ProfileError(f"{path} in {file}: a range needs low <= mode <= high, got low={v['low']!r}, "
                               f"mode={v.get('mode', mode)!r}, high={v['high']!r}")
        return Range(low, mode, high)
    if keys == {"value", "rel"}:
        mode = _quantity(spec, v["value"], file, path + ".value")
        rel = v["rel"]
        if isinstance(rel, bool) or not isinstance(rel, (int, float)) or not math.isfinite(rel) or not 0 <= rel < 1:
            raise ProfileError(f"{path}.rel in {file}: expected a relative half-width 0 <= rel < 1, got {_show(rel)}")
        low, high = mode * (1 - rel), mode * (1 + rel)
        if low > high:
            low, high = high, low
        check_bounds(spec, low, file, path + " (low end of the range)", low)
        check_bounds(spec, high, file, path + " (high end of the range)", high)
        return Range(low, mode, high)
    raise ProfileError(f"{path} in {file}: expected a value or a range {{ low, mode, high }} / {{ value, rel }}, "
                       f"got a table with keys {', '.join(sorted(keys)) or '(none)'}")


def sources(raw: Any, kind: str, file: str) -> dict[str, Source]:
    """The `[sources]` table as citations by key."""
    out: dict[str, Source] = {}
    for k, v in raw.items():
        if isinstance(v, str):
            if not v.strip():
                raise ProfileError(f"sources.{k} in {file}: expected a citation, got an empty string")
            out[k] = Source(text=v.strip())
        elif isinstance(v, dict):
            bad = set(v) - set(SOURCE_FIELDS)
            if bad:
                raise ProfileError(f"sources.{k} in {file}: unknown citation field(s) {', '.join(sorted(bad))}; "
                                   f"expected {', '.join(SOURCE_FIELDS)}")
            if not v.get("title"):
                raise ProfileError(f"sources.{k} in {file}: a citation table needs a title")
            fields = {f: str(v[f]) for f in SOURCE_FIELDS if f in v and f != "date"}
            if "date" in v and "year" not in fields:
                fields["year"] = str(v["date"])
            text = ", ".join(x for x in (fields.get("author"), fields.get("title"), fields.get("publisher"),
                                         fields.get("year")) if x)
            if fields.get("note"):
                text += f" ({fields['note']})"
            out[k] = Source(text=text, **fields)
        else:
            raise ProfileError(f"sources.{k} in {file}: expected a citation string or table, got {_show(v)}")
    return out
