# rosim — set-up and test entry points.
#   make lab    create .venv, install rosim[lab], make the learner's copy lab/ (once) and
#               open JupyterLab on it at index.ipynb
#   make reset-lab  a fresh learner's copy (the old one is kept in lab.previous/)
#   make test   create .venv, install rosim[dev], run tests, doctests and notebooks (nbval)
#   make bench  run the benchmarks
#   make timings  measure how long each lab takes (figures for docs/trainer-guide.md)
#   make lint   ruff
#   make clean  remove the venv and caches

PYTHON ?= python3
VENV = .venv
VPY = $(VENV)/bin/python
LAB = lab

.PHONY: lab reset-lab test bench timings lint clean

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
	$(VPY) -m rosim.teach.learner notebooks $(LAB)
	$(VENV)/bin/jupyter lab --notebook-dir=$(LAB) --ServerApp.default_url=/lab/tree/index.ipynb

reset-lab: $(VENV)/.lab-installed
	$(VPY) -m rosim.teach.learner --reset notebooks $(LAB)

test: $(VENV)/.dev-installed
	$(VPY) -m pytest --doctest-modules rosim tests
	# The attacks again with the fallback guard (the audit hook) forced.
	ROSIM_HOST_GUARD=audit $(VPY) -m pytest -q tests/test_adversarial*.py tests/test_interrupts.py
	$(VPY) -m pytest --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks

bench: $(VENV)/.dev-installed
	$(VPY) benchmarks/run.py

timings: $(VENV)/.dev-installed
	$(VPY) benchmarks/lab_timings.py

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check rosim tests benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +
