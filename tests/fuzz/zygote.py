"""A fork server for fast campaigns: the CLI's start-up imports done once, then one fork per case.

Starting `tokencalc` costs ~0.3 s of imports (typer, rich, the option tables), more than
most cases spend running. The zygote imports them once; for each case it forks a child
that does what the console script does in a fresh process: a new session, the memory
cap, the case's folder and environment, stdin from /dev/null, stdout and stderr to files,
the write-audit hook, `sys.exit(tokencalc.cli.main())`, exit handlers, `os._exit`. The
parent enforces the time cap (SIGKILL to the child's process group).

Run as a script (`python zygote.py`), one request per line on stdin (JSON: argv, cwd, env,
out, err, timeout, memory), one answer per line on stdout (JSON: code or null, elapsed).
`runner.run(..., executor="exec")` runs the console script itself instead (the reference).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time

AUDIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "audit", "sitecustomize.py")
PRELOAD = ("tokencalc.cli.root", "tokencalc.cli.options", "tokencalc.render.text", "tokencalc.render.terminal")


def _child(req: dict) -> None:
    """In the forked child: become the CLI process of one case. Never returns."""
    code = 1
    try:
        os.setsid()
        resource.setrlimit(resource.RLIMIT_AS, (req["memory"], req["memory"]))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.chdir(req["cwd"])
        os.environ.clear()
        os.environ.update(req["env"])
        for fd, path, flags in ((0, os.devnull, os.O_RDONLY), (1, req["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                                (2, req["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
            new = os.open(path, flags, 0o644)
            os.dup2(new, fd)
            os.close(new)
        import runpy
        import tempfile

        tempfile.tempdir = None  # TMPDIR is the case's
        runpy.run_path(AUDIT)    # what PYTHONPATH=audit does for an exec'd process
        sys.argv = ["tokencalc", *req["argv"]]
        code = _console_script()
    finally:
        os._exit(code)


def _console_script() -> int:
    """`sys.exit(main())` and interpreter shutdown, as the `tokencalc` script would run them."""
    import atexit
    import traceback

    try:
        from tokencalc.cli import main

        rc = main()
        code = 0 if rc is None else rc
    except SystemExit as exc:
        code = exc.code
        if code is None:
            code = 0
        elif not isinstance(code, int):
            sys.stderr.write(f"{code}\n")
            code = 1
    except BaseException:  # noqa: BLE001 - as the interpreter: print it, status 1
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()  # noqa: SLF001 - what interpreter shutdown runs
        sys.stdout.flush()
    except BrokenPipeError:
        code = 120
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
    try:
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001
        pass
    return code


def _wait(pid: int, timeout: float) -> int | None:
    """The child's exit code (negative: killed by a signal), or None after killing it at the deadline."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() > deadline:
            _kill(pid)
            os.waitpid(pid, 0)
            code = None
            break
        time.sleep(delay)
        delay = min(delay * 1.5, 0.01)
    _kill(pid)  # whatever the command left running
    return code


def _kill(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def serve() -> None:
    """Import the CLI once, then fork one child per request line."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    out = sys.stdout
    for line in sys.stdin:
        req = json.loads(line)
        out.flush()
        sys.stderr.flush()
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            _child(req)
        code = _wait(pid, req["timeout"])
        out.write(json.dumps({"code": code, "elapsed": time.perf_counter() - t0}) + "\n")
        out.flush()


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]  # no module here shadows another
    serve()
