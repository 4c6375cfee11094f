"""One evaluation path: every command that evaluates the production function agrees with `estimate`.

For every bundled scenario and for edge cases (inside the balanced band, a null ceiling, a lever
not counted, boundary and token-basis conversions): estimate = project at constant inputs = a
one-point sweep = a degenerate Monte Carlo = a compare row; solve's answer, re-evaluated, lies on
the boundary.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tokencalc.analysis import horizon as HZ
from tokencalc.analysis import sweep as W
from tokencalc.analysis import uncertainty as U
from tokencalc.analysis.compare import compare
from tokencalc.analysis.solve import solve_request
from tokencalc.core import estimate, with_values
from tokencalc.core import fields as F
from tokencalc.resolve.profiles import list_profiles, search_dirs
from tokencalc.resolve.scenario import Request, resolve, resolve_with

SCENARIOS = sorted(e.id for e in list_profiles("scenario", search_dirs()))
BARE = {"k_eff": "1.3e16 FLOP/s", "c_tok": "1.3e11 FLOP/token", "e_tok": "3 J/token", "utilization": "0.7"}


def _workload(tmp_path, body: str) -> str:
    path = tmp_path / "w.toml"
    path.write_text('kind = "workload"\nname = "w"\n' + body)
    return str(path)


EDGE = {
    # Q̇_K = 1e5, Q̇_P = 99,500: inside the 1 % balanced band
    "balanced band": lambda tmp: Request(bare=True, flags={**BARE, "p_it": "298500 W"}),
    # no delivered power: no power ceiling, binding unknown
    "null ceiling": lambda tmp: Request(bare=True, flags=dict(BARE)),
    # a lever that breaks the quality tolerance: not counted
    "lever not counted": lambda tmp: Request(scenario="default", levers=["int4-awq"],
                                             sets=["workload.quality.mmlu.tolerance=0.01"]),
    # a one-phase lever with a prefill/decode split, and a both-phase one
    "levers on phases": lambda tmp: Request(refs={"workload": "llama-3.1-70b"},
                                            levers=["pagedattention", "kv-eviction", "fp8"],
                                            sets=["workload.operating_point.prefill_share=0.3"]),
    # e_tok at the accelerator boundary, converted with the hardware's server/board power ratio
    "boundary conversion": lambda tmp: Request(bare=True, refs={"hardware": "h100-sxm"},
                                               flags={"devices": "8", "precision": "fp16", "c_tok": "1.3e11 FLOP/token",
                                                      "throughput_per_device": "900 token/s", "e_tok": "1 J/token",
                                                      "e_tok_boundary": "accelerator", "p_it": "20 kW"}),
    # a measured e_tok and throughput on the total-token basis, converted with the declared ratio
    "token basis conversion": lambda tmp: Request(bare=True, refs={"workload": _workload(tmp, (
        '[model]\nc_tok = "1e10 FLOP/token"\n[operating_point]\ninput_output_ratio = 3\n'
        '[measured]\ne_tok = "0.5 J/token"\nthroughput_per_device = "4000 token/s"\ntoken_basis = "total"\n'))},
        flags={"devices": "64", "p_it": "100 kW", "utilization": "0.6"}),
    # idle capacity, requests, the ladder's rack rung, owned hardware, the building, embodied carbon, water
    "idle, requests and costs": lambda tmp: Request(scenario="default", flags={
        "idle_power": "70 W", "input_tokens": "1000", "output_tokens": "250", "rack_overhead": "1.05",
        "device_price": "25000 USD", "lifetime": "5 year", "capex_per_it_power": "10000 USD/kW",
        "facility_lifetime": "20 year", "opex_per_it_power": "300 USD/kW/year", "embodied_carbon": "1.5 tCO2e",
        "wue": "1.8 L/kWh", "grid_water_intensity": "3 L/kWh"}),
    # a rental: all-in, the bill shown but not added
    "rented": lambda tmp: Request(scenario="default", flags={"ownership": "rented", "idle_power": "60 W"}),
}

CASES = [(s, (lambda tmp, s=s: Request(scenario=s))) for s in SCENARIOS] + list(EDGE.items())
KEYS = ("compute_ceiling_tokens_per_s", "power_ceiling_tokens_per_s", "token_rate_tokens_per_s",
        "gamma_j_per_flop", "gamma_star_j_per_flop", "tokens_total", "energy_it_j", "energy_facility_j",
        "cost_usd", "emissions_kg_co2e", "energy_idle_it_j", "energy_cost_usd", "capex_usd", "opex_usd",
        "embodied_kg_co2e", "water_l", "requests_per_s", "energy_per_request_j")
TOTALS = ("tokens_total", "energy_it_j", "energy_facility_j", "cost_usd", "emissions_kg_co2e", "energy_cost_usd",
          "capex_usd", "opex_usd", "embodied_kg_co2e", "water_l")


def close(a, b, rel=1e-9):
    if a is None or b is None:
        return a is None and b is None
    return a == pytest.approx(b, rel=rel)


@pytest.fixture(params=CASES, ids=[c[0] for c in CASES])
def case(request, tmp_path):
    name, make = request.param
    req = make(tmp_path)
    return name, req, resolve(req), estimate(resolve(req).inputs)


def test_project_at_constant_inputs_equals_estimate(case):
    name, req, res, est = case
    v = est.values
    if v["token_rate_tokens_per_s"] is None:
        with pytest.raises(Exception, match="token rate is unknown"):
            HZ.project(res, trajectories=[])
        return
    p = HZ.project(res, trajectories=[])
    for key in TOTALS:
        assert close(p.totals[key], v[key], 1e-9), key
    share = {"power": "power_bound_share", "compute": "compute_bound_share", "balanced": "balanced_share"}
    assert p.totals[share[v["binding"]]] == 1.0
    assert set(p.binding.tolist()) == {v["binding"]} and p.switches == []
    assert close(p.start["compute_ceiling_tokens_per_s"], v["compute_ceiling_tokens_per_s"], 1e-12)


def test_a_one_point_sweep_equals_estimate(case):
    name, req, res, est = case
    v = est.values
    key = "utilization"
    plan = W.plan_request(replace(req, flags={k: x for k, x in req.flags.items() if k != key}),
                          [f"{key}={v['utilization']!r}"])
    cols, summary = W.evaluate_all(plan)
    for k in ("compute_ceiling_tokens_per_s", "power_ceiling_tokens_per_s", "token_rate_tokens_per_s",
              "gamma_j_per_flop", "gamma_star_j_per_flop", "tokens_total", "energy_facility_j"):
        got = None if cols[k] is None else float(cols[k][0])
        assert close(got, v[k], 1e-12), k
    label = None if cols["binding"] is None else ("compute", "power", "balanced")[int(cols["binding"][0])]
    assert label == v["binding"]


def test_a_degenerate_monte_carlo_equals_estimate(case):
    name, req, res, est = case
    v = est.values
    ranged = U.collect(res).inputs
    r = U.evaluate(res.inputs, ranged, [x.mode for x in ranged])   # every range at its mode
    for key in KEYS:
        got = r[F.field(key).engine]
        assert close(None if got is None else float(got), v[key], 1e-12), key
    mc = U.monte_carlo(replace(res, scenario=res.scenario), 64, 0)
    if not mc.has_ranges:
        for key in ("token_rate_tokens_per_s", "tokens_total"):
            assert all(close(q, v[key], 1e-12) for q in mc.percentiles[key].values())
        shares = {"power": mc.p_power_bound, "compute": mc.p_compute_bound, "balanced": mc.p_balanced}
        assert (shares[v["binding"]] == 1.0) if v["binding"] else mc.p_power_bound is None


def test_a_compare_row_equals_estimate(case):
    name, req, res, est = case
    row = compare(replace(req, scenario=None), [req.scenario] if req.scenario else []).to_dict()[0]
    json_est = est.to_json()
    assert {k: row[k] for k in json_est} == json_est


def test_solve_answers_lie_on_the_boundary(case):
    name, req, res, est = case
    if est.values["binding"] is None:
        return
    for key in ("p_it", "pue", "devices", "e_tok"):
        try:
            solved = solve_request(req, key)
        except Exception:  # a key this scenario cannot be solved for (e.g. PUE with P_IT given)
            continue
        sol = solved.solution
        if not sol.exists:
            continue
        # resolved with the answer as the flag (counts are whole there), then the exact answer set
        inputs = resolve_with(req, {key: sol.value}, replace_partners=True).inputs
        at = estimate(with_values(inputs, **{key: sol.value})).values
        qk, qp = at["compute_ceiling_tokens_per_s"], at["power_ceiling_tokens_per_s"]
        assert abs(qk - qp) <= 1e-9 * max(qk, qp), (key, qk, qp)
        assert at["binding"] == "balanced"


def test_the_binding_is_the_same_classifier_everywhere():
    res = resolve(EDGE["balanced band"](None))
    v = estimate(res.inputs).values
    assert v["binding"] == "balanced"
    p = HZ.project(res, trajectories=[])
    assert p.totals["balanced_share"] == 1.0 and set(p.binding.tolist()) == {"balanced"}
    mc = U.monte_carlo(res, 16, 0)
    assert mc.p_balanced == 1.0
    plan = W.plan_request(Request(bare=True, flags={k: x for k, x in BARE.items() if k != "utilization"}
                                  | {"p_it": "298500 W"}), ["utilization=0.7"])
    cols, summary = W.evaluate_all(plan)
    assert summary.counts == [0, 0, 1]
    assert np.asarray(cols["binding"]).tolist() == [2]
