"""Loaded into every CLI process the fuzz runner starts (PYTHONPATH): records writes outside the case folder.

A `sys.addaudithook` hook sees every file opened for writing and every rename, link,
mkdir, remove, chmod and temporary file, from Python code and from libraries that go
through Python's io. A path outside the folders in FUZZ_ALLOW (and /dev/null, /dev/std*)
is appended to FUZZ_AUDIT_LOG. The hook never raises: it must not change what it watches.
"""

import os
import sys

_LOG = os.environ.get("FUZZ_AUDIT_LOG")
_ALLOW = [os.path.realpath(p) for p in os.environ.get("FUZZ_ALLOW", "").split(os.pathsep) if p]
_DEVICES = ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
# event -> positions of the path arguments it changes
_PATH_EVENTS = {"os.rename": (0, 1), "os.link": (1,), "os.symlink": (1,), "os.mkdir": (0,), "os.remove": (0,),
                "os.rmdir": (0,), "os.chmod": (0,), "os.chown": (0,), "os.truncate": (0,), "os.utime": (0,),
                "os.mkfifo": (0,), "os.mknod": (0,), "shutil.rmtree": (0,), "shutil.copyfile": (1,),
                "shutil.move": (0, 1), "tempfile.mkstemp": (0,), "tempfile.mkdtemp": (0,)}


def _outside(path) -> str | None:
    if isinstance(path, int) or path is None:
        return None
    text = os.path.realpath(os.path.abspath(os.fsdecode(os.fspath(path))))
    if text in _DEVICES or text.startswith("/proc/self/"):
        return None
    if any(text == root or text.startswith(root + os.sep) for root in _ALLOW):
        return None
    return text


def _hook(event: str, args: tuple) -> None:
    if _hook.busy:
        return
    _hook.busy = True
    try:
        hits = []
        if event == "open" and len(args) >= 3:
            path, mode, flags = args[0], args[1], args[2]
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS)
            if writes:
                hits.append(_outside(path))
        elif event in _PATH_EVENTS:
            hits += [_outside(args[i]) for i in _PATH_EVENTS[event] if i < len(args)]
        for hit in hits:
            if hit is not None:
                os.write(_fd, f"{event} {hit}\n".encode("utf-8", "backslashreplace"))
    except BaseException:  # noqa: BLE001 - a watcher never breaks the program it watches
        pass
    finally:
        _hook.busy = False


_hook.busy = False
if _LOG:
    _fd = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    sys.addaudithook(_hook)
