"""A workload's `[[measured.curve]]` rows -> :class:`~tokencalc.core.curves.Curve` objects for `Inputs.curves`.

The rows are validated with the profile (`validate.check_rows`); they are checked
again here because `--set` / `[override]` can change single row values. Rows are
grouped by (hardware, devices per replica, precision), in the order the file gives
them first; boundary and token basis come from `[measured]`; the provenance is the
workload's `[sources]` entry covering `measured.curve`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.inputs import Origin
from ..errors import ProfileError
from . import schema as S
from .profiles import Profile
from .validate import check_rows

if TYPE_CHECKING:
    from ..core.curves import Curve

PATH = "measured.curve"
SPEC: S.ArrayOf = S.WORKLOAD["measured"].fields["curve"]  # type: ignore[union-attr]


def rows_of(prof: Profile) -> list[dict[str, Any]]:
    """The curve rows of a workload profile, in file order (SI values)."""
    by_index: dict[int, dict[str, Any]] = {}
    cut = len(PATH) + 1
    for key, value in prof.values.items():
        if key.startswith(PATH + "."):
            index, _, name = key[cut:].partition(".")
            by_index.setdefault(int(index), {})[name] = value
    return [by_index[i] for i in sorted(by_index)]


def curves_of(prof: Profile | None) -> tuple[Curve, ...]:
    """The measured operating curves of a workload profile (empty without rows).

    Raises:
        ProfileError: a row without a required key, or a batch repeated within a group.
    """
    if prof is None:
        return ()
    rows = rows_of(prof)
    if not rows:
        return ()
    check_rows(SPEC, rows, PATH, prof.path)
    from ..core.curves import Curve, CurvePoint  # only for workloads with curves: off a plain estimate's path

    src = prof.source_for(PATH)
    source = Origin("profile", kind="workload", profile=prof.id, key=PATH,
                    citation=src.text if src else None).text
    groups: dict[tuple, list[CurvePoint]] = {}
    for row in rows:
        key = (row["hardware"], int(row["devices_per_replica"]), row.get("precision"))
        groups.setdefault(key, []).append(CurvePoint(float(row["batch_size"]), float(row["throughput_per_device"]),
                                                     float(row["device_power"]), float(row["itl"])))
    try:
        return tuple(Curve(hw, d, precision, tuple(points), source, boundary=prof.get("measured.e_tok_boundary"),
                           token_basis=prof.get("measured.token_basis"))
                     for (hw, d, precision), points in groups.items())
    except ValueError as exc:  # a value that is not > 0 after an override
        raise ProfileError(f"{PATH} in {prof.path}: {exc}") from None
