"""Compare: several operating points side by side, one row each.

Rows come from several scenarios, or one scenario with comma lists of hardware,
facilities, workloads or lever sets (the full product, in the order given). Each
row is an ordinary `estimate` (same resolution, same engine), plus a label, the
profile ids it used and a rate relative to the first or the best row.

Pure apart from loading profiles through `resolve`; `render.compare` formats
the rows.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any

from ..core import Result, estimate
from ..errors import InputError, TokencalcError
from ..resolve.profiles import list_profiles, search_dirs, suggest
from ..resolve.scenario import Request, Resolved, resolve
from .prices import for_workload

SCHEMA = "tokencalc.compare/1"
AXES = ("hardware", "facility", "workload", "lever")

# --sort KEY -> (estimate JSON key, larger is better)
SORT_KEYS: dict[str, tuple[str, bool]] = {
    "rate": ("token_rate_tokens_per_s", True),
    "compute": ("compute_ceiling_tokens_per_s", True),
    "power": ("power_ceiling_tokens_per_s", True),
    "j_per_token": ("e_tok_j_per_token", False),
    "tokens": ("tokens_total", True),
    "energy": ("energy_facility_j", False),
    "cost": ("cost_usd_per_million_tokens", False),
    "relative": ("token_rate_relative", True),
    "label": ("label", False),
    "binding": ("binding", False),
}


@dataclass(frozen=True)
class Variant:
    """One row to build: a scenario reference plus the profile refs that replace its own."""

    scenario: str | None
    refs: dict[str, str] = field(default_factory=dict)
    levers: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()       # what distinguishes this row, for its label


@dataclass
class Row:
    """One compared operating point."""

    label: str
    variant: Variant
    resolved: Resolved
    result: Result
    relative: float | None = None
    mc: Any = None                    # uncertainty.MCResult with --mc
    _json: dict[str, Any] | None = field(default=None, repr=False)

    def values(self) -> dict[str, Any]:
        """Estimate JSON keys plus the row's label, profile ids and relative rate."""
        if self._json is None:
            self._json = self.result.to_json()
        r = self.resolved
        out = {"label": self.label,
               "hardware": r.hardware.id if r.hardware else None,
               "facility": r.facility.id if r.facility else None,
               "workload": r.workload.id if r.workload else None,
               "token_rate_relative": self.relative}
        out.update(self._json)
        prices = for_workload(out["workload"])  # directional context (analysis/prices.py), never an input
        out["listed_api_usd_per_million_output_tokens"] = min(p.output for p in prices) if prices else None
        if self.mc is not None:
            out["mc"] = self.mc.to_json()
        return out


def add_monte_carlo(rows: list[Row], n: int, seed: int) -> None:
    """Sample each row's ranged inputs (`estimate --mc` per row, the same seed for every row)."""
    from .uncertainty import monte_carlo

    for r in rows:
        r.mc = monte_carlo(r.resolved, n, seed)


def split_list(text: str | None, what: str) -> list[str]:
    """Split a comma list (`h100-sxm,h200-sxm`), refusing empty items."""
    if text is None:
        return []
    items = [t.strip() for t in text.split(",")]
    if not all(items):
        raise InputError(f"--{what} {text!r}: empty item in the comma list")
    return items


def expand_all(items: list[str], kind: str, dirs: list[str]) -> list[str]:
    """Replace the item `all` by every profile id of `kind` visible in the profile folders."""
    if "all" not in items:
        return items
    every = [e.id for e in list_profiles(kind, search_dirs(dirs))]
    out: list[str] = []
    for it in items:
        out += every if it == "all" else [it]
    return out


def variants(scenarios: list[str], lists: dict[str, list[str]]) -> list[Variant]:
    """The rows to build: every scenario × every combination of the listed profiles.

    Args:
        scenarios: scenario refs (empty = the default scenario, or --bare).
        lists: "hardware"/"facility"/"workload" -> refs; "lever" -> lever sets, each
            `a+b` (several levers) or `none` (no extra lever).
    """
    scen = scenarios or [None]
    axes = [k for k in AXES if lists.get(k)]
    combos = itertools.product(*[lists[k] for k in axes]) if axes else [()]
    out = []
    for s, combo in itertools.product(scen, list(combos)):
        refs, levers, parts = {}, (), []
        if len(scen) > 1 or not axes:
            parts.append(s or "default")
        for k, v in zip(axes, combo):
            if k == "lever":
                levers = tuple(x for x in v.split("+") if x and x != "none")
                parts.append(v)
            else:
                refs[k] = v
                parts.append(v)
        out.append(Variant(s, refs, levers, tuple(parts)))
    return out


def build_rows(base: Request, specs: list[Variant], skipped: list[str] | None = None) -> list[Row]:
    """Resolve and estimate each variant.

    Args:
        base: the shared request (flags, --set, --profiles, --bare); its scenario and
            refs are replaced per row, its levers extended.
        specs: from :func:`variants`.
        skipped: when given, rows that cannot be resolved are left out and their
            errors appended here instead of raised.

    Raises:
        TokencalcError: a row that cannot be resolved, named by its label.
    """
    rows = []
    for v in specs:
        req = replace(base, scenario=v.scenario, refs={**base.refs, **v.refs},
                      levers=list(base.levers) + list(v.levers))
        label = " · ".join(v.parts)
        try:
            res = resolve(req)
        except TokencalcError as exc:
            if skipped is None:
                raise type(exc)(f"row '{label}': {exc}") from None
            skipped.append(f"row '{label}': {exc}")
            continue
        rows.append(Row(label, v, res, estimate(res.inputs)))
    return rows


def relative(rows: list[Row], mode: str = "first") -> None:
    """Set each row's rate relative to the first row ("first") or the fastest ("best")."""
    rates = [r.result.values["token_rate_tokens_per_s"] for r in rows]
    if mode == "best":
        known = [x for x in rates if x is not None]
        ref = max(known) if known else None
    elif mode == "first":
        ref = rates[0] if rates else None
    else:
        raise InputError(f"--relative {mode!r}: expected first or best")
    for r, x in zip(rows, rates):
        r.relative = x / ref if (x is not None and ref) else None


def sort_rows(rows: list[Row], key: str, reverse: bool = False) -> list[Row]:
    """Rows ordered best first by `key` (a short name of :data:`SORT_KEYS` or an estimate JSON key); unknowns last."""
    if key in SORT_KEYS:
        json_key, desc = SORT_KEYS[key]
    else:
        scalar = [k for k, v in rows[0].values().items() if not isinstance(v, (dict, list))] if rows else []
        if key not in scalar:
            raise InputError(f"--sort {key!r}: not a column" + suggest(key, list(SORT_KEYS) + scalar)
                             + f" (short names: {', '.join(SORT_KEYS)}; or any estimate JSON key)")
        json_key, desc = key, False
    desc ^= reverse
    known = [r for r in rows if r.values()[json_key] is not None]
    unknown = [r for r in rows if r.values()[json_key] is None]
    known.sort(key=lambda r: r.values()[json_key], reverse=desc)
    return known + unknown


@dataclass
class Comparison:
    """Compared operating points, in display order."""

    rows: list[Row]
    relative_to: str
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> list[dict[str, Any]]:
        """The `compare --format json` document: one object per row (estimate keys, label, ids, relative rate)."""
        return [{**r.values(), "relative_to": self.relative_to} for r in self.rows]


def compare(base: Request, scenarios: list[str] | None = None, lists: dict[str, str | None] | None = None, *,
            relative_to: str = "first", sort: str | None = None, reverse: bool = False, skip_errors: bool = False,
            mc: int | None = None, seed: int = 0) -> Comparison:
    """Build, relate, sample and sort the rows of a comparison.

    Args:
        base: the shared request (flags, --set, --profiles, --bare).
        scenarios: scenario refs (empty: the default scenario).
        lists: "hardware"/"facility"/"workload"/"lever" -> a comma list (or 'all').
        relative_to: "first" or "best".
        sort: a short name of :data:`SORT_KEYS` or any estimate JSON key.
        reverse: reverse the sort.
        skip_errors: leave out rows that cannot be resolved (listed in `skipped`).
        mc, seed: Monte Carlo per row.

    Raises:
        InputError: no row could be resolved; TokencalcError: a row that cannot be resolved.
    """
    parsed = {k: expand_all(split_list(v, k), k, base.profile_dirs) for k, v in (lists or {}).items()}
    skipped: list[str] | None = [] if skip_errors else None
    rows = build_rows(base, variants(list(scenarios or []), parsed), skipped)
    if not rows:
        raise InputError("no row could be resolved")
    relative(rows, relative_to)
    if mc is not None:
        add_monte_carlo(rows, mc, seed)
    if sort:
        rows = sort_rows(rows, sort, reverse)
    return Comparison(rows, relative_to, list(skipped or []))
