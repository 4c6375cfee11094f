"""Shared fixtures: a clean environment and an in-process CLI runner."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    # Fixed-width, colourless rich output; no user profile folders leaking in.
    for var in ("NO_COLOR", "FORCE_COLOR", "TOKENCALC_PROFILES", "TOKENCALC_DEBUG", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("TERM", "dumb")


@dataclass
class Run:
    """Outcome of one CLI invocation."""

    code: int
    out: str
    err: str

    def json(self):
        """stdout parsed as JSON."""
        return json.loads(self.out)


@pytest.fixture
def cli(capsys):
    """Call `tokencalc` in-process: cli("estimate", "-f", "json") -> Run."""
    from tokencalc.cli import main

    def run(*args: str) -> Run:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
