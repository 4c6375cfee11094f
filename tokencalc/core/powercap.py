"""Power caps: a device held under a board-power limit runs at a lower core clock (docs/model.md §4.7).

Pure functions on SI floats (or, elementwise, numpy arrays). A cap `P_cap` per device (accelerator
boundary) acts on the serving model's decode step (core/serving.py). When the step's modeled power
exceeds the cap, the device lowers its core clock to a share `φ = f / f0` of the clock it ran at:

    t_compute(φ) = t_compute / φ        t_prefill(φ) = t_prefill / φ      (core-clock bound)
    t_memory, t_comm, t_overhead        unchanged (HBM and link clocks are not lowered by a power
                                        cap; the overheads are host-side scheduling and launches)
    ITL(φ)   = max(t_compute(φ), t_memory) + t_comm + t_overhead,   t_total(φ) = ITL(φ) + t_prefill(φ)
    P(φ)     = TDP · clip(p_0 + p_c · φ^α · u_c(φ) + p_m · u_m(φ),  P_idle / TDP,  1)
    u_c(φ)   = (t_compute(φ) + t_prefill(φ)) / t_total(φ),   u_m(φ) = t_memory / t_total(φ)

The compute units' dynamic power while busy scales as f · V², which is φ^α with α = 3 when the supply
voltage follows the clock (V ∝ f, the DVFS range); α is a per-hardware `[serving] dvfs_exponent`
where one is fitted, else 3 (stated, not fitted). The base share p_0 (static power, fans, clocks) is
held. `P(φ)` rises with φ, so the clock is the largest `φ` with `P(φ) <= P_cap`, found by bisection;
a cap at or above the uncapped power changes nothing (φ = 1). A cap below the lowest power the model
reaches (`max(P_idle, p_0 · TDP)`, the power at a vanishing clock) is an input error.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..errors import InputError
from .arith import both, is_array, maximum, minimum, where

# α when the hardware gives none: dynamic power C·V²·f with V ∝ f (the textbook CMOS relation).
DEFAULT_DVFS_EXPONENT = 3.0
# The lowest clock share searched (a device does not run below ~5 % of its boost clock).
PHI_MIN = 0.05
BISECTIONS = 50


@dataclass(frozen=True)
class CapEffect:
    """A power cap's effect on one operating point, per device (JSON `power_cap`)."""

    cap: Any
    binds: Any                   # the uncapped power exceeds the cap
    clock_ratio: Any             # φ = f / f0 (1 where the cap does not bind)
    power_uncapped: Any
    power_capped: Any
    itl_uncapped: Any
    itl_capped: Any
    throughput_uncapped: Any     # token/s per device
    throughput_capped: Any
    basis: str                   # "modeled", or "measured × modeled ratio"

    def to_json(self, compute_ceiling: Any = None, power_ceiling: Any = None) -> dict[str, Any]:
        """The documented `power_cap` object (SI units); the ceilings are the capped ones of the estimate.

        Uncapped ceilings follow from the capped ones: at a settled operating point both ceilings scale
        with the rate per device r, and the power ceiling with r / P (docs/model.md §4.6), so
        Q̇_K,uncapped = Q̇_K · r_u / r_c and Q̇_P,uncapped = Q̇_P · (r_u / P_u) / (r_c / P_c).
        """
        from .estimate import plain

        thr_ratio = self.throughput_uncapped / self.throughput_capped
        pow_ratio = (self.throughput_uncapped / self.power_uncapped) / (self.throughput_capped / self.power_capped)
        qk, qp = compute_ceiling, power_ceiling
        return {
            "cap_w": plain(self.cap), "binds": bool(self.binds) if not is_array(self.binds) else None,
            "clock_ratio": plain(self.clock_ratio), "basis": self.basis,
            "device_power_uncapped_w": plain(self.power_uncapped), "device_power_capped_w": plain(self.power_capped),
            "itl_uncapped_s": plain(self.itl_uncapped), "itl_capped_s": plain(self.itl_capped),
            "throughput_per_device_uncapped_tokens_per_s": plain(self.throughput_uncapped),
            "throughput_per_device_capped_tokens_per_s": plain(self.throughput_capped),
            "compute_ceiling_uncapped_tokens_per_s": None if qk is None else plain(qk * thr_ratio),
            "compute_ceiling_capped_tokens_per_s": plain(qk),
            "power_ceiling_uncapped_tokens_per_s": None if qp is None else plain(qp * pow_ratio),
            "power_ceiling_capped_tokens_per_s": plain(qp),
        }

    def note(self) -> str:
        """One line for the estimate's notes (scalars)."""
        if any(is_array(x) for x in (self.cap, self.binds, self.power_uncapped, self.itl_uncapped)):
            return "Power cap: per point (a sweep, sample or solve scan evaluates it at every point)."
        if not self.binds:
            return (f"Power cap {self.cap:,.4g} W per device does not bind: the operating point draws "
                    f"{self.power_uncapped:,.4g} W uncapped.")
        slow = self.itl_capped / self.itl_uncapped - 1.0
        rate = self.throughput_capped / self.throughput_uncapped - 1.0
        energy = (self.power_capped / self.throughput_capped) / (self.power_uncapped / self.throughput_uncapped) - 1.0
        how = ("by the DVFS model (docs/model.md §4.7)" if self.basis == "modeled"
               else "on the measured point, by the serving model's relative slowdown (docs/model.md §4.7)")
        return (f"Power cap {self.cap:,.4g} W per device binds {how}: {self.power_uncapped:,.4g} W -> "
                f"{self.power_capped:,.4g} W at {self.clock_ratio:.0%} of the core clock; ITL {slow:+.1%}, "
                f"token rate per device {rate:+.1%}, J/token at the accelerator {energy:+.1%}.")


def floor_power(device: Any) -> Any:
    """The lowest power the device power model reaches: max(P_idle, p_0 · TDP) (its value at a vanishing clock)."""
    base = device.tdp * device.power_base
    return base if device.idle_power is None else maximum(base, device.idle_power)


def _power_at(step: Any, device: Any, phi: Any, alpha: Any) -> tuple[Any, Any, Any]:
    """(device power, ITL, total step time) of `step` at clock share `phi`."""
    t_c, t_pre = step.t_compute / phi, step.t_prefill / phi
    itl = maximum(t_c, step.t_memory) + step.t_comm + step.t_overhead
    total = itl + t_pre
    share = (device.power_base + device.power_compute * phi ** alpha * (t_c + t_pre) / total
             + device.power_memory * step.t_memory / total)
    floor = device.idle_power / device.tdp if device.idle_power is not None else 0.0
    return device.tdp * minimum(maximum(share, floor), 1.0), itl, total


def check_cap(cap: Any, device: Any) -> None:
    """Raise InputError for a scalar cap the power model cannot reach (below idle or the base share)."""
    if is_array(cap) or device.tdp is None:
        return
    low = floor_power(device)
    if is_array(low) or cap > low:
        return
    what = (f"the board's idle power ({device.idle_power:,.4g} W)" if device.idle_power is not None
            and device.idle_power >= device.tdp * device.power_base
            else f"the power model's base share p_0 x TDP ({device.tdp * device.power_base:,.4g} W)")
    raise InputError(f"--power-cap {cap:,.4g} W is at or below {what}: no clock brings the device that low; "
                     f"give a cap above {low:,.4g} W")


def lowest_power(step: Any, device: Any, alpha: Any = None) -> Any:
    """The power of `step` at the lowest clock searched (PHI_MIN): no cap below it can be met."""
    a = alpha if alpha is not None else getattr(device, "dvfs_exponent", None)
    return _power_at(getattr(step, "uncapped", None) or step, device, PHI_MIN,
                     DEFAULT_DVFS_EXPONENT if a is None else a)[0]


def clock_ratio(step: Any, device: Any, cap: Any, alpha: Any = DEFAULT_DVFS_EXPONENT) -> Any:
    """The largest clock share φ in [PHI_MIN, 1] at which the step's power is within `cap` (1 where it already is)."""
    power_1, _, _ = _power_at(step, device, 1.0, alpha)
    lo: Any = PHI_MIN
    hi: Any = 1.0
    for _ in range(BISECTIONS):
        mid = 0.5 * (lo + hi)
        ok = _power_at(step, device, mid, alpha)[0] <= cap
        lo, hi = where(ok, mid, lo), where(ok, hi, mid)
    return where(power_1 > cap, lo, 1.0)


def capped(step: Any, device: Any, cap: Any, alpha: Any = None) -> Any:
    """The decode step under a power cap per device (the step itself when `cap` is None).

    `alpha` defaults to the device's `dvfs_exponent` (per hardware), else DEFAULT_DVFS_EXPONENT.
    """
    if cap is None or device.tdp is None:
        return step
    check_cap(cap, device)
    a = alpha if alpha is not None else getattr(device, "dvfs_exponent", None)
    a = DEFAULT_DVFS_EXPONENT if a is None else a
    phi = clock_ratio(step, device, cap, a)
    power, itl, total = _power_at(step, device, phi, a)
    if not is_array(power) and power > cap * (1.0 + 1e-9):
        raise InputError(f"--power-cap {cap:,.4g} W is below what this operating point can reach: at "
                         f"{PHI_MIN:.0%} of the core clock the device still draws {power:,.4g} W (the base and "
                         "memory shares of the power model do not fall with the clock); give a higher cap")
    replica = step.batch / total
    d = step.devices_per_replica
    return replace(step, t_compute=step.t_compute / phi, t_prefill=step.t_prefill / phi, itl_s=itl,
                   throughput_per_device=replica / d, replica_throughput=replica, device_power=power,
                   e_tok_accelerator=power * d / replica, clock_ratio=phi, uncapped=step)


def effect(step: Any, cap: Any) -> CapEffect | None:
    """The cap's effect on a modeled point, from the capped step (None without a cap)."""
    base = getattr(step, "uncapped", None)
    if cap is None or step is None or base is None:
        return None
    return CapEffect(cap, both(step.clock_ratio < 1.0), step.clock_ratio, base.device_power, step.device_power,
                     base.itl_s, step.itl_s, base.throughput_per_device, step.throughput_per_device, "modeled")


def on_measured(throughput: Any, power: Any, itl: Any, step: Any, device: Any, cap: Any,
                alpha: Any = None) -> CapEffect:
    """A cap on a measured point: the serving model's relative slowdown at the same relative cap.

    The model's uncapped step is capped at `cap · P_model / P_measured` (the same share of the point's
    power); the measured throughput and ITL are scaled by the model's ratios, and the power is the cap.
    """
    base = getattr(step, "uncapped", None) or step
    binds = power > cap
    if not is_array(binds) and not binds:
        return CapEffect(cap, False, 1.0, power, power, itl, itl, throughput, throughput, "measured × modeled ratio")
    target = cap * base.device_power / power
    low = lowest_power(base, device, alpha)
    if not is_array(target) and target <= low:
        raise InputError(f"--power-cap {cap:,.4g} W: on this measured point ({power:,.4g} W) the serving model "
                         f"cannot slow the step that far (it reaches {low * power / base.device_power:,.4g} W at "
                         f"{PHI_MIN:.0%} of the core clock); give a higher cap")
    model_capped = capped(base, device, target, alpha)
    thr = where(binds, throughput * model_capped.throughput_per_device / base.throughput_per_device, throughput)
    new_itl = None if itl is None else where(binds, itl * model_capped.itl_s / base.itl_s, itl)
    return CapEffect(cap, binds, where(binds, model_capped.clock_ratio, 1.0), power, minimum(power, cap), itl, new_itl,
                     throughput, thr, "measured × modeled ratio")
