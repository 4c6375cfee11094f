"""The sources the report's inputs cite, as BibTeX @misc entries with stable keys.

Only cited sources are listed (see `citations`): one entry per distinct work,
keyed `<author><year><first title word>`, or `tokencalc:<kind>:<id>:<key>` for a
plain-text citation (its text becomes the note). Authors follow the BibTeX
convention: "X et al." is "X and others", "A, B" is "A and B", an organisation
is braced so it prints as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from .citations import Cite

# BibTeX counts every brace, escaped or not: a brace from a profile becomes a command whose own braces balance.
_BIB_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\textbraceleft{}", "}": r"\textbraceright{}", "%": r"\%",
                "&": r"\&", "$": r"\$", "#": r"\#", "_": r"\_", "^": r"\^{}", "~": r"\~{}"}
_STOP = {"a", "an", "the", "of", "on", "in", "for", "and", "to", "from", "with", "by", "at"}


def bib_text(text: str) -> str:
    """A BibTeX field value: specials escaped, whitespace collapsed, braces balanced (nothing can end the field)."""
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


def bib_author(author: str) -> tuple[str, str | None]:
    """(the BibTeX author field, an affiliation in parentheses moved out of it).

    "Samsi et al." -> "Samsi and others"; "L. Emberson, D. Owen (Epoch AI)" ->
    "L. Emberson and D. Owen" (affiliation "Epoch AI"); "Smith, J." stays;
    "International Energy Agency" -> "{International Energy Agency}".
    """
    text = " ".join(author.split())
    affiliation = None
    m = re.fullmatch(r"(.*?)\s*\(([^()]*)\)", text)
    if m and m.group(1):
        text, affiliation = m.group(1), m.group(2)
    others = bool(re.search(r",?\s+et\s+al\.?$", text))
    text = re.sub(r",?\s+et\s+al\.?$", "", text)
    parts = [p.strip() for p in re.split(r",\s*(?:and\s+)?|\s+and\s+", text) if p.strip()]
    last_first = len(parts) == 2 and "," in text and len(parts[0].split()) == 1 and len(parts[1].split()) <= 2
    if last_first or " and " in text:
        names = [bib_text(text)]  # already BibTeX form ("Smith, J." or "A and B")
    elif len(parts) > 1:
        names = [bib_text(p) for p in parts]
    else:
        names = [("{" + bib_text(text) + "}") if not others else bib_text(text)]
    return " and ".join(names + (["others"] if others else [])), affiliation


@dataclass
class Entry:
    """One BibTeX entry and where it is cited."""

    key: str
    fields: list[tuple[str, str]]
    source: Any = None
    cited_for: list[str] = field(default_factory=list)

    def text(self) -> str:
        body = ",\n".join(f"  {name:<9} = {{{val}}}" for name, val in self.fields if val)
        how = bib_text("cited for " + "; ".join(self.cited_for))
        return f"@misc{{{self.key},\n{body},\n  howpublished = {{{how}}}\n}}"


class Bibliography:
    """The cited sources: entries in order of first citation, and the key of each citation."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self._by_ident: dict[tuple, Entry] = {}

    def add(self, cites: Iterable[Cite]) -> list[str]:
        """Register citations; returns their keys (each once, in order)."""
        keys: list[str] = []
        for c in cites:
            entry = self._entry(c)
            if c.where not in entry.cited_for:
                entry.cited_for.append(c.where)
            if entry.key not in keys:
                keys.append(entry.key)
        return keys

    def _entry(self, c: Cite) -> Entry:
        src, prof = c.source, c.profile
        ident = ((src.title, src.author, src.year, src.url, src.publisher) if src.title
                 else (prof.kind, prof.id, c.skey))
        if ident in self._by_ident:
            return self._by_ident[ident]
        if src.title:
            words = [w for w in re.findall(r"[A-Za-z0-9]+", src.title) if len(w) > 2 and w.lower() not in _STOP]
            key = self._unique(_author_key(src.author or src.publisher) + _slug(src.year or "nd", 4)
                               + (_slug(words[0], 16) if words else ""))
            author, affiliation = bib_author(src.author) if src.author else (None, None)
            note = "; ".join(x for x in (affiliation, src.note) if x)
            fields = [("title", "{" + bib_text(src.title) + "}"), ("author", author),
                      ("key", None if author else bib_text(src.publisher or src.title)),  # sorts an authorless entry
                      ("year", bib_text(src.year) if src.year else None),
                      ("publisher", bib_text(src.publisher) if src.publisher else None),
                      ("url", _bib_url(src.url) if src.url else None),
                      ("urldate", bib_text(src.accessed) if src.accessed else None),
                      ("note", bib_text(note) if note else None)]
        else:
            key = self._unique("tokencalc:" + re.sub(r"[^A-Za-z0-9:._-]+", "-",
                                                     f"{prof.kind}:{prof.id}:{c.skey}").strip("-"))
            fields = [("title", bib_text(f"Source of {c.skey} in the {prof.kind} profile {prof.id}")),
                      ("key", bib_text(f"tokencalc {prof.kind} {prof.id}")), ("note", bib_text(src.text))]
        entry = Entry(key, fields, src)
        self._by_ident[ident] = entry
        self.entries.append(entry)
        return entry

    def _unique(self, key: str) -> str:
        used = {e.key for e in self.entries}
        base, n = key, 0
        while key in used:
            n += 1
            key = f"{base}{chr(ord('a') + n - 1) if n <= 26 else n}"
        return key

    @property
    def keys(self) -> list[str]:
        """Every entry's key, in order."""
        return [e.key for e in self.entries]

    def text(self) -> str:
        """The .bib file: every cited source once."""
        return "\n\n".join(e.text() for e in self.entries) + ("\n" if self.entries else "")
