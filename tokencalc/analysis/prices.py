"""Listed API prices per million tokens: a bundled, dated, sourced table, shown as directional context.

The table (tokencalc/data/api_prices.toml) is what providers listed; it is never used to compute anything.
`compare` and the report show it beside the modeled cost per million tokens, labelled directional: a listed
price is set by a market (margins, research, subsidies, utilization), not by the physics of a token.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

TABLE = Path(__file__).resolve().parent.parent / "data" / "api_prices.toml"
CAVEAT = ("Listed prices are directional context, not a cause or a check: a market sets them (margins, research, "
          "subsidies, utilization); the modeled cost counts electricity, and hardware and building where given.")


@dataclass(frozen=True)
class ListedPrice:
    """One listed price, USD per million tokens."""

    model: str
    provider: str
    input: float
    output: float
    date: str
    source: str
    workload: str | None = None


@lru_cache(maxsize=1)
def listed() -> tuple[ListedPrice, ...]:
    """Every bundled listed price, in the table's order."""
    rows = tomllib.loads(TABLE.read_text(encoding="utf-8"))["price"]
    return tuple(ListedPrice(**row) for row in rows)


def for_workload(workload: str | None) -> tuple[ListedPrice, ...]:
    """The listed prices of the model a bundled workload serves (empty: none is listed)."""
    return tuple(p for p in listed() if workload is not None and p.workload == workload)
