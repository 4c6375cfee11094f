"""The README's "From Python" section runs as written, and its shell examples name real commands."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def test_from_python_section_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", section("From Python"), re.S)
    assert blocks, "the From Python section has no code"
    for code in blocks:
        exec(compile(code, "README.md (From Python)", "exec"), {})
    out = capsys.readouterr().out
    assert "compute" in out and "P(power-bound)" in out


def test_the_setup_commands_are_the_makefile_targets():
    text = section("Set-up: two commands")
    makefile = (README.parent / "Makefile").read_text(encoding="utf-8")
    for target in ("demo", "test"):
        assert f"make {target}" in text and re.search(rf"^{target}:", makefile, re.M)
