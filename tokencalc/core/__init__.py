"""The core: the Token Production Function and everything it derives, in one evaluation path.

Pure functions on plain SI floats or numpy arrays; no I/O, no printing. Every
command (estimate, compare, sweep, project, Monte Carlo, tornado, solve,
calibrate) evaluates through :func:`evaluate`.
"""

from .classify import LABELS, binding_code, classify, label
from .derive import DERIVATIONS, Derivation, derive, kaplan_c_tok
from .engine import RATE_FIELDS, evaluate
from .opmodel import model_of as serving_model
from .estimate import SCHEMA, Result, estimate, plain
from .inputs import DEFAULT_TOLERANCE, Inputs, Lever, Origin, Provenance, with_values
from .levers import LeverStatus, compose, factors, gate

__all__ = [
    "DEFAULT_TOLERANCE", "DERIVATIONS", "LABELS", "RATE_FIELDS", "SCHEMA", "Derivation", "Inputs", "Lever",
    "LeverStatus", "Origin", "Provenance", "Result", "binding_code", "classify", "compose", "derive", "estimate",
    "evaluate", "factors", "gate", "kaplan_c_tok", "label", "plain", "serving_model", "with_values",
]
