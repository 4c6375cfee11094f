"""The reference inputs of the ratio estimators: c_tok, the dense peak at the precision, TDP.

They are resolved exactly as every command resolves inputs (a bare
:class:`~tokencalc.resolve.scenario.Request` with the workload and hardware
profiles and the `--c-tok` / `--precision` flags), so c_tok is what the core says:
given, or the full Kaplan form from the architecture, or unknown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any, Iterable

from ..core import Inputs, derive
from ..errors import InputError
from ..resolve import profiles as P
from ..resolve.scenario import Request, flag_text, resolve

# What a calibration measures itself: the workload profile's own measurements of
# these must not enter the estimators (nor a K_eff modeled from kernel efficiency).
MEASURED_BLANK = {
    "devices": None, "throughput_per_device": None, "throughput_basis": None, "e_tok": None, "e_tok_basis": None,
    "device_power": None, "k_eff": None, "kernel_efficiency": None, "availability": None, "utilization": None,
    "e_tok_boundary": "accelerator", "curves": (),
    "operating_point": "measured",  # the estimators read measurements, never the serving model
}


@dataclass(frozen=True)
class Reference:
    """Resolved inputs for the ratio estimators (docs/model.md §11).

    Attributes:
        inputs: the core inputs from the flags and profiles, without measured figures.
        workload: the workload profile id (None when none was given).
        c_tok_given: `--c-tok` as given (for `c_tok_source`).
        sm_active_reference: SM activity of the ideal batch (U = mean SM active / this).
        warnings: what could not be resolved (a peak without a precision, an incomplete c_tok).
    """

    inputs: Inputs = field(default_factory=lambda: Inputs(**MEASURED_BLANK))
    workload: str | None = None
    c_tok_given: Any = None
    sm_active_reference: float = 1.0
    warnings: tuple[str, ...] = ()

    def c_tok_source(self, c_tok_origin: str | None) -> str | None:
        """Where c_tok came from, given the core's `c_tok_origin` ("given", "architecture" or None)."""
        if c_tok_origin is None:
            return None
        if c_tok_origin == "architecture":
            return f"workload {self.workload}: 2 N_active + 2 n_layers n_ctx d_attn"
        origin = self.inputs.origin("c_tok")
        if origin is not None and origin.layer == "flag":
            return f"given: --c-tok {self.c_tok_given!r}"
        return f"workload {self.workload}: model.c_tok"


def _flag(key: str, value: Any) -> str:
    """A flag value: text as the user wrote it, or a number in SI units."""
    return value if isinstance(value, str) else flag_text(key, value)


def resolve_reference(*, c_tok: Any = None, workload: str | None = None, hardware: str | None = None,
                      precision: str | None = None, sm_active_reference: float = 1.0,
                      profiles: Iterable[str | os.PathLike] | None = None) -> Reference:
    """Resolve c_tok, the peak at the precision and TDP from flags and profiles.

    Args:
        c_tok: `--c-tok` ("1.3e11 FLOP/token", or a number in FLOP/token); beats the workload's.
        workload: workload profile id or path: its c_tok (model.c_tok, or the
            architecture) and its precision.
        hardware: hardware profile id or path: peak_flops at the precision, TDP.
        precision: selects the hardware's peak_flops entry (default: the workload's).
        sm_active_reference: SM activity of the ideal batch, in (0, 1].
        profiles: extra profile folders.

    Raises:
        TokencalcError: a bad value, profile or reference; a precision the hardware lists no peak for.
    """
    if not sm_active_reference > 0:
        raise InputError("--sm-active-reference: expected a value in (0, 1]")
    flags = {k: _flag(k, v) for k, v in (("c_tok", c_tok), ("precision", precision)) if v is not None}
    refs = {"workload": str(workload)} if workload is not None else {}
    dirs = [str(d) for d in profiles or []]
    warnings: list[str] = []
    req = Request(bare=True, refs=refs, flags=flags, profile_dirs=dirs)
    resolved = resolve(req) if hardware is None or precision is None else None
    if hardware is not None and (resolved is None or resolved.inputs.precision is not None):
        resolved = resolve(replace(req, refs={**refs, "hardware": str(hardware)}))
        inputs = resolved.inputs
    elif hardware is not None:
        # No precision (neither --precision nor the workload's): the peak is not chosen,
        # which calibrate reports as a warning where the other commands raise.
        hw = P.load(str(hardware), "hardware", resolved.dirs, key="--hardware")
        warnings.append(f"no --precision: peak_flops of {hw.id} not chosen; eta_k and eta_e need it "
                        f"(known: {', '.join(sorted(hw.table('peak_flops'))) or 'none'})")
        inputs = replace(resolved.inputs, tdp=hw.get("tdp"), hardware=hw.id)
    else:
        inputs = resolved.inputs
    inputs = replace(inputs, **MEASURED_BLANK)
    wl_id = resolved.workload.id if resolved.workload is not None else None
    if wl_id is not None and derive(inputs)[0].c_tok is None:
        warnings.append(f"workload {wl_id} gives no complete c_tok (model.c_tok, or active_params, n_layers, "
                        "d_attn and context_length)")
    return Reference(inputs, wl_id, c_tok, sm_active_reference, tuple(warnings))
