"""The Python front door: one call per command, the same inputs as the flags, the same JSON.

    >>> import tokencalc
    >>> r = tokencalc.estimate(pue=1.2)            # the bundled default scenario, PUE 1.2
    >>> r.to_dict()["binding"]
    'compute'

Inputs are the command-line flags' snake_case names: strings with units as on the
command line ("800 kW", "3 J/token"), or plain numbers in SI units (800e3 for
p_it, 3.0 for e_tok). Profiles by id or path (`hardware="h200-sxm"`), levers as
`lever="fp8"` or a list, `set=["facility.pue=1.3"]`, `profiles=["./my-profiles"]`.
Every function returns a result object whose `.to_dict()` equals the command's
`--format json` output and which shows as a table in a notebook (`_repr_html_`).
All physics runs in the one core (`tokencalc.core`); this module only wires
requests to analyses and results to renderers.
"""

from __future__ import annotations

import html
import io
import json
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from .errors import InputError
from .resolve import schema as S
from .resolve.scenario import Request, flag_text

PROFILE_KEYS = ("hardware", "facility", "workload")


def request(scenario: str | None = None, *, bare: bool = False, **inputs: Any) -> Request:
    """The `Request` that the flags `inputs` describe (for the analysis functions).

    Raises:
        TypeError: an input that is not a flag of tokencalc (with a suggestion).
    """
    flags: dict[str, str] = {}
    refs: dict[str, str] = {}
    levers: list[str] = []
    sets = list(_strings(inputs.pop("set", None)))
    dirs = [str(d) for d in _strings(inputs.pop("profiles", None))]
    for switch in ("allow_operating_point_shift", "whole_token_levers"):
        if inputs.pop(switch, False):
            sets.append(f"{switch}=true")
    for key in ("lever", "levers"):
        levers += _strings(inputs.pop(key, None))
    for key, value in inputs.items():
        if value is None:
            continue
        if key in PROFILE_KEYS:
            refs[key] = str(value)
        elif key in S.CORE:
            flags[key] = _flag_value(key, value)
        else:
            from .resolve.profiles import suggest

            known = [*S.CORE, *PROFILE_KEYS, "lever", "set", "profiles", "allow_operating_point_shift", "whole_token_levers"]
            raise TypeError(f"unexpected keyword argument {key!r}{suggest(key, known)} (inputs are the flags' "
                            "snake_case names, e.g. p_it, pue, hardware)")
    return Request(scenario=scenario, bare=bare, flags=flags, refs=refs, levers=levers, sets=sets, profile_dirs=dirs)


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return [str(value)]
    return [str(v) for v in value]


def _flag_value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        raise InputError(f"{key}: expected a number or a string with a unit, got {value!r}")
    if isinstance(value, (int, float)):
        return flag_text(key, float(value))  # plain numbers are SI
    return str(value)


# ---------------------------------------------------------------------------
# Result objects


@dataclass
class Output:
    """A result: `.to_dict()` is the command's JSON; it shows as a table in a notebook."""

    value: Any          # the analysis object (e.g. `analysis.point.Estimate`)
    command: str

    def to_dict(self) -> Any:
        """Exactly what `tokencalc <command> --format json` prints, parsed."""
        raise NotImplementedError

    def to_json(self) -> str:
        """The JSON text (indent 2, the CLI's)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    def rows(self) -> list[tuple[str, str]]:
        """(quantity, human value) rows of the notebook table."""
        raise NotImplementedError

    def _repr_html_(self) -> str:
        body = "".join(f"<tr><td>{html.escape(a)}</td><td style='text-align:right'>{html.escape(b)}</td></tr>"
                       for a, b in self.rows())
        return f"<table><caption>tokencalc {html.escape(self.command)}</caption>{body}</table>"

    def __getattr__(self, name: str) -> Any:
        # The analysis object's attributes (result, resolved, rows, solution, ...) are the result's too.
        if name == "value":
            raise AttributeError(name)
        return getattr(self.value, name)


class EstimateOutput(Output):
    """`estimate` (and `estimate --mc`): one operating point."""

    def to_dict(self) -> dict[str, Any]:
        """The estimate JSON (with `mc` when sampled)."""
        return self.value.to_dict()

    def rows(self) -> list[tuple[str, str]]:
        from .render.summary import finding, summary_rows

        out = [("Finding", finding(self.value.result))] + [(label, human) for _, label, human, _, _
                                                            in summary_rows(self.value.result)]
        if self.value.mc is not None and self.value.mc.p_power_bound is not None:
            out.append(("P(power-bound)", f"{100 * self.value.mc.p_power_bound:.3g} %"))
        return out

    @property
    def values(self) -> dict[str, Any]:
        """The estimate's documented keys (SI)."""
        return self.value.result.values


class ProjectOutput(Output):
    """`project`: the horizon with time-varying inputs."""

    def to_dict(self, series: bool = True) -> dict[str, Any]:
        """The project JSON (with the series unless `series=False`, like `--no-series`)."""
        return self.value.to_json(series=series)

    def rows(self) -> list[tuple[str, str]]:
        from .render.project import finding, summary_rows

        return [("Finding", finding(self.value))] + summary_rows(self.value)


class CompareOutput(Output):
    """`compare`: several operating points."""

    def to_dict(self) -> list[dict[str, Any]]:
        """The compare JSON: a list of rows."""
        return self.value.to_dict()

    def rows(self) -> list[tuple[str, str]]:
        from .render.compare import human_cells

        return [(r.label, " · ".join(human_cells(r)[2:4])) for r in self.value.rows]


class SweepOutput(Output):
    """`sweep`: a grid (columns as numpy arrays in `.columns`)."""

    def to_dict(self) -> dict[str, Any]:
        """The `sweep --format json` document."""
        from .render import stream

        buf = io.BytesIO()
        stream.write(buf, self.value, "json", scenario=self.value.inputs.scenario)
        return json.loads(buf.getvalue())

    @property
    def columns(self) -> dict[str, Any]:
        """Every column over the whole grid (numpy arrays; binding columns as labels)."""
        from .analysis.sweep import evaluate_all
        from .core import label
        from .core.fields import is_binding_label

        cols, _ = evaluate_all(self.value)
        return {k: (label(v) if is_binding_label(k) and v is not None else v) for k, v in cols.items()}

    def rows(self) -> list[tuple[str, str]]:
        from .analysis.sweep import evaluate_all
        from .render.sweep import summary_lines

        _, summary = evaluate_all(self.value)
        return [("Summary", line) for line in summary_lines(summary)]


class SolveOutput(Output):
    """`solve`: the crossover value of one input."""

    def to_dict(self) -> dict[str, Any]:
        """The solve JSON."""
        from .render.solve import to_dict

        return to_dict(self.value)

    def rows(self) -> list[tuple[str, str]]:
        from .render.solve import lines

        return [(text.strip(), "") for text, _ in lines(self.value)]


class CalibrateOutput(Output):
    """`calibrate`: measured e_tok, realized K_eff and the estimators."""

    def to_dict(self) -> dict[str, Any]:
        """The calibrate JSON."""
        return self.value.to_dict()

    def rows(self) -> list[tuple[str, str]]:
        d = self.to_dict()
        keys = ("energy_j", "duration_s", "tokens", "e_tok_j_per_token", "k_eff_flop_per_s", "eta_k", "eta_e",
                "utilization")
        return [(k, "—" if d.get(k) is None else f"{d[k]:.4g}") for k in keys]


# ---------------------------------------------------------------------------
# One call per command


def estimate(scenario: str | None = None, *, bare: bool = False, **inputs: Any) -> EstimateOutput:
    """One operating point (`tokencalc estimate`): both ceilings, γ vs γ*, the binding constraint, totals.

    Args:
        scenario: a scenario id or path (None: the bundled default, unless `bare`).
        bare: start from an empty scenario (every input from `inputs`).
        **inputs: flags by their snake_case names (strings with units or SI numbers).
    """
    from .analysis.point import estimate as run

    return EstimateOutput(run(request(scenario, bare=bare, **inputs)), "estimate")


def monte_carlo(scenario: str | None = None, *, n: int = 10_000, seed: int = 0, bare: bool = False,
                **inputs: Any) -> EstimateOutput:
    """`tokencalc estimate --mc N --seed S`: the estimate and the band of its ranged inputs."""
    from .analysis.point import estimate as run

    return EstimateOutput(run(request(scenario, bare=bare, **inputs), mc=n, seed=seed), "estimate --mc")


def project(scenario: str | None = None, *, bare: bool = False, trajectory: Sequence[str] = (),
            resolution: str | None = None, period: str | None = None, target_tokens: str | float | None = None,
            **inputs: Any) -> ProjectOutput:
    """The horizon with time-varying inputs (`tokencalc project`).

    Args:
        trajectory: `KEY=SPEC` texts as for `--trajectory` (SPEC an inline TOML table).
        resolution: series spacing, e.g. "1 day".
        period: day, week, month, quarter or year.
        target_tokens: report when Q(t) reaches this many tokens.
    """
    from .analysis.horizon import project_request

    req = request(scenario, bare=bare, **inputs)
    return ProjectOutput(project_request(req, trajectory=list(_strings(trajectory)), resolution=resolution,
                                         period=period, target_tokens=target_tokens), "project")


def compare(*scenarios: str, bare: bool = False, hardware: Any = None, facility: Any = None, workload: Any = None,
            lever: Any = None, relative: str = "first", sort: str | None = None, reverse: bool = False,
            skip_errors: bool = False, mc: int | None = None, seed: int = 0, **inputs: Any) -> CompareOutput:
    """Several operating points side by side (`tokencalc compare`).

    Args:
        *scenarios: scenario ids or paths (none: the default scenario).
        hardware, facility, workload, lever: a list (or comma string; 'all') to compare; lever sets join with '+'.
        relative, sort, reverse, skip_errors, mc, seed: as the flags of that name.
    """
    from .analysis.compare import compare as run

    lists = {k: (v if v is None or isinstance(v, str) else ",".join(v)) for k, v in
             (("hardware", hardware), ("facility", facility), ("workload", workload), ("lever", lever))}
    return CompareOutput(run(request(None, bare=bare, **inputs), list(scenarios), lists, relative_to=relative,
                             sort=sort, reverse=reverse, skip_errors=skip_errors, mc=mc, seed=seed), "compare")


def sweep(scenario: str | None = None, *, vary: Any, bare: bool = False, **inputs: Any) -> SweepOutput:
    """A grid over core inputs (`tokencalc sweep`): `vary="pue=1.1:1.6:6"` or a list of such specs."""
    from .analysis.sweep import plan_request

    return SweepOutput(plan_request(request(scenario, bare=bare, **inputs), _strings(vary)), "sweep")


def solve(scenario: str | None = None, *, for_: str, bare: bool = False, **inputs: Any) -> SolveOutput:
    """The value of `for_` at which the regime flips, γ = γ* (`tokencalc solve --for KEY`)."""
    from .analysis.solve import solve_request

    return SolveOutput(solve_request(request(scenario, bare=bare, **inputs), for_), "solve")


def calibrate(power_log: Any, **options: Any) -> CalibrateOutput:
    """Measured power logs + token counts -> measured e_tok, realized K_eff, η_K, η_E, U (`tokencalc calibrate`).

    Args:
        power_log: a path or a list of paths (nvidia-smi CSV or DCGM scrapes); None with `energy=`.
        **options: the calibrate flags' snake_case names (energy — a serving stack's energy report instead
            of power logs —, tokens, bench, token_basis, start, end, idle_power,
            idle_window, log_format, interval, utc_offset, no_counter, c_tok, workload, hardware, precision,
            sm_active_reference, profiles).
    """
    from .calibration.run import run

    return CalibrateOutput(run(_strings(power_log), **options), "calibrate")


__all__ = ["calibrate", "compare", "estimate", "monte_carlo", "project", "request", "solve", "sweep"]
