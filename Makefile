# Two entry points (see README): `make app` and `make test`. Both create or refresh .venv first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch is installed first and pinned to the release this project is tested with; override on
# machines where another build is wanted, e.g. `make test TORCH_SPEC="torch torchvision"`.
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
PORT ?= 8501
# 2 workers, 1 torch thread each: faster than 1 worker with 2 threads on a 2-core machine,
# and never slower when the machine is busy (see toolkit/runtime.py).
TEST_WORKERS ?= 2

.PHONY: setup app lab lint test test-fast mutation clean-notebooks

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c "import torch, torchvision" 2>/dev/null || $(PY) -m pip install -q $(TORCH_SPEC)
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

# the environment, and the data (Fashion-MNIST: found, downloaded, or the Debian package installed; else
# one line saying what to run, and make stops before any test)
setup: $(VENV)/.installed
	$(PY) -m toolkit.data.ensure

# The dashboard, on localhost only (see .streamlit/config.toml); runs live in runs/ or $TOOLKIT_RUNS_DIR.
# the dashboard also works without Fashion-MNIST (its default run is then the built-in 2-D ring)
app: $(VENV)/.installed
	-$(PY) -m toolkit.data.ensure
	$(PY) -m streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT)

# The lessons in JupyterLab.
lab: setup
	$(PY) -m jupyter lab --notebook-dir=lessons --ip=127.0.0.1 --port=8888

# house rules: ruff (pyflakes, pycodestyle, import order; lines <= 110, see pyproject.toml)
lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: setup lint
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} TOOLKIT_THREADS=$${TOOLKIT_THREADS:-1} TOOLKIT_QUICK=1 \
	  $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=15 --timeout=600 --nbval-lax --nbval-current-env \
	  tests lessons

# unit and CLI tests only (no notebooks)
test-fast: setup
	TOOLKIT_QUICK=1 $(PY) -m pytest -n $(TEST_WORKERS) tests

# mutation testing of the core modules listed in pyproject.toml [tool.mutmut]; slow (minutes per module),
# so not part of `make test`. Prints the score per module; docs/testing.md records the last run.
mutation: setup
	rm -rf mutants
	OMP_NUM_THREADS=1 TOOLKIT_THREADS=1 TOOLKIT_QUICK=1 $(PY) -m mutmut run --max-children $(TEST_WORKERS) >/dev/null
	$(PY) scripts/mutation_score.py

# strip outputs before committing notebooks (tests/project/test_packaging.py enforces it)
clean-notebooks: setup
	$(PY) scripts/strip_notebooks.py lessons/*.ipynb
