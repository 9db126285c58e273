# Every target that runs code sets itself up first: a fresh clone needs nothing but python3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0

.PHONY: venv test test-fast demo bench zoo tutorials clean

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q tests

demo: $(STAMP)
	$(PY) -m models.hybrid_classifier --export artifacts/demo_export --demo

bench: $(STAMP)
	$(PY) -m tfq_layers.benchmarks

zoo: $(STAMP)
	$(PY) -m models.zoo

# Every tutorial notebook at its full settings (slow: minutes); figures and executed copies go to
# artifacts/tutorials/. `make tutorials NB="07 08"` runs only those.
tutorials: $(STAMP)
	$(PY) notebooks/_run.py $(NB)

clean:
	rm -rf $(VENV) artifacts build *.egg-info
