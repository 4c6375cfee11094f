"""`tokencalc solve`: closed forms against analytic values, root finding, no-crossover cases, exit codes."""

from __future__ import annotations

import math

import pytest

from tokencalc.analysis import solve as V
from tokencalc.errors import InputError

# K_eff / c_tok = 1e5 token/s; P_IT / e_tok = 800 kW / 3 J = 266,667 token/s: compute-bound.
BARE = ["--bare", "--k-eff", "1.3e16 FLOP/s", "--c-tok", "1.3e11 FLOP/token", "--e-tok", "3 J/token"]


def solve_json(cli, *args):
    r = cli("solve", *args, "-f", "json")
    assert r.code == 0, r.err
    return r.json()


def ceilings(cli, *args):
    r = cli("estimate", *args, "-f", "json")
    assert r.code == 0, r.err
    v = r.json()
    return v["compute_ceiling_tokens_per_s"], v["power_ceiling_tokens_per_s"]


@pytest.mark.parametrize("key, args, expected", [
    ("p_it", ["--p-it", "800 kW"], 300e3),                                  # K e / c
    ("p_facility", ["--p-facility", "2 MW", "--pue", "1.25"], 375e3),       # PUE K e / c
    ("pue", ["--p-facility", "2 MW", "--pue", "1.25"], 2e6 / 300e3),        # P_fac c / (K e)
    ("e_tok", ["--p-it", "800 kW"], 8.0),                                   # P_IT c / K
    ("k_eff", ["--p-it", "800 kW"], 800e3 * 1.3e11 / 3),                    # P_IT c / e
])
def test_closed_forms_match_the_analytic_values(cli, key, args, expected):
    d = solve_json(cli, *BARE, *args, "--for", key)
    assert d["crossover"] is True and d["method"] == "closed form"
    assert d["value"] == pytest.approx(expected, rel=1e-12)
    assert d["check"]["relative_gap"] <= 1e-9
    assert d["binding_now"] == "compute"


def test_devices_gives_the_planner_sentence(cli):
    args = ["--bare", "--devices", "1000", "--throughput-per-device", "100 token/s", "--c-tok", "1.3e11 FLOP/token",
            "--e-tok", "3 J/token", "--p-it", "800 kW"]
    d = solve_json(cli, *args, "--for", "devices")
    assert d["value"] == pytest.approx(1000 * (800e3 / 3) / 1e5, rel=1e-12)   # N Q̇_P / Q̇_K = 2666.7
    assert d["max_devices"] == 2666 and d["binding_above"] == "power"
    table = cli("solve", *args, "--for", "devices").out
    assert "can feed at most 2,666 devices" in " ".join(table.split())


def test_solution_reevaluated_by_estimate_has_equal_ceilings(cli):
    d = solve_json(cli, "--for", "p_facility")
    qk, qp = ceilings(cli, "--p-facility", f"{d['value']!r} W")
    assert abs(qk - qp) / max(qk, qp) <= 1e-9
    assert d["binding_above"] == "compute" and d["binding_below"] == "power"


def test_root_finding_for_a_linear_dependence_hits_the_analytic_value(cli):
    # modeled K_eff = N peak eta: eta* = (P_IT / e) c / (N peak) = 266,667 x 1.3e11 / 1e18
    args = ["--bare", "--devices", "1000", "--peak-flops", "1 PFLOP/s", "--c-tok", "1.3e11 FLOP/token",
            "--e-tok", "3 J/token", "--p-it", "800 kW"]
    d = solve_json(cli, *args, "--for", "kernel_efficiency")
    assert d["method"] == "root finding"
    assert d["value"] == pytest.approx(800e3 / 3 * 1.3e11 / 1e18, rel=1e-12)
    assert d["current_value"] is None


def test_root_finding_through_the_roofline_cap(cli):
    # The default scenario's workload has the roofline data: modeled K_eff = min(N peak eta, roofline).
    d = solve_json(cli, "--for", "kernel_efficiency")
    assert d["crossover"] is True and d["method"] == "root finding"
    qk, qp = ceilings(cli, "--kernel-efficiency", repr(d["value"]))
    assert abs(qk - qp) / max(qk, qp) <= 1e-9


def test_no_crossover_when_pue_would_have_to_be_below_one(cli):
    d = solve_json(cli, *BARE, "--p-facility", "100 kW", "--pue", "1.2", "--for", "pue")
    assert d["crossover"] is False and d["value"] is None
    assert "would have to be" in d["reason"] and ">= 1" in d["reason"]


def test_no_crossover_when_the_dependence_cancels(cli):
    # Realized K_eff = N r c_tok: the compute ceiling N r does not depend on c_tok, nor does the power ceiling.
    d = solve_json(cli, "--for", "c_tok")
    assert d["crossover"] is False and "neither ceiling" in d["reason"] and "N·r" in d["reason"]


@pytest.mark.parametrize("key, words", [
    ("utilization", "never moves the crossover"),
    ("horizon", "totals only"),
    ("pu", "did you mean 'pue'"),
    ("precision", "not a number"),
])
def test_keys_without_a_crossover_exit_2(cli, key, words):
    r = cli("solve", "--for", key)
    assert r.code == 2 and words in r.err


def test_a_flag_answering_the_same_question_states_the_current_value(cli):
    d = solve_json(cli, *BARE, "--p-facility", "2 MW", "--pue", "1.25", "--for", "p_it")
    assert d["current_value"] == pytest.approx(1.6e6) and d["value"] == pytest.approx(300e3, rel=1e-12)
    assert cli("solve").code == 2


def test_fail_if_uses_the_binding_now(cli):
    assert cli("solve", *BARE, "--p-it", "800 kW", "--for", "p_it", "--fail-if", "compute-bound").code == 3
    assert cli("solve", *BARE, "--p-it", "800 kW", "--for", "p_it", "--fail-if", "power-bound").code == 0


def test_json_keys(cli):
    d = solve_json(cli, *BARE, "--p-it", "800 kW", "--for", "p_it")
    assert d["schema"] == "tokencalc.solve/1" and d["key"] == "p_it" and d["unit"] == "W"
    assert d["current_value"] == 800e3
    assert d["message"].startswith("Above 300.0 kW of IT power the deployment is compute-bound")


def test_refine_finds_an_analytic_root():
    f = lambda x: math.log(x) - math.log(math.pi)  # noqa: E731
    assert V._refine(f, 1.0, 10.0, f(1.0), f(10.0)) == pytest.approx(math.pi, rel=1e-14)
    g = lambda x: x ** 3 - 2.0  # noqa: E731 - not linear in log x
    assert V._refine(g, 0.1, 100.0, g(0.1), g(100.0)) == pytest.approx(2 ** (1 / 3), rel=1e-13)


def test_check_key():
    assert V.check_key("p-facility") == "p_facility"
    with pytest.raises(InputError, match="did you mean 'devices'"):
        V.check_key("device")
