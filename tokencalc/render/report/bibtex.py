"""The sources of every profile as BibTeX @misc entries with stable keys."""

from __future__ import annotations

import re
from typing import Any, Sequence

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


