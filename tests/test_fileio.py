"""Atomic, no-clobber output files (shared by every command that writes)."""

import os

import pytest

from tokencalc import fileio
from tokencalc.errors import InputError, OutputExistsError


def test_write_then_refuse_then_force(tmp_path):
    out = tmp_path / "x.txt"
    fileio.write_atomic(out, "one\n")
    with pytest.raises(OutputExistsError, match="use --force"):
        fileio.write_atomic(out, "two\n")
    assert out.read_text() == "one\n"
    fileio.write_atomic(out, b"three", force=True)
    assert out.read_bytes() == b"three"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]  # no temporary file left behind


def test_failure_inside_the_block_leaves_the_old_file(tmp_path):
    out = tmp_path / "x.csv"
    out.write_text("old")
    with pytest.raises(RuntimeError):
        with fileio.atomic_output(out, force=True) as fh:
            fh.write(b"half")
            raise RuntimeError("boom")
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv"]


def test_file_created_meanwhile_is_not_clobbered(tmp_path):
    out = tmp_path / "race.txt"
    with pytest.raises(OutputExistsError):
        with fileio.atomic_output(out) as fh:
            fh.write(b"ours")
            out.write_text("theirs")  # another writer wins the name while we write
    assert out.read_text() == "theirs"


def test_bad_targets(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        fileio.write_atomic(tmp_path / "no" / "x.txt", "x")
    with pytest.raises(InputError, match="is a folder"):
        fileio.write_atomic(tmp_path, "x", flag="--chart")


def test_written_file_is_an_ordinary_file(tmp_path):
    out = tmp_path / "r.html"
    fileio.write_atomic(out, "<p>")
    mask = os.umask(0)
    os.umask(mask)
    assert (out.stat().st_mode & 0o777) == (0o666 & ~mask)
