"""Reading input files with limits, and writing output files safely: atomically, never over an existing file unless asked.

Every file tokencalc reads (profiles, trajectory CSVs, power logs, bench results)
goes through :func:`read_bytes`: a regular file (no device, FIFO or socket, which
could block or never end), of at most MAX_INPUT_BYTES. Messages name the file and
the problem, never its content.

One implementation for every command that writes (reports, charts, sweep and
compare output, calibrated profiles, the catalogue page): the data goes to a
temporary file in the target's folder, is flushed to disk, and is then renamed
into place, so a reader never sees half a file. Without `force` the last step
is a hard link, which fails if the name exists, so even a file created while
we were writing is not clobbered.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator

from .errors import InputError, OutputExistsError

MAX_INPUT_BYTES = 64 * 1024 * 1024   # far above any profile, log or series tokencalc is meant to read


def read_bytes(path: str | os.PathLike, *, what: str = "file", limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes.

    Raises:
        InputError: missing, unreadable, not a regular file, or too large.
    """
    import stat

    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{what} '{path}' is not a regular file (a folder, device, FIFO or socket): refused")
        if st.st_size > limit:
            raise InputError(f"{what} '{path}' has {st.st_size:,} bytes; at most {limit:,} are read")
        with open(path, "rb") as fh:
            blob = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(f"cannot read {what} '{path}': {exc.strerror or exc}") from None
    if len(blob) > limit:
        raise InputError(f"{what} '{path}' has more than {limit:,} bytes; at most {limit:,} are read")
    return blob


def read_text(path: str | os.PathLike, *, what: str = "file", limit: int = MAX_INPUT_BYTES) -> str:
    """The UTF-8 text of a regular file (a BOM tolerated); see :func:`read_bytes`.

    Raises:
        InputError: as :func:`read_bytes`, or the file is not UTF-8 text.
    """
    try:
        return read_bytes(path, what=what, limit=limit).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{what} '{path}' is not UTF-8 text") from None


def check_writable(path: str | os.PathLike, force: bool, *, flag: str = "-o") -> Path:
    """Refuse an existing file (unless `force`), a folder, or a missing parent folder.

    Args:
        path: the output file.
        force: allow replacing an existing file.
        flag: how the user named the file, for messages (`-o`, `--chart`, ...).

    Raises:
        OutputExistsError: the file exists and `force` is False.
        InputError: the path is a folder or its folder does not exist.
    """
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{flag} {path}: is a folder, expected a file name")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"{flag} {path}: the folder {parent} does not exist")
    if (p.exists() or p.is_symlink()) and not force:
        raise OutputExistsError(f"{flag} {path}: the file exists; use --force to overwrite it")
    return p


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, *, force: bool = False, flag: str = "-o") -> Iterator[BinaryIO]:
    """A binary stream whose contents replace `path` only if the block completes.

    Raises:
        OutputExistsError: the file exists (or appeared meanwhile) and `force` is False.
        InputError: see :func:`check_writable`, or the folder is not writable.
    """
    p = check_writable(path, force, flag=flag)
    parent = p.parent if str(p.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise InputError(f"{flag} {path}: cannot write there ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600; outputs are ordinary files
        if force:
            os.replace(tmp, p)
            return
        try:
            os.link(tmp, p)
        except FileExistsError:
            raise OutputExistsError(f"{flag} {path}: the file exists; use --force to overwrite it") from None
        except OSError:  # no hard links on this file system: checked above, best effort
            if p.exists():
                raise OutputExistsError(f"{flag} {path}: the file exists; use --force to overwrite it") from None
            os.replace(tmp, p)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_atomic(path: str | os.PathLike, data: bytes | str, *, force: bool = False, flag: str = "-o") -> Path:
    """Write `data` (text is UTF-8 with "\\n" line ends) to `path` atomically; see :func:`atomic_output`."""
    blob = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_output(path, force=force, flag=flag) as fh:
        fh.write(blob)
    return Path(path)
