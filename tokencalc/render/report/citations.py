"""Which sources the report's inputs cite: the provenance text, the BibTeX entries and the \\cite keys.

An input read from a profile cites the source its profile gives for the key
(the longest matching `[sources]` prefix, else `default`); a derived input cites
the sources of the inputs its rule reads; a flag or a default cites nothing. A
value set by a scenario's `[override]` (or `--set`) has the profile source
"override: ..."; when the scenario's own `[sources]` cites it (under the dotted
key, or under `override.<dotted key>` or a prefix of it), that citation is shown
beside it and is the one the bibliography lists. Nothing is computed here: only
the profiles' own citations are looked up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

LEVER_KEYS = ("c_tok_factor", "e_tok_factor", "precision", "quality_delta")


@dataclass(frozen=True)
class Cite:
    """One citation of one profile: the profile, its `[sources]` key and the Source."""

    profile: Any
    skey: str
    source: Any

    @property
    def where(self) -> str:
        """`scenario default: devices`: the profile and the key the citation is written under."""
        return f"{self.profile.kind} {self.profile.id}: {self.skey}"


def lookup(sources: dict[str, Any], dotted: str, default: bool = True) -> str | None:
    """The `[sources]` key covering `dotted`: the longest matching prefix, else `default` (if allowed)."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in sources:
            return key
    return "default" if default and "default" in sources else None


def is_override(source: Any) -> bool:
    """Whether a profile source only records an `[override]` / `--set` (resolve writes "override: ...")."""
    return source is not None and str(source.text).startswith("override:")


def scenario_cite(scen: Any, dotted: str) -> Cite | None:
    """The scenario's own citation of an overridden key: `dotted`, else `override.<dotted>` or a prefix of it."""
    if scen is None:
        return None
    if dotted in scen.sources and not is_override(scen.sources[dotted]):
        return Cite(scen, dotted, scen.sources[dotted])
    key = lookup(scen.sources, "override." + dotted, default=False)
    if key is None or is_override(scen.sources[key]):
        return None
    return Cite(scen, key, scen.sources[key])


def dotted_key(prof: Any, key: str) -> str:
    """The key as a scenario's `[override]` writes it (`facility.pue`, `levers.fp8.e_tok_factor`)."""
    if prof.kind == "scenario":
        return key
    if prof.kind == "lever":
        return f"levers.{prof.id}.{key}"
    return f"{prof.kind}.{key}"


def profile_cites(resolved: Any, prof: Any, key: str) -> list[Cite]:
    """What a profile key cites (the scenario's citation in place of an override note)."""
    skey = lookup(prof.sources, key)
    if skey is None:
        return []
    src = prof.sources[skey]
    if is_override(src):
        found = scenario_cite(resolved.scenario, dotted_key(prof, key))
        return [found] if found is not None else []
    return [Cite(prof, skey, src)]


def find_profile(resolved: Any, kind: str | None, pid: str | None) -> Any:
    """The profile of that kind and id among those used (None if absent)."""
    for prof in resolved.profiles():
        if prof.kind == kind and prof.id == pid:
            return prof
    return None


def input_cites(resolved: Any, provenance: dict[str, Any], key: str, _seen: frozenset = frozenset()) -> list[Cite]:
    """Every citation behind one input: its own, or for a derived input those of the inputs it reads."""
    p = provenance.get(key)
    if p is None or key in _seen:
        return []
    origin = p.origin
    if origin.layer in ("profile", "scenario"):
        prof = find_profile(resolved, origin.kind, origin.profile)
        return profile_cites(resolved, prof, origin.key) if prof is not None and origin.key else []
    if origin.layer == "derived":
        out: list[Cite] = []
        for read in origin.reads:
            out += input_cites(resolved, provenance, read, _seen | {key})
        return unique(out)
    return []


def unique(cites: Iterable[Cite]) -> list[Cite]:
    """Cites in order, each (profile, key) once."""
    seen, out = set(), []
    for c in cites:
        ident = (c.profile.kind, c.profile.id, c.skey)
        if ident not in seen:
            seen.add(ident)
            out.append(c)
    return out


def source_text(resolved: Any, p: Any, key: str) -> str:
    """The provenance line of an input, with the scenario's citation beside an `[override]` note."""
    text = p.source
    origin = p.origin
    if origin.layer not in ("profile", "scenario") or not origin.citation or "override:" not in origin.citation:
        return text
    prof = find_profile(resolved, origin.kind, origin.profile)
    found = scenario_cite(resolved.scenario, dotted_key(prof, origin.key)) if prof is not None else None
    return f"{text}; {found.source.text}" if found is not None else text


def short_cite(src: Any) -> str:
    """Author (or publisher) and year, as a table cites a work whose full entry is in the sources list.

    "Touvron et al." -> "Touvron et al. 2023"; "L. Emberson, D. Owen (Epoch AI)" -> "Emberson and Owen";
    "J. Smith" -> "Smith"; an organisation ("U.S. Energy Information Administration") stays whole.
    """
    who = " ".join(str(src.author or src.publisher or src.title or src.text).split())
    bare = re.sub(r"\s*\([^()]*\)\s*$", "", who) or who  # "ML.ENERGY (J.-W. Chung et al.)" -> "ML.ENERGY"
    others = bool(re.search(r",?\s+et\s+al\.?$", bare))
    names = [n.strip() for n in re.split(r",\s*(?:and\s+)?|\s+and\s+|;\s*", re.sub(r",?\s+et\s+al\.?$", "", bare))
             if n.strip()]
    if len(names) == 2 and re.fullmatch(r"(?:[A-Z]\.-?\s*)+", names[1]):  # "Kaplan, J.": surname first
        names = [names[0]]
        person = names
    else:
        person = [_surname(n) for n in names]
    if others or len(names) > 2:
        text = f"{person[0]} et al."
    elif len(names) == 2 and all(_is_person(n) for n in names):
        text = f"{person[0]} and {person[1]}"
    elif len(names) == 1 and (_is_person(names[0]) or person[0] != names[0] or "," in bare):
        text = person[0]
    else:
        text = bare
    return f"{text} {src.year}" if src.year and src.year not in text else text


def _is_person(name: str) -> bool:
    """"J.-W. Chung", "A. B. Smith": initials before a surname (an organisation has none)."""
    words = name.split()
    return len(words) >= 2 and all(re.fullmatch(r"(?:[A-Z]\.-?)+[A-Z]?\.?", w) for w in words[:-1])


def _surname(name: str) -> str:
    return name.split()[-1] if _is_person(name) else name


def trajectory_cites(resolved: Any, key: str) -> list[Cite]:
    """The scenario's citation of a `[trajectory]` entry (`trajectory.<key>` or a prefix)."""
    scen = resolved.scenario
    if scen is None:
        return []
    skey = lookup(scen.sources, "trajectory." + key, default=False)
    return [Cite(scen, skey, scen.sources[skey])] if skey is not None else []


def lever_cites(resolved: Any, lp: Any) -> list[Cite]:
    """What a lever's factors, precision and quality deltas cite."""
    keys = [k for k in lp.values if k.split(".")[0] in LEVER_KEYS]
    return unique(c for k in keys for c in profile_cites(resolved, lp, k))


def dotted_cites(resolved: Any, dotted: str) -> list[Cite]:
    """What a ranged input's key (`utilization`, `facility.pue`, `levers.fp8.e_tok_factor`) cites."""
    head, _, rest = dotted.partition(".")
    if head == "levers" and "." in rest:
        lid, _, key = rest.partition(".")
        prof = find_profile(resolved, "lever", lid)
        return profile_cites(resolved, prof, key) if prof is not None else []
    prof = getattr(resolved, head, None) if rest and head in ("hardware", "facility", "workload") else None
    if prof is not None:
        return profile_cites(resolved, prof, rest)
    scen = resolved.scenario
    return profile_cites(resolved, scen, dotted) if scen is not None else []
