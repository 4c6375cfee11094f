"""Work done in a forked child that leaves without tearing anything down (the PDF render, see `pdf`).

A short-lived CLI pays, at exit, for freeing what it built: WeasyPrint's layout tree
(tens of thousands of objects in reference cycles) and the modules of WeasyPrint,
matplotlib and numpy. A forked child that sends its result through a pipe and leaves
with `os._exit` skips all of that, and the parent, which never imports those
libraries, exits as fast as `tokencalc estimate`. The child never runs the cyclic
garbage collector (its few cycles are freed by its exit; about 1 MB more for the
default report, a tenth less time). Meanwhile the parent prepares the
child's input (the HTML, while the child imports WeasyPrint). Only on Linux, and only
with no other thread running (a fork copies just the calling thread); anywhere else,
and whenever the child fails, `run` returns None and the caller does the work itself,
which raises the real error.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
from typing import Callable


def can_fork() -> bool:
    """Whether forking is safe and worth it here (Linux, no other Python thread)."""
    return hasattr(os, "fork") and sys.platform.startswith("linux") and threading.active_count() == 1


def run(work: Callable[[Callable[[], bytes]], bytes], given: Callable[[], bytes]) -> bytes | None:
    """`work(receive)` in a forked child, where `receive()` returns what `given()` returned here.

    `given()` runs in this process while the child starts; an error it raises ends the child and
    propagates. Returns the child's bytes, or None when it could not fork or the child failed.
    """
    if not can_fork():
        return None
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: work, send, and leave without exit handlers, buffer flushes or teardown
        code = 1
        try:
            gc.disable()  # nothing is freed before `os._exit` anyway: no collections (a tenth off the render)
            os.close(in_write)
            os.close(out_read)

            def receive() -> bytes:
                with os.fdopen(in_read, "rb") as fh:
                    return fh.read()

            data = work(receive)
            with os.fdopen(out_write, "wb") as fh:
                fh.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(in_read)
    os.close(out_write)
    status = -1
    with os.fdopen(out_read, "rb") as out:
        try:
            try:
                payload = given()
            except BaseException:
                os.close(in_write)
                raise
            send(in_write, payload)
            data = out.read()
            _, status = os.waitpid(pid, 0)
        finally:
            if status == -1:  # `given()` failed, or interrupted: end the child, and reap it
                end(pid)
    return data if status == 0 else None


def send(fd: int, data: bytes) -> None:
    """Write `data` to the pipe `fd` and close it (a child that ended early just does not read it).

    SIGPIPE is ignored meanwhile: the CLI restores its default action (`cli.root.main`), which would
    kill this process, without a message, when the child has gone.
    """
    previous = signal.signal(signal.SIGPIPE, signal.SIG_IGN) if hasattr(signal, "SIGPIPE") else None
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except BrokenPipeError:
        pass  # its exit status tells
    finally:
        os.close(fd)
        if previous is not None:
            signal.signal(signal.SIGPIPE, previous)


def end(pid: int) -> None:
    """End the child `pid` (SIGTERM) if it still runs, and reap it."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:  # already gone (not yet reaped)
        pass
    os.waitpid(pid, 0)
