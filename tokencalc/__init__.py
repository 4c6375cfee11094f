"""tokencalc: the Token Production Function of LLM inference.

    Q̇ = U · min(K_eff / c_tok, P_IT / e_tok),   P_IT = P_facility / PUE

The library is importable on its own; the `tokencalc` command is a thin
adapter over it (see `tokencalc.cli`).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
