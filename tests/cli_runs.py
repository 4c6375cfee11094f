"""Run the CLI in-process with capsys: (exit code, stdout, stderr), or the JSON document of a success."""

from __future__ import annotations

import json

from tokencalc.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    """Call the CLI; return (exit code, stdout, stderr)."""
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *args: str) -> dict:
    """`args` with --format json; asserts success and returns the parsed document."""
    code, out, err = run(capsys, *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)
