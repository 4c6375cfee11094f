"""Profiles: TOML files -> validated, unit-checked values with their sources.

A validated :class:`Profile` holds flat dotted keys (``"measured.e_tok"``) mapped to
plain SI floats (or ints, strings, booleans), the ranges given for uncertain
inputs, and the citation of every key. All parsing and validation is here; the
engine never sees raw text.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import hashlib
import math
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from . import schema as S
from ..errors import ProfileError, where

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ENV_PROFILES = "TOKENCALC_PROFILES"
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


@dataclass(frozen=True)
class Profile:
    """A validated profile.

    Attributes:
        id: the file stem (the id scripts use).
        kind: one of `schema.KINDS`.
        name: human-readable name.
        path: where it was read from (`<bundled>/...` for bundled files).
        values: dotted key -> SI float / int / str / bool / list of str.
        ranges: dotted key -> Range, for inputs given as ranges.
        sources: key or key prefix -> Source, as written in `[sources]`.
        sha256: hash of the file's bytes (reproducibility footer).
        raw: the parsed TOML (for `[override]` and `[trajectory]`).
    """

    id: str
    kind: str
    name: str
    path: str
    values: dict[str, Any]
    ranges: dict[str, Range] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    sha256: str = ""
    raw: dict = field(default_factory=dict)
    file: str = ""

    def get(self, key: str, default: Any = None) -> Any:
        """Value at a dotted key, or `default`."""
        return self.values.get(key, default)

    def source_for(self, key: str) -> Source | None:
        """The citation covering `key`: the longest matching prefix, else `default`."""
        parts = key.split(".")
        for n in range(len(parts), 0, -1):
            src = self.sources.get(".".join(parts[:n]))
            if src is not None:
                return src
        return self.sources.get("default")

    def table(self, prefix: str) -> dict[str, Any]:
        """The entries under a table prefix, keyed by the rest of the path."""
        cut = len(prefix) + 1
        return {k[cut:]: v for k, v in self.values.items() if k.startswith(prefix + ".")}


# ---------------------------------------------------------------------------
# Locating profiles

def bundled_dir() -> Path:
    """The bundled profiles folder (inside the wheel, or at the repo root in a checkout)."""
    return _data_dir("profiles")


def _data_dir(name: str) -> Path:
    here = Path(__file__).resolve().parent.parent  # the tokencalc package
    inside = here / name  # wheel: force-included under the package
    if inside.is_dir():
        return inside
    return here.parent / name  # source checkout / editable install


def search_dirs(extra: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """Profile folders in lookup order: `--profiles`, then TOKENCALC_PROFILES, then bundled."""
    dirs = [Path(d) for d in extra]
    env = os.environ.get(ENV_PROFILES, "")
    dirs += [Path(d) for d in env.split(os.pathsep) if d.strip()]
    for d in dirs:
        if not d.is_dir():
            raise ProfileError(f"profiles folder '{d}' does not exist or is not a folder")
    return dirs + [bundled_dir()]


def looks_like_path(ref: str) -> bool:
    """A reference is a path when it has a folder separator or ends in .toml."""
    return ref.endswith(".toml") or "/" in ref or os.sep in ref


def resolve_ref(ref: str, kind: str, dirs: list[Path], *, base: Path | None = None,
                file: str | None = None, key: str | None = None) -> Path:
    """Find the file a reference names.

    Args:
        ref: an id (`h100-sxm`) or a path (`./my-gpu.toml`).
        kind: the profile kind expected.
        dirs: folders to search for ids, in order.
        base: folder of the referencing file (paths are relative to it first).
        file: referencing file, for error messages.
        key: referencing key, for error messages.
    """
    if not isinstance(ref, str) or not ref.strip():
        raise ProfileError(f"{where(file, key)}expected a {kind} id or path, got {ref!r}")
    if looks_like_path(ref):
        candidates = [Path(ref).expanduser()]
        if base is not None and not Path(ref).is_absolute():
            candidates.insert(0, base / ref)
        for c in candidates:
            if c.is_file():
                return c
        raise ProfileError(f"{where(file, key)}{kind} file '{ref}' not found")
    folder = S.FOLDERS[kind]
    for d in dirs:
        for c in (d / folder / f"{ref}.toml", d / f"{ref}.toml"):
            if c.is_file():
                return c
    known = sorted(e.id for e in list_profiles(kind, dirs))
    hint = difflib.get_close_matches(ref, known, n=3, cutoff=0.5)
    msg = f"{where(file, key)}no {kind} profile '{ref}'"
    msg += f"; did you mean {', '.join(repr(h) for h in hint)}?" if hint else f"; known: {', '.join(known) or 'none'}"
    raise ProfileError(msg + " (see `tokencalc profiles list`)")


@dataclass(frozen=True)
class Entry:
    """One row of `profiles list`."""

    id: str
    kind: str
    name: str
    path: str


def list_profiles(kind: str | None, dirs: list[Path]) -> list[Entry]:
    """Every profile visible in `dirs` (earlier folders shadow later ones), sorted by kind and id."""
    seen: dict[tuple[str, str], Entry] = {}
    kinds = [kind] if kind else list(S.KINDS)
    for d in dirs:
        for k in kinds:
            folder = d / S.FOLDERS[k]
            if not folder.is_dir():
                continue
            for p in sorted(folder.glob("*.toml")):
                key = (k, p.stem)
                if key in seen:
                    continue
                try:
                    data = _read_toml(p)
                    name = str(data.get("name", p.stem))
                except ProfileError:
                    name = "(unreadable)"
                seen[key] = Entry(p.stem, k, name, display_path(p))
    return sorted(seen.values(), key=lambda e: (S.KINDS.index(e.kind), e.id))


def display_path(p: Path) -> str:
    """Show bundled files as `<bundled>/...`, others as given."""
    try:
        return "<bundled>/" + p.resolve().relative_to(bundled_dir().resolve()).as_posix()
    except ValueError:
        return str(p)


# ---------------------------------------------------------------------------
# Reading and validating

def _read_bytes(path: str) -> bytes:
    # Read once per version of the file (TOML parse and SHA-256 share it); a
    # rewritten file has a new mtime/size and is read again.
    st = os.stat(path)
    return _read_cached(path, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=256)
def _read_cached(path: str, mtime_ns: int, size: int) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def _read_toml(path: Path) -> dict:
    try:
        blob = _read_bytes(str(path))
    except OSError as exc:
        raise ProfileError(f"cannot read '{path}': {exc.strerror or exc}") from None
    try:
        return tomllib.loads(blob.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProfileError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: invalid TOML: {exc}") from None


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(_read_bytes(str(path))).hexdigest()


def load(ref: str, kind: str, dirs: list[Path] | None = None, *, base: Path | None = None,
         overrides: Iterable[tuple[str, Any, str]] = (), file: str | None = None,
         key: str | None = None) -> Profile:
    """Load and validate a profile by id or path.

    Args:
        ref: id or path.
        kind: expected kind.
        dirs: search folders (default: `search_dirs()`).
        base: folder of the referencing file.
        overrides: (dotted key, raw value, origin) applied after validation, each
            checked against the schema.
        file: referencing file, for error messages.
        key: referencing key, for error messages.

    Raises:
        ProfileError: unreadable or invalid file, wrong kind, bad override.
        UnitError: a value with the wrong dimension.
    """
    dirs = search_dirs() if dirs is None else dirs
    path = resolve_ref(ref, kind, dirs, base=base, file=file, key=key)
    return load_path(path, kind, overrides=overrides)


def load_path(path: Path, kind: str | None = None, *, overrides: Iterable[tuple[str, Any, str]] = ()) -> Profile:
    """Load and validate one profile file (`kind` None accepts any kind)."""
    data = _read_toml(path)
    shown = display_path(path)
    found = data.get("kind")
    if found not in S.KINDS:
        raise ProfileError(f"kind in {shown}: expected one of {', '.join(S.KINDS)}, got {found!r}")
    if kind is not None and found != kind:
        raise ProfileError(f"kind in {shown}: expected a {kind} profile, got a {found} profile")
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        raise ProfileError(f"name in {shown}: expected a non-empty string, got {data.get('name')!r}")
    values, ranges = validate(data, found, shown)
    sources = _sources(data.get("sources", {}), found, shown)
    prof = Profile(id=path.stem, kind=found, name=data["name"], path=shown, values=values, ranges=ranges,
                   sources=sources, sha256=file_sha256(path), raw=data, file=str(path))
    return apply_overrides(prof, overrides)


def apply_overrides(prof: Profile, overrides: Iterable[tuple[str, Any, str]]) -> Profile:
    """Return a copy of `prof` with dotted-key overrides validated and applied."""
    overrides = list(overrides)
    if not overrides:
        return prof
    values, ranges, sources = dict(prof.values), dict(prof.ranges), dict(prof.sources)
    for dotted, raw, origin in overrides:
        spec = S.leaf(prof.kind, dotted)
        if spec is None or dotted.split(".")[0] in ("kind", "sources"):
            raise ProfileError(f"{dotted} ({origin}): {prof.kind} profiles have no such key" + _suggest(dotted, _leaf_keys(S.KIND_SPECS[prof.kind])))
        value, rng = _leaf_value(spec, _coerce_text(spec, raw), origin, dotted)
        values[dotted] = value
        ranges.pop(dotted, None)
        if rng is not None:
            ranges[dotted] = rng
        sources[dotted] = Source(text=f"override: {origin}")
    return Profile(prof.id, prof.kind, prof.name, prof.path, values, ranges, sources, prof.sha256, prof.raw, prof.file)


def _coerce_text(spec: S.Field, raw: Any) -> Any:
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


def _leaf_keys(fields: dict[str, S.Spec], prefix: str = "") -> list[str]:
    out = []
    for k, spec in fields.items():
        path = f"{prefix}{k}"
        if isinstance(spec, S.Table):
            out += _leaf_keys(spec.fields, path + ".")
        elif isinstance(spec, S.MapOf):
            out.append(path + ".<" + spec.key_help + ">")
        else:
            out.append(path)
    return out


def _suggest(key: str, known: Iterable[str]) -> str:
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
            raise ProfileError(f"{path} in {file}: unknown key" + _suggest(path, [prefix + x for x in _leaf_keys(fields)]))
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
    value, rng = _leaf_value(spec, v, file, path)
    values[path] = value
    if rng is not None:
        ranges[path] = rng


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


def _leaf_value(spec: S.Field, v: Any, file: str, path: str) -> tuple[Any, Range | None]:
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
    _check_bounds(spec, x, file, path, v)
    return x


def _check_bounds(spec: S.Field, x: float, file: str, path: str, shown: Any) -> None:
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
        _check_bounds(spec, low, file, path + " (low end of the range)", low)
        _check_bounds(spec, high, file, path + " (high end of the range)", high)
        return Range(low, mode, high)
    raise ProfileError(f"{path} in {file}: expected a value or a range {{ low, mode, high }} / {{ value, rel }}, "
                       f"got a table with keys {', '.join(sorted(keys)) or '(none)'}")


def _sources(raw: Any, kind: str, file: str) -> dict[str, Source]:
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
