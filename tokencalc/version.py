"""The version of tokencalc (one place: the package, the wheel and reports read it)."""

__version__ = "0.2.0"
