# tokencalc — two commands set everything up on a fresh machine:
#   make demo   creates .venv, installs tokencalc, runs the default scenario and writes its report
#   make test   installs the test extras and runs the whole suite
#   make fuzz   the fuzz campaign (tests/fuzz): FUZZ_CASES=10000 cases on every core, counts and failures
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO_REPORT ?= tokencalc-default-report.html

.PHONY: demo test fuzz install bench validate clean
FUZZ_CASES ?= 10000

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(VENV)/.test-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/tokencalc estimate
	$(BIN)/tokencalc report -o $(DEMO_REPORT) --force
	@echo "The default report is in $(CURDIR)/$(DEMO_REPORT) (open it in a browser; '-o report.pdf' writes a PDF,"
	@echo "in about 1.5x the time WeasyPrint and matplotlib take to import (target 1.3x; 'python bench/bench_report.py'"
	@echo "measures it; 'apt-get install libharfbuzz-subset0' makes WeasyPrint's font subsetting 0.02 s faster))."

test: $(VENV)/.test-installed
	$(BIN)/python -m pytest -q

fuzz: $(VENV)/.test-installed   # FUZZ_SEED, FUZZ_JOBS, FUZZ_EXECUTOR=fork|exec, FUZZ_KEEP (see tests/fuzz/__init__.py)
	FUZZ_CASES=$(FUZZ_CASES) $(BIN)/python -m tests.fuzz

bench: $(VENV)/.installed   # every figure quoted in closing notes
	$(BIN)/python bench/bench.py
	$(BIN)/python bench/bench_project.py
	$(BIN)/python bench/bench_compare.py
	$(BIN)/python bench/bench_mc.py
	$(BIN)/python bench/bench_report.py

validate: $(VENV)/.installed   # the serving model against ML.ENERGY v3 (DATA=<folder> to point elsewhere)
	MLENERGY_DATA=$(DATA) $(BIN)/python bench/validate_mlenergy.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
