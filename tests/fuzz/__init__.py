"""A fuzz harness for the `tokencalc` command line.

Hypothesis strategies draw whole invocations (argv, input files, pre-existing outputs)
for every command; each one runs the real CLI in a subprocess with a time and a memory
cap, in a temporary folder, and an oracle checks what came back (exit codes, one-line
errors, JSON without NaN, the production function's identities, no clobbered files, no
writes outside the folder).

    make fuzz                                   # FUZZ_CASES (default 10000) cases, counts, failures
    .venv/bin/python -m tests.fuzz              # the same; FUZZ_SEED, FUZZ_JOBS, FUZZ_KEEP
    tests/test_fuzz_sample.py                   # a fixed-seed sample in the normal suite

Modules: `values` (hostile and valid leaf values from the schema), `toml` (a TOML writer
that can also write broken TOML), `profiles` (profile documents of every kind), `specs`
(--set, --trajectory, --vary, --for), `logs` (power logs and bench files), `commands`
(argv for every flag of every command), `case` (what one run needs), `runner`
(subprocess, limits, sandbox), `oracle` (the checks), `campaign` (generation, the pool,
the counts). `audit/sitecustomize.py` is loaded into each CLI process to record writes.
"""
