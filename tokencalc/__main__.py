"""`python -m tokencalc`."""

from .cli import main

main()
