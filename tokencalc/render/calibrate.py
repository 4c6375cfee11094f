"""Calibrate / measure output: the result as two rich tables (the figures, and the devices)."""

from __future__ import annotations

from typing import Any


def num(x: Any, digits: int = 4) -> str:
    """A figure for the table: "—" when unknown, thousands separators for counts."""
    if x is None:
        return "—"
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:.{digits}g}"


def _rows(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    w = r["window"]
    rows = [
        ("window", f"{w['start']} → {w['end']}", f"({w['source']})"),
        ("duration", num(r["duration_s"]), "s"),
        ("devices", num(r["devices"]), ""),
        ("energy", num(r["energy_j"]), f"J ({r['energy_method']})"),
        ("mean power (all devices)", num(r["mean_power_w"]), "W"),
        ("tokens", num(r["tokens"]), r["token_basis"]),
        ("e_tok", num(r["e_tok_j_per_token"]), "J/token"),
        ("throughput", num(r["throughput_tokens_per_s"]), "token/s"),
        ("throughput per device", num(r["throughput_per_device_tokens_per_s"]), "token/s"),
        ("c_tok", num(r["c_tok_flop_per_token"]), "FLOP/token"),
        ("K_eff (realized)", num(r["k_eff_flop_per_s"]), "FLOP/s"),
        ("K_peak", num(r["k_peak_flop_per_s"]), "FLOP/s"),
        ("η_K = K_eff / K_peak", num(r["eta_k"]), ""),
        ("e_ref = c_tok·TDP/peak", num(r["e_ref_j_per_token"]), "J/token"),
        ("η_E = e_ref / e_tok", num(r["eta_e"]), ""),
        ("U (mean SM active / ref)", num(r["utilization"]), ""),
    ]
    if r.get("gpu_utilization_mean") is not None:
        rows.append(("nvidia-smi utilization.gpu", num(r["gpu_utilization_mean"]), "(not U)"))
    if r["idle_method"] is not None:
        rows += [
            (f"idle power ({r['idle_method']})", num(r["idle_power_w"]), "W"),
            ("idle energy", num(r["energy_idle_j"]), "J"),
            ("net energy", num(r["energy_net_j"]), "J"),
            ("e_tok net of idle", num(r["e_tok_net_j_per_token"]), "J/token"),
        ]
    rows.append(("warnings", num(r["warning_count"]), "(on stderr)"))
    return rows


def tables(r: dict[str, Any]) -> list[Any]:
    """The calibration result (see :func:`tokencalc.calibration.calibrate`) as rich tables: figures, devices."""
    from rich.table import Table

    t = Table(title="Calibration (accelerator boundary)", title_justify="left")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    t.add_column("unit")
    for row in _rows(r):
        t.add_row(*row)
    d = Table(title="Devices", title_justify="left")
    for col in ("device", "method", "samples", "energy [J]", "mean power [W]", "SM active"):
        d.add_column(col, justify="left" if col in ("device", "method") else "right")
    for dev in r["device_details"]:
        d.add_row(dev["id"], dev["method"], num(dev["samples"]), num(dev["energy_j"]),
                  num(dev["mean_power_w"]), num(dev["sm_active_mean"], 3))
    return [t, d]
