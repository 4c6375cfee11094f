"""One fuzz case: the command line, the files it needs, and what the oracle should look at."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

PREEXISTING = b"pre-existing output: must survive without --force\n"


@dataclass
class Case:
    """A `tokencalc` invocation in an empty folder.

    Attributes:
        command: the command path ("estimate", "profiles show", ...), for the counts.
        argv: the arguments after `tokencalc`.
        files: relative path -> bytes, written before the run (folders made as needed).
        dirs: relative folders made before the run (outputs that name a folder, --template).
        outputs: relative paths the command may write (-o, --chart, --write-profile, --save-log).
        preexisting: outputs created beforehand with PREEXISTING (clobbered only with --force).
        json: where JSON is expected on success: "stdout", "jsonl", a relative file, or None.
        env: extra environment variables.
        hostile: whether hostile values could be drawn (else every value is a valid-looking one).
    """

    command: str
    argv: list[str]
    files: dict[str, bytes] = field(default_factory=dict)
    dirs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    preexisting: list[str] = field(default_factory=list)
    json: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    hostile: bool = True

    @property
    def force(self) -> bool:
        """True when the command line asks to replace existing outputs."""
        return "--force" in self.argv

    def shell(self, program: str = "tokencalc") -> str:
        """The command line as a shell would take it."""
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(self.env.items()))
        return (env + " " if env else "") + program + " " + " ".join(shlex.quote(a) for a in self.argv)

    def describe(self) -> str:
        """The command line and the files, for a failure report."""
        lines = [self.shell()]
        for name, blob in sorted(self.files.items()):
            shown = blob[:600].decode("utf-8", "backslashreplace")
            lines.append(f"--- {name} ({len(blob)} bytes){' [cut]' if len(blob) > 600 else ''}\n{shown}")
        lines += [f"--- {p}: pre-existing output" for p in self.preexisting]
        return "\n".join(lines)


@dataclass
class Arg:
    """Part of a command line, with the files it needs."""

    tokens: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    dirs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    preexisting: list[str] = field(default_factory=list)

    def __add__(self, other: "Arg") -> "Arg":
        return Arg(self.tokens + other.tokens, {**self.files, **other.files}, self.dirs + other.dirs,
                   self.outputs + other.outputs, self.preexisting + other.preexisting)


def join(parts: list[Arg]) -> Arg:
    """Concatenate parts in order."""
    out = Arg()
    for p in parts:
        out = out + p
    return out
