"""Profiles: TOML files -> validated, unit-checked values with their sources.

A validated :class:`Profile` holds flat dotted keys (``"measured.e_tok"``) mapped to
plain SI floats (or ints, strings, booleans), the ranges given for uncertain
inputs, and the citation of every key. All parsing and validation is here; the
engine never sees raw text.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from ..errors import ProfileError, TokencalcError, where
from ..fileio import read_bytes
from . import schema as S
from .validate import (Range, Source, check_bounds, coerce_text, leaf_keys, leaf_value, suggest, validate)
from .validate import sources as parse_sources

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ENV_PROFILES = "TOKENCALC_PROFILES"


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


def _shown_kind(found: Any) -> str:
    """A wrong `kind` as the message may show it: a short word, never a foreign file's content."""
    if isinstance(found, str) and len(found) <= 20 and found.replace("-", "").replace("_", "").isalnum():
        return repr(found)
    return "something else" if found is not None else "nothing"


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system, ...
        return False


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
            if _is_file(c):
                return c
        raise ProfileError(f"{where(file, key)}{kind} file '{ref}' not found")
    folder = S.FOLDERS[kind]
    for d in dirs:
        for c in (d / folder / f"{ref}.toml", d / f"{ref}.toml"):
            if _is_file(c):
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

PROFILE_BYTES = 4 * 1024 * 1024   # the largest bundled profile is a few kB


def _read_bytes(path: str) -> bytes:
    # Read once per version of the file (TOML parse and SHA-256 share it); a
    # rewritten file has a new mtime/size and is read again.
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ProfileError(f"cannot read '{path}': {exc.strerror or exc}") from None
    return _read_cached(path, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=256)
def _read_cached(path: str, mtime_ns: int, size: int) -> bytes:
    try:
        return read_bytes(path, what="profile", limit=PROFILE_BYTES)
    except TokencalcError as exc:
        raise ProfileError(str(exc)) from None


def _read_toml(path: Path) -> dict:
    blob = _read_bytes(str(path))
    try:
        return clean_strings(tomllib.loads(blob.decode("utf-8")))
    except RecursionError:  # a deeply nested array or table
        raise ProfileError(f"{path}: invalid TOML: nested too deeply") from None
    except UnicodeDecodeError:
        raise ProfileError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: invalid TOML: {exc}") from None


_CONTROL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), 127, *range(128, 160)], "\ufffd")


def clean_strings(value: Any) -> Any:
    """Every string of parsed TOML with control characters (ESC, ...) replaced by U+FFFD.

    Profile text reaches terminals, HTML and PDF metadata; a control character there
    is never content, and an escape sequence can rewrite a terminal.
    """
    if isinstance(value, str):
        return value.translate(_CONTROL)
    if isinstance(value, dict):
        return {clean_strings(k): clean_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_strings(v) for v in value]
    return value


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
        raise ProfileError(f"kind in {shown}: expected one of {', '.join(S.KINDS)}, got {_shown_kind(found)}")
    if kind is not None and found != kind:
        raise ProfileError(f"kind in {shown}: expected a {kind} profile, got a {found} profile")
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        raise ProfileError(f"name in {shown}: expected a non-empty string, got {data.get('name')!r}")
    values, ranges = validate(data, found, shown)
    sources = parse_sources(data.get("sources", {}), found, shown)
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
            raise ProfileError(f"{dotted} ({origin}): {prof.kind} profiles have no such key" + suggest(dotted, leaf_keys(S.KIND_SPECS[prof.kind])))
        value, rng = leaf_value(spec, coerce_text(spec, raw), origin, dotted)
        values[dotted] = value
        ranges.pop(dotted, None)
        if rng is not None:
            ranges[dotted] = rng
        sources[dotted] = Source(text=f"override: {origin}")
    return Profile(prof.id, prof.kind, prof.name, prof.path, values, ranges, sources, prof.sha256, prof.raw, prof.file)



def find(ref: str, kind: str | None, dirs: list[Path]) -> Profile:
    """A profile by path, or by id in whichever kind has it (`kind` when several do).

    Raises:
        ProfileError: no such profile (with suggestions), or an id shared by several kinds.
    """
    if looks_like_path(ref):
        if not Path(ref).is_file():
            raise ProfileError(f"profile file '{ref}' not found")
        return load_path(Path(ref), kind)
    kinds = [kind] if kind else [e.kind for e in list_profiles(None, dirs) if e.id == ref]
    if not kinds:
        known = sorted({e.id for e in list_profiles(None, dirs)})
        hint = difflib.get_close_matches(ref, known, n=3, cutoff=0.5)
        raise ProfileError(f"no profile '{ref}'" + (f"; did you mean {', '.join(map(repr, hint))}?" if hint else
                                                    " (see `tokencalc profiles list`)"))
    if len(kinds) > 1:
        raise ProfileError(f"'{ref}' is a {' and a '.join(kinds)} profile; choose one with --kind")
    return load(ref, kinds[0], dirs)


def check_files(paths: Iterable[Path]) -> list[tuple[Path, Profile | None, str | None]]:
    """Validate profile files (folders are searched for *.toml); a scenario's references must resolve too.

    Returns:
        (file, profile or None, error message or None) per file, in order.

    Raises:
        ProfileError: a path that does not exist, or no .toml file at all.
    """
    from ..errors import TokencalcError

    paths = list(paths)
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(p.rglob("*.toml"))
        elif p.is_file():
            files.append(p)
        else:
            raise ProfileError(f"'{p}' does not exist or is not a regular file or folder")
    if not files:
        raise ProfileError("no .toml files found in " + ", ".join(map(str, paths)))
    dirs = search_dirs()
    out: list[tuple[Path, Profile | None, str | None]] = []
    for f in files:
        try:
            prof = load_path(f)
            if prof.kind == "scenario":
                refs = [(prof.get(k), k) for k in ("hardware", "facility", "workload") if prof.get(k)]
                refs += [(ref, "lever") for ref in prof.get("levers", [])]
                for ref, k in refs:
                    resolve_ref(ref, k, [f.parent.parent, *dirs], base=f.parent, file=str(f),
                                key="levers" if k == "lever" else k)
            out.append((f, prof, None))
        except TokencalcError as exc:
            out.append((f, None, str(exc)))
    return out


def value_rows(prof: Profile) -> list[tuple[str, Any, str, str | None, Range | None]]:
    """(key, SI value, SI unit, citation, range) of every value of a profile but its name and prose."""
    from .fields import si_unit

    rows = []
    for key, value in prof.values.items():
        if key in ("kind", "name", "description", "notes"):
            continue
        spec = S.leaf(prof.kind, key)
        src = prof.source_for(key)
        unit = si_unit(spec) if spec is not None and spec.type == "quantity" else ""
        rows.append((key, value, unit, src.text if src else None, prof.ranges.get(key)))
    return rows


__all__ = ["ENV_PROFILES", "Entry", "Profile", "Range", "Source", "apply_overrides", "bundled_dir", "check_bounds", "check_files",
           "coerce_text", "display_path", "file_sha256", "find", "leaf_keys", "leaf_value", "list_profiles", "load", "load_path",
           "looks_like_path", "resolve_ref", "search_dirs", "suggest", "validate", "value_rows"]
