"""The operating point in words: where it comes from and its figures, for every format."""

from __future__ import annotations

from typing import Any

from . import humanize as H

# How each source of an operating point is labelled wherever it is shown.
SOURCE_LABELS = {"measured": "measured", "interpolated": "interpolated between measured batches",
                 "modeled": "modeled by the serving model", "mixed": "measured where covered, else modeled"}
CHOSEN_LABELS = {"workload": "the workload's", "fixed": "fixed by the user", "slo": "chosen under the SLO"}


def operating_rows(op: Any) -> list[tuple[str, str]]:
    """(label, value) rows of an operating point, humanised; the first says where it comes from."""
    mem = (f"{H.si(op.memory_required_bytes, 'B')} of {H.si(op.memory_capacity_bytes, 'B')}"
           if op.memory_required_bytes is not None else "—")
    return [("Source", SOURCE_LABELS.get(op.source, op.source)),
            ("Batch", f"{op.batch_size:,.0f} ({CHOSEN_LABELS.get(op.chosen_by, op.chosen_by)})"
             if op.batch_size is not None else "—"),
            ("Context length", "—" if op.context_length is None else f"{op.context_length:,.0f} tokens"),
            ("Devices per replica", "—" if op.devices_per_replica is None else f"{op.devices_per_replica:,.0f}"),
            ("ITL (TPOT)", H.ms(op.itl_s)), ("TTFT", H.ms(op.ttft_s)),
            ("Token rate per device", H.si(op.throughput_per_device, "token/s")),
            ("Device power", H.si(op.device_power, "W")),
            ("e_tok (accelerator)", H.si(op.e_tok_accelerator, "J/token")),
            ("HBM needed / available (modeled)", mem),
            ("Largest batch that fits (modeled)", "—" if op.max_batch is None else f"{op.max_batch:,.0f}"),
            ("Decode step limited by", op.limiter or "—")] + cap_rows(getattr(op, "cap", None))


def cap_rows(cap: Any) -> list[tuple[str, str]]:
    """The power cap's rows (none without a cap, or for a sweep's arrays)."""
    if cap is None or hasattr(cap.cap, "shape"):
        return []
    if not cap.binds:
        return [("Power cap", f"{H.si(cap.cap, 'W')} per device (does not bind: {H.si(cap.power_uncapped, 'W')} "
                              "uncapped)")]
    return [("Power cap", f"{H.si(cap.cap, 'W')} per device: {H.si(cap.power_uncapped, 'W')} -> "
                          f"{H.si(cap.power_capped, 'W')}, core clock {cap.clock_ratio:.0%}"),
            ("ITL uncapped -> capped", f"{H.ms(cap.itl_uncapped)} -> {H.ms(cap.itl_capped)}"),
            ("Token rate per device uncapped", H.si(cap.throughput_uncapped, "token/s"))]
