"""The `tokencalc` command: a thin Typer adapter over the library (one module per command)."""

from .root import app, main

__all__ = ["app", "main"]
