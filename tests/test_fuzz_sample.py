"""A fixed-seed sample of the fuzz harness (tests/fuzz) in the normal suite.

FUZZ_CASES cases (default 300), drawn with hypothesis' derandomized stream, each run as
the installed `tokencalc` in a subprocess (time and memory capped, in a temporary folder)
and judged by the harness's oracle. The full campaign is `make fuzz` (10,000 cases).
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest

from fuzz import campaign, commands, oracle, runner
from fuzz.case import PREEXISTING, Case

SAMPLE = int(os.environ.get("FUZZ_CASES", "300"))
HARNESS = Path(__file__).parent / "fuzz"


@pytest.fixture(scope="module")
def sample() -> campaign.Tally:
    cases = campaign.generate(SAMPLE)  # derandomized: the same cases on every run
    return campaign.run_all(cases, jobs=min(os.cpu_count() or 2, 2), executor="fork")


@pytest.mark.parametrize("command", sorted(commands.WEIGHTS))
def test_fuzz_sample_has_no_failure(sample, command):
    failures = [campaign.describe(o, f) for o, f in sample.failures if o.case.command == command]
    assert not failures, f"{len(failures)} failing case(s):\n\n" + "\n\n".join(failures[:5])


def test_the_sample_reaches_every_command_and_the_model(sample):
    assert sample.cases == SAMPLE
    if SAMPLE >= 300:
        assert set(sample.by_command) >= set(commands.WEIGHTS) - {"measure", "profiles docs", "schema"}
        assert sample.by_exit["0"] > SAMPLE // 5 and sample.by_exit["2"] > SAMPLE // 5
        assert sample.checked["estimate identities"] > 10


def test_every_flag_of_every_command_is_fuzzed():
    assert commands.missing_strategies() == []


def test_the_harness_modules_and_functions_are_small():
    for path in sorted(HARNESS.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert text.count("\n") <= 500, path
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno - node.lineno + 1 <= 80, f"{path.name}:{node.lineno} {node.name}"


def outcome(code: int, err: str = "", out: str = "", **case) -> runner.Outcome:
    c = Case(case.pop("command", "estimate"), case.pop("argv", ["estimate"]), **case)
    return runner.Outcome(c, code, out.encode(), err, 0.1)


GOOD = {"compute_ceiling_tokens_per_s": 83000.0, "power_ceiling_tokens_per_s": 234623.76, "utilization": 0.7,
        "token_rate_tokens_per_s": 58100.0, "binding": "compute", "binding_tolerance": 0.01, "horizon_s": 10.0,
        "tokens_total": 581000.0, "e_tok_j_per_token": 5.0, "energy_it_j": 2905000.0,
        "gamma_j_per_flop": 5.0 / 1.33e11, "gamma_star_j_per_flop": (234623.76 * 5.0) / (83000.0 * 1.33e11)}


@pytest.mark.parametrize("change,check", [
    ({"token_rate_tokens_per_s": 58000.0}, "identity"), ({"binding": "power"}, "identity"),
    ({"binding": "balanced", "binding_tolerance": 0.9}, None), ({"tokens_total": 1.0}, "identity"),
    ({"energy_it_j": 1.0}, "identity"), ({"gamma_j_per_flop": 1.0}, "identity"), ({}, None)])
def test_the_oracle_checks_the_production_function(change, check):
    doc = {**GOOD, **change}
    o = outcome(0, out=json.dumps(doc), json="stdout")
    assert {c for c, _ in oracle.check(o)} == ({check} if check else set())


@pytest.mark.parametrize("code,err,out,want", [
    (2, "tokencalc: error: one line\n", "", []),
    (2, "tokencalc: warning: w\ntokencalc: error: x\n", "", []),
    (2, "tokencalc: error: a\x0cb\n", "", ["error-line"]),
    (2, "Error: x\n", "", ["error-line"]),
    (1, "tokencalc: error: internal error: KeyError\n", "", ["exit-code", "internal-error"]),
    (0, "", '{"x": NaN}', ["json"]),
    (0, "", "{", ["json"]),
    (0, "Traceback (most recent call last):\n", "{}", ["traceback"]),
    (-9, "", "", ["exit-code"]),
])
def test_the_oracle_checks_exit_codes_errors_and_json(code, err, out, want):
    o = outcome(code, err, out, json="stdout", command="schema", argv=["schema", "hardware"])
    assert sorted(c for c, _ in oracle.check(o)) == sorted(want)


def test_the_oracle_sees_clobbers_writes_outside_and_stray_files():
    o = outcome(0, preexisting=["out.csv"])
    o.after = {"out.csv": b"new", ".out.csv.x.tmp": b""}
    o.audit = ["open /etc/x"]
    assert sorted(c for c, _ in oracle.check(o)) == ["clobber", "outside-write", "stray-temp"]
    o = outcome(0, preexisting=["out.csv"], argv=["estimate", "--force"])
    o.after = {"out.csv": b"new"}
    assert oracle.check(o) == []
    o = outcome(2, "tokencalc: error: x\n", preexisting=["out.csv"])
    o.before, o.after = {"out.csv": PREEXISTING}, {"out.csv": PREEXISTING, "new.csv": b"x"}
    assert [c for c, _ in oracle.check(o)] == ["wrote-on-error"]


def test_fork_and_exec_executors_agree():
    cases = campaign.generate(16, seed=7)
    a = campaign.run_all(cases, jobs=2, executor="fork")
    b = campaign.run_all(cases, jobs=2, executor="fork")
    assert a.by_exit == b.by_exit and a.by_command == b.by_command
