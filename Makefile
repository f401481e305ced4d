# rosim — set-up and test entry points.
#   make lab    create .venv, install rosim[lab], open JupyterLab on notebooks/
#   make test   create .venv, install rosim[dev], run tests, doctests and notebooks (nbval)
#   make bench  run the benchmarks
#   make lint   ruff
#   make clean  remove the venv and caches

PYTHON ?= python3
VENV = .venv
VPY = $(VENV)/bin/python

.PHONY: lab test bench lint clean

$(VENV)/.lab-installed: pyproject.toml
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -e '.[lab]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -e '.[dev]'
	touch $@

lab: $(VENV)/.lab-installed
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

test: $(VENV)/.dev-installed
	$(VPY) -m pytest --doctest-modules rosim tests
	$(VPY) -m pytest --nbval --nbval-sanitize-with notebooks/sanitize.cfg notebooks

bench: $(VENV)/.dev-installed
	$(VPY) benchmarks/run.py

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check rosim tests benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +
