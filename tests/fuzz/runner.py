"""Run one case: the real `tokencalc` in a subprocess, in a fresh folder, with a time and a memory cap.

Layout of one case under the session folder ROOT:

    ROOT/cache/          shared by all cases: matplotlib and fontconfig caches (allowed writes)
    ROOT/cN/work/        the current folder: the case's files, its outputs
    ROOT/cN/home, tmp/   HOME and TMPDIR
    ROOT/cN/audit.log    writes outside ROOT/cN and ROOT/cache (see audit/sitecustomize.py)
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .case import PREEXISTING, Case

TIMEOUT_S = float(os.environ.get("FUZZ_TIMEOUT", "20"))
MEMORY_BYTES = int(os.environ.get("FUZZ_MEMORY", str(2 * 1024 ** 3)))
AUDIT_DIR = Path(__file__).resolve().parent / "audit"
ZYGOTE = Path(__file__).resolve().parent / "zygote.py"
EXECUTOR = os.environ.get("FUZZ_EXECUTOR", "exec")   # "exec": the console script; "fork": the zygote (zygote.py)
# Another copy of the package to fuzz (e.g. `git archive HEAD` unpacked): put before the installed one.
CODE_PATH = os.environ.get("FUZZ_PYTHONPATH", "")


@dataclass
class Outcome:
    """What one run gave."""

    case: Case
    code: int | None                   # None: timed out
    stdout: bytes
    stderr: str
    elapsed: float
    audit: list[str] = field(default_factory=list)
    before: dict[str, bytes] = field(default_factory=dict)   # work folder before (path -> bytes)
    after: dict[str, bytes] = field(default_factory=dict)    # and after
    work: Path | None = None
    stats: dict[str, int] = field(default_factory=dict)       # what the oracle checked (JSON documents, estimates)

    @property
    def timed_out(self) -> bool:
        return self.code is None


def command() -> list[str]:
    """The installed console script beside this interpreter (else `python -m tokencalc`)."""
    script = Path(sys.executable).parent / "tokencalc"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tokencalc"]


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def environment(root: Path, case_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    """A small, fixed environment: no user profile folders, caches in ROOT/cache, the audit hook loaded."""
    cache = root / "cache"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "HOME": str(case_dir / "home"), "TMPDIR": str(case_dir / "tmp"), "XDG_CACHE_HOME": str(cache),
        "MPLCONFIGDIR": str(cache / "matplotlib"), "COLUMNS": "120", "TERM": "dumb",
        "PYTHONPATH": os.pathsep.join(p for p in (CODE_PATH, str(AUDIT_DIR)) if p), "PYTHONDONTWRITEBYTECODE": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "FUZZ_AUDIT_LOG": str(case_dir / "audit.log"), "FUZZ_ALLOW": os.pathsep.join([str(case_dir), str(cache)]),
    }
    env.update(extra)
    return env


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative path -> its first MiB; folders as b'<dir>')."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), folder) + "/"] = b"<dir>"
        for f in filenames:
            p = os.path.join(dirpath, f)
            try:
                with open(p, "rb") as fh:
                    out[os.path.relpath(p, folder)] = fh.read(1 << 20)
            except OSError:
                out[os.path.relpath(p, folder)] = b"<unreadable>"
    return out


def prepare(case: Case, case_dir: Path) -> Path:
    """Make the case folder and write the case's files, folders and pre-existing outputs."""
    work = case_dir / "work"
    for d in (work, case_dir / "home", case_dir / "tmp"):
        d.mkdir(parents=True, exist_ok=True)
    for name, blob in case.files.items():
        p = work / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if not p.is_dir():
            p.write_bytes(blob)
    for d in case.dirs:
        (work / d).mkdir(parents=True, exist_ok=True)
    for name in case.preexisting:
        p = work / name
        if not p.exists():
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(PREEXISTING)
    return work


def run_exec(case: Case, work: Path, env: dict[str, str]) -> tuple[int | None, bytes, bytes]:
    """The console script in a new process: `preexec_fn` sets the memory cap, a new session the kill scope."""
    proc = subprocess.Popen(command() + case.argv[:], cwd=work, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_limits, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        code = None
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # anything the command left behind
        except ProcessLookupError:
            pass
    return code, out, err


class Zygote:
    """A client of one fork server (zygote.py); one per worker thread."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, str(ZYGOTE)], env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)

    def run(self, argv: list[str], work: Path, env: dict[str, str], case_dir: Path) -> tuple[int | None, bytes, bytes]:
        out, err = case_dir / "stdout", case_dir / "stderr"
        req = {"argv": argv, "cwd": str(work), "env": env, "out": str(out), "err": str(err), "timeout": TIMEOUT_S,
               "memory": MEMORY_BYTES}
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        return answer["code"], out.read_bytes(), err.read_bytes()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


_ZYGOTES: dict[int, Zygote] = {}   # thread id -> its fork server


def run_fork(case: Case, work: Path, env: dict[str, str], root: Path, case_dir: Path) -> tuple[int | None, bytes, bytes]:
    """The CLI in a child forked from this thread's zygote (started on first use)."""
    z = _ZYGOTES.get(threading.get_ident())
    if z is None:
        base = {k: v for k, v in environment(root, root / "zygote", {}).items() if not k.startswith("FUZZ_")}
        base["PYTHONPATH"] = CODE_PATH  # the audit hook is loaded by each child, not by the zygote
        z = _ZYGOTES[threading.get_ident()] = Zygote(base)
    return z.run(case.argv, work, env, case_dir)


def close_zygotes() -> None:
    """Stop every fork server started so far."""
    while _ZYGOTES:
        _ZYGOTES.popitem()[1].close()


def run(case: Case, root: Path, index: int, keep: bool = False, executor: str | None = None) -> Outcome:
    """Run one case under ROOT/c<index> and clean up after it (unless `keep`)."""
    case_dir = root / f"c{index}"
    work = prepare(case, case_dir)
    before = snapshot(work)
    env = environment(root, case_dir, case.env)
    t0 = time.perf_counter()
    if (executor or EXECUTOR) == "fork":
        code, out, err = run_fork(case, work, env, root, case_dir)
    else:
        code, out, err = run_exec(case, work, env)
    elapsed = time.perf_counter() - t0
    log = case_dir / "audit.log"
    audit = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
    after = snapshot(work)
    if case.json and case.json.startswith(("file:", "jsonl-file:")):  # the JSON checked whole, not its first MiB
        target = work / case.json.split(":", 1)[1]
        if target.is_file():
            after[case.json.split(":", 1)[1]] = target.read_bytes()
    outcome = Outcome(case, code, out, err.decode("utf-8", "replace"), elapsed, audit, before, after, work)
    if not keep:
        shutil.rmtree(case_dir, ignore_errors=True)
    return outcome
