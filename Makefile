# Two commands: `make run` and `make test`. Each creates .venv if missing and installs boltzax into it (with the
# dev and cobaya extras: tests/test_cobaya.py runs cobaya on boltzax).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench reference clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,cobaya]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/boltzax run --output output

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -m "not slow" tests

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[oracle]"
	$(BIN)/python bench/bench_background.py
	$(BIN)/python bench/bench_pk.py
	$(BIN)/python bench/bench_pt.py
	$(BIN)/python bench/bench_cmb.py

reference: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[oracle]"
	$(BIN)/python tools/make_reference.py

clean:
	rm -rf output .pytest_cache
