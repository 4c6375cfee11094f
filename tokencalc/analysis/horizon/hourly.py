"""Hourly series over a horizon: each becomes a step trajectory on its input (docs/model.md §8.2).

`estimate` and the other constant-input commands use a series' mean over the horizon (the core's
derivation). A projection instead cuts the horizon at every step of the series, so cost and emissions
integrate facility_power(t) · price(t) exactly and a ramp or a dated step meets the right hours.
The series is cleared from the base inputs there, so the derivation does not replace the trajectory.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ...core import with_values
from ...core.series import SERIES_FIELDS, series_json, series_notes, series_of
from ...errors import InputError
from .trajectory import Trajectory

FORM = "series"   # a Trajectory form of its own: steps from the file, never written in [trajectory]


def with_series(resolved: Any, trajs: list[Trajectory], T: float) -> tuple[Any, list[Trajectory], list[str], dict]:
    """The resolved scenario without its series, the trajectories with one step trajectory per series,
    notes, and the `input_series` summary over [0, T].

    Raises:
        InputError: a `[trajectory]` on an input a series already gives; a series too long for the horizon.
    """
    inp = resolved.inputs
    found = series_of(inp)
    if not found:
        return resolved, trajs, [], {}
    for tr in trajs:
        if tr.field in found:
            s = found[tr.field]
            raise InputError(f"trajectory.{tr.key} in {tr.source} and the hourly series {s.path} "
                             f"({inp.provenance[SERIES_FIELDS[tr.field]].source}) both give {tr.field} over time; "
                             "keep one")
    extra = []
    for key, s in found.items():
        at, values = s.steps(T)
        spec = {"series": s.path, "points": s.points, "start": s.origin, "unit": s.unit}
        extra.append(Trajectory(key, FORM, spec, key, False, tuple(float(b) for b in at[1:]),
                                {"at": at, "values": values}, s.source or s.path))
    info = series_json(replace(inp, horizon=T))
    notes = series_notes(replace(inp, horizon=T))
    cleared = with_values(inp, **{SERIES_FIELDS[k]: None for k in found})
    return replace(resolved, inputs=cleared), trajs + extra, notes, info


def series_cuts(trajs: list[Trajectory], T: float) -> np.ndarray:
    """The step times of the series trajectories inside (0, T): integration cuts, not switch-search edges
    (a price or a carbon intensity never moves the binding constraint)."""
    cuts = [np.asarray(tr.params["at"][1:]) for tr in trajs if tr.form == FORM]
    if not cuts:
        return np.array([])
    out = np.concatenate(cuts)
    return out[(out > 0.0) & (out < T)]
