# One-command entry points. `make run` serves the app on 127.0.0.1; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 8501
STAMP := $(VENV)/.installed

.PHONY: run test lint bench sample-data clean-venv install

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -r requirements-dev.txt
	$(PIP) install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m streamlit run app/Home.py --server.address 127.0.0.1 --server.port $(PORT) \
		--browser.gatherUsageStats false --server.headless true

test: $(STAMP)
	@$(PY) -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "FAILED: pytest collected no tests (exit code 5)"; exit 1; fi; \
	exit $$rc

lint: $(STAMP)
	$(VENV)/bin/ruff check mimea_core app tests scripts benchmarks

bench: $(STAMP)
	$(PY) -m mimea_core bench $(BENCH_ARGS)

sample-data: $(STAMP)
	$(PY) scripts/make_sample_data.py

clean-venv:
	rm -rf $(VENV)
