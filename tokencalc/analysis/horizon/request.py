"""A projection from a request and the `project` options (text with units, as a user writes them)."""

from __future__ import annotations

from typing import Sequence

from ...resolve.scenario import Request, resolve
from ...units import parse
from .project import Projection, project
from .trajectory import from_resolved, parse_flag


def project_request(request: Request, *, trajectory: Sequence[str] = (), resolution: str | None = None,
                    period: str | None = None, target_tokens: str | float | None = None) -> Projection:
    """Resolve `request` and project it over its horizon.

    Args:
        request: the scenario and flags.
        trajectory: `KEY=SPEC` texts (`--trajectory`) that add or replace the scenario's trajectories.
        resolution: spacing of the series, e.g. "1 day".
        period: day, week, month, quarter or year.
        target_tokens: a token count ("1e15" or "1e15 token") whose arrival time to report.
    """
    resolved = resolve(request)
    extra = dict(parse_flag(t) for t in trajectory)
    trajs = from_resolved(resolved, extra)
    res = parse(resolution, "time", key="--resolution") if resolution is not None else None
    return project(resolved, resolution_s=res, trajectories=trajs, period=period,
                   target_tokens=_tokens(target_tokens))


def _tokens(value: str | float | None) -> float | None:
    if value is None or isinstance(value, (int, float)):
        return None if value is None else float(value)
    try:
        return float(value)
    except ValueError:
        return parse(value, "tokens", key="--target-tokens")
