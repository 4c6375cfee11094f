"""The small languages inside flags: `--set KEY=VALUE`, trajectories, `--vary` specs, `solve --for`.

Trajectories are drawn as Python tables (for a scenario's `[trajectory]`) and as the
inline TOML of `--trajectory 'KEY={ ... }'`. CSV trajectories name `series.csv` or
`series2.csv`, which every case that can read them writes (`series_csv`).
"""

from __future__ import annotations

import datetime as _dt

from functools import lru_cache

from hypothesis import strategies as st

cache = lru_cache(maxsize=None)  # strategies are built once per argument set: drawing is the cost

from tokencalc.analysis.solve import NOT_MEANINGFUL, SOLVABLE
from tokencalc.analysis.sweep import SWEEPABLE
from tokencalc.resolve import schema as S

from . import toml, values as V

# Dotted profile keys a user overrides, with the schema leaf that checks them.
DOTTED = {
    "facility.pue": S.leaf("facility", "pue"), "facility.power": S.leaf("facility", "power"),
    "facility.it_power": S.leaf("facility", "it_power"), "facility.cooling_capacity": S.leaf("facility", "cooling_capacity"),
    "facility.electricity_price": S.leaf("facility", "electricity_price"),
    "workload.measured.e_tok": S.leaf("workload", "measured.e_tok"),
    "workload.measured.throughput_per_device": S.leaf("workload", "measured.throughput_per_device"),
    "workload.measured.device_power": S.leaf("workload", "measured.device_power"),
    "workload.measured.e_tok_boundary": S.leaf("workload", "measured.e_tok_boundary"),
    "workload.operating_point.batch_size": S.leaf("workload", "operating_point.batch_size"),
    "workload.operating_point.context_length": S.leaf("workload", "operating_point.context_length"),
    "workload.operating_point.prefill_share": S.leaf("workload", "operating_point.prefill_share"),
    "workload.operating_point.precision": S.leaf("workload", "operating_point.precision"),
    "workload.model.c_tok": S.leaf("workload", "model.c_tok"), "workload.model.n_layers": S.leaf("workload", "model.n_layers"),
    "workload.service.tpot": S.leaf("workload", "service.tpot"),
    "hardware.tdp": S.leaf("hardware", "tdp"), "hardware.peak_flops.fp16": S.leaf("hardware", "peak_flops.fp16"),
    "hardware.peak_flops.fp8": S.leaf("hardware", "peak_flops.fp8"),
    "hardware.server_power_per_device": S.leaf("hardware", "server_power_per_device"),
    "hardware.hbm_bandwidth": S.leaf("hardware", "hbm_bandwidth"),
    "levers.fp8.e_tok_factor": S.leaf("lever", "e_tok_factor"), "levers.fp8.c_tok_factor": S.leaf("lever", "c_tok_factor"),
    "levers.flashattention.latency_factor": S.leaf("lever", "latency_factor"),
}
BAD_KEYS = ["", " ", "facility.", "facility.puee", "levers.fp8", "levers..x", "a.b.c.d.e", "pué", "override",
            "trajectory", "kind", "name", "sources.default", "workload.quality.mmlu.tolerance", "hardware.peak_flops",
            "levers.nope.e_tok_factor", "devices.x", "\x1b[2J"]
SCENARIO_KEYS = {"allow_operating_point_shift": S.SCENARIO["allow_operating_point_shift"],
                 "whole_token_levers": S.SCENARIO["whole_token_levers"], "levers": S.SCENARIO["levers"],
                 "hardware": S.SCENARIO["hardware"], "start_date": S.SCENARIO["start_date"]}


def _spec(key: str) -> S.Field | None:
    return S.CORE.get(key) or DOTTED.get(key) or SCENARIO_KEYS.get(key)


@cache
def any_key() -> st.SearchStrategy[str]:
    """A key `--set`, `[override]` or `[trajectory]` may name: core, dotted, scenario, or a bad one."""
    core = st.sampled_from(sorted(S.CORE))
    dotted = st.sampled_from(sorted(DOTTED))
    return V.mixed(st.one_of(core, core, dotted, dotted, st.sampled_from(sorted(SCENARIO_KEYS))), st.sampled_from(BAD_KEYS))


@st.composite
def dotted_assignment(draw, toml_value: bool = False) -> tuple[str, object]:
    """(key, value) for `[override]` (a TOML value) or `--set` (text)."""
    key = draw(any_key())
    spec = _spec(key)
    if spec is None:
        return key, draw(st.one_of(st.integers(), st.text(max_size=5)))
    if toml_value:
        from .profiles import leaf

        return key, draw(V.mixed(leaf(spec, key.split(".")[-1], True), leaf(spec, key.split(".")[-1], False)))
    return key, draw(V.field_text(spec, key.split(".")[-1]))


@st.composite
def set_arg(draw) -> str:
    """One `--set` value: KEY=VALUE, or malformed."""
    key, value = draw(dotted_assignment())
    form = draw(V.mixed(st.just("kv"), st.sampled_from(["spaces", "no-eq", "two-eq", "quoted"])))
    if form == "spaces":
        return f" {key} = {value} "
    if form == "no-eq":
        return f"{key}{value}"
    if form == "two-eq":
        return f"{key}={value}={value}"
    if form == "quoted":
        return f'{key}="{value}"'
    return f"{key}={value}"


# --- trajectories -----------------------------------------------------------

TRAJ_KEYS = ["p_it", "p_facility", "pue", "devices", "utilization", "k_eff", "e_tok", "c_tok", "throughput_per_device",
             "kernel_efficiency", "peak_flops", "device_power", "electricity_price", "carbon_intensity",
             "facility.power", "facility.pue", "workload.measured.e_tok", "hardware.peak_flops.fp16",
             "levers.fp8.e_tok_factor", "levers.fp8.c_tok_factor", "horizon", "binding_tolerance", "nope", "facility.x"]
RATES = ["30 percent/year", "-20 percent/year", "130 percent/year", "1 percent/month", "30 percent/(6 month)", "0.3/year",
         "14.7 %/year", "5 percent/day", "0 percent/year"]
BAD_RATES = ["-100 percent/year", "-99.9 percent/year", "1e5 percent/day", "1e300 percent/day", "30 W/year", "30 percent", "30", "percent/year", "30 percent/0 s", "30 percent/(-1 year)",
             "nan percent/year", "inf/year", "30 percent/year/year", "1e-300 percent/s", "9**9**9 percent/year",
             "/"]
TIMES = ["0 day", "30 day", "90 day", "1 year", "2 year", "0 s", "1 ms", "180 day"]
BAD_TIMES = ["-1 day", "1e50 s", "nan s", "10 W", "x", "", "1e-300 s"]


@cache
def time_value() -> st.SearchStrategy[object]:
    """An offset or a date inside a trajectory."""
    good = st.one_of(st.sampled_from(TIMES), st.sampled_from(TIMES), st.dates(_dt.date(2020, 1, 1), _dt.date(2040, 1, 1)),
                     st.integers(0, 400).map(lambda d: f"{d} day"))
    return V.mixed(good, st.one_of(st.sampled_from(BAD_TIMES), st.dates(), st.just(5), st.just(-3)))


@cache
def _target(key: str) -> st.SearchStrategy[object]:
    spec = _spec(key)
    if spec is None:
        return st.one_of(st.integers(), st.text(max_size=4))
    from .profiles import leaf

    return V.mixed(leaf(spec, key, True), leaf(spec, key, False))


@st.composite
def trajectory_spec(draw, key: str) -> dict:
    """A growth, ramp, steps or csv table for `key`, or a malformed one."""
    form = draw(V.mixed(st.sampled_from(["growth", "growth", "ramp", "steps", "csv"]),
                        st.sampled_from(["both", "none", "extra"])))
    if form == "growth":
        spec = {"growth": draw(V.mixed(st.sampled_from(RATES), st.sampled_from(BAD_RATES), 3))}
        for opt in ("start", "until"):
            if draw(st.integers(0, 3)) == 0:
                spec[opt] = draw(time_value())
        return spec
    if form == "ramp":
        spec = {"ramp": draw(_target(key))}
        if draw(st.integers(0, 5)) or not V.hostile_case():
            spec["over"] = draw(time_value())
        if draw(st.integers(0, 3)) == 0:
            spec["start"] = draw(time_value())
        return spec
    if form == "steps":
        steps = draw(st.lists(st.fixed_dictionaries({"at": time_value(), "value": _target(key)}), max_size=4))
        return {"steps": draw(V.mixed(st.just(steps), st.sampled_from([[1, 2], "x", []])))}
    if form == "csv":
        spec = {"csv": draw(V.mixed(st.sampled_from(["series.csv", "series2.csv"]), st.sampled_from(
            ["missing.csv", "/etc/passwd", "../series.csv", "", "prof"])))}
        spec["column"] = draw(V.mixed(st.just("v"), st.sampled_from(["value", "time", "", "nope"])))
        for opt, choices in (("time", ["t", "time", "v", "x"]), ("unit", ["MW", "kW", "1", "J/token", "W", "x"]),
                             ("time_unit", ["day", "year", "s", "W", ""])):
            if draw(st.integers(0, 3)) == 0:
                spec[opt] = draw(st.sampled_from(choices))
        return spec
    if form == "both":
        return {"growth": "30 percent/year", "ramp": 1}
    if form == "none":
        return draw(st.sampled_from([{}, {"over": "1 day"}, {"grow": "30 percent/year"}]))
    return {"growth": draw(st.sampled_from(RATES)), draw(st.sampled_from(["over", "column", "x"])): "1 day"}


def rate_values() -> list[str]:
    """Every growth text drawn (for tests)."""
    return RATES + BAD_RATES


@st.composite
def trajectory_entry(draw) -> tuple[str, object]:
    """(key, spec) for a scenario's `[trajectory]` (sometimes not a table at all)."""
    key = draw(V.mixed(st.sampled_from(TRAJ_KEYS[:-3]), st.sampled_from(TRAJ_KEYS[-3:])))
    if V.hostile_case() and draw(st.integers(0, 12)) == 0:
        return key, draw(st.one_of(st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2)))
    return key, draw(trajectory_spec(key))


@st.composite
def trajectory_arg(draw) -> str:
    """One `--trajectory KEY={ ... }` value, or a malformed one."""
    key, spec = draw(trajectory_entry())
    text = toml.value(spec)
    form = draw(V.mixed(st.just("ok"), st.sampled_from(["no-eq", "broken", "scalar", "deep"]), 8))
    if form == "deep":
        depth = draw(st.sampled_from([50, 600, 3000]))
        return f"{key}=" + "{ a = " * depth + "1" + " }" * depth
    if form == "no-eq":
        return key + text
    if form == "broken":
        return f"{key}={text[:-1]}"
    if form == "scalar":
        return f"{key}=5"
    return f"{key}={text}"


@st.composite
def series_csv(draw) -> bytes:
    """A trajectory time series: a header and rows of times and values, sometimes broken."""
    t_col = draw(st.sampled_from(["t", "time", "day"]))
    rows = draw(st.lists(st.tuples(st.integers(0, 3000), V.number_text(-1, 7)), min_size=0, max_size=12))
    rows.sort(key=lambda r: r[0]) if draw(st.integers(0, 4)) else None
    unit = draw(st.sampled_from(["", "", " MW", " kW", " W", " day", " J/token"]))
    time_fmt = draw(st.sampled_from(["{} day", "{}", "2025-01-01"]))
    lines = [f"{t_col},v"] + [f"{time_fmt.format(t)},{v}{unit}" for t, v in rows]
    text = "\n".join(lines) + "\n"
    mode = draw(V.mixed(st.just("ok"), st.sampled_from(["bytes", "empty", "noheader", "ragged"])))
    if mode == "bytes":
        return draw(st.binary(max_size=100))
    if mode == "empty":
        return b""
    if mode == "noheader":
        return "\n".join(lines[1:]).encode()
    if mode == "ragged":
        return (text + "1,2,3\n,\n").encode()
    return text.encode()


# --- sweep and solve --------------------------------------------------------

@st.composite
def vary_arg(draw) -> tuple[str, int]:
    """One `--vary` value and the number of points it asks for (for keeping grids small)."""
    key = draw(V.mixed(st.sampled_from(SWEEPABLE), st.sampled_from(["input_output_ratio", "nope", "", "P_IT", "token_basis"])))
    spec = S.CORE.get(key, S.CORE["pue"])
    point = V.valid_quantity(spec, key) if spec.type == "quantity" else V.valid_count(key).map(str)
    form = draw(V.mixed(st.sampled_from(["lin", "lin", "log", "list", "list", "one"]), st.just("bad")))
    n = draw(V.mixed(st.integers(2, 40), st.sampled_from([0, 1, -3, 5000, 10**7 + 1, 10**12]), 3))
    a, b = draw(point), draw(point)
    if form in ("lin", "log"):
        pre = "log:" if form == "log" else draw(st.sampled_from(["", "", "lin:", "linear:"]))
        count = draw(V.mixed(st.just(str(n)), st.sampled_from(["1.5", "x", "", "1e3"])))
        return f"{key}={pre}{a}:{b}:{count}", max(n, 1)
    if form == "list":
        items = draw(st.lists(point, min_size=1, max_size=6))
        return f"{key}={','.join(items)}", len(items)
    if form == "one":
        return f"{key}={a}", 1
    return draw(st.sampled_from([f"{key}", f"{key}=", f"{key}=::", f"{key}={a}:{b}", f"{key}=log:{a}",
                                 f"{key}={a},,{b}", f"{key}=log:-1 W:{b}:5", f"={a}"])), 1


@cache
def for_arg() -> st.SearchStrategy[str]:
    """A `solve --for` key: solvable, refused as not meaningful, or unknown."""
    return V.mixed(st.sampled_from(SOLVABLE), st.one_of(st.sampled_from(sorted(NOT_MEANINGFUL)), st.sampled_from(
        ["nope", "", "P_IT", "p-it", "token_basis", "precision", "e_tok_boundary"])))
