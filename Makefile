# Every target that runs code sets itself up first: a fresh clone needs nothing but Python
# (python3.11 for the main lane, python3.13 for the no-TFQ lane; pyenv's are found too).
# The first python$(1) on PATH that runs (a pyenv shim may exist and refuse), else pyenv's own.
find_python = $(shell for p in $$(command -v python$(1)) $(HOME)/.pyenv/versions/$(1).*/bin/python$(1); \
                do "$$p" -c "" >/dev/null 2>&1 && { echo "$$p"; break; }; done)
PYTHON    ?= $(or $(call find_python,3.11),$(shell command -v python3))
PYTHON312 ?= $(call find_python,3.12)
PYTHON310 ?= $(call find_python,3.10)
PYTHON313 ?= $(call find_python,3.13)
VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed
VENV312   := .venv312
PY312     := $(VENV312)/bin/python
STAMP312  := $(VENV312)/.installed
VENV310   := .venv310
PY310     := $(VENV310)/bin/python
STAMP310  := $(VENV310)/.installed
VENV313   := .venv313
PY313     := $(VENV313)/bin/python
STAMP313  := $(VENV313)/.installed

# One rule per lane, from one template: $(1) the lane's suffix ("" for the main lane, "312",
# "310", "313"), $(2) the Python version named when its interpreter is missing. Every lane installs
# the `tfq` extra: its markers install TensorFlow Quantum only on Linux x86_64 with Python < 3.13,
# so the 3.13 lane runs without TFQ (and proves the extra harmless there).
define venv_rule
$$(STAMP$(1)): pyproject.toml setup.py constraints.txt
	@test -n "$$(PYTHON$(1))" || { echo "python$(2) not found (set PYTHON$(1)=...)"; exit 1; }
	test -x $$(PY$(1)) || $$(PYTHON$(1)) -m venv $$(VENV$(1))
	$$(PY$(1)) -m pip install -q --upgrade pip
	$$(PY$(1)) -m pip install -q -c constraints.txt -e ".[dev,tfq]"
	touch $$(STAMP$(1))
endef

export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0

# The Keras 3 smoke set: the layer, its errors, saving (each also re-run under tf_keras by
# test_legacy_lane.py), the README snippets and the packaging checks. `make test-fast` runs it
# on 3.11. The 3.12 lane (`make test-312`, in CI) runs a leaner set to keep CI short: the layer
# under Keras 3, the README quick start (train, save, export, reload), the legacy lane (which
# exercises the tf_keras seeding workaround) and the fast checks.
SMOKE := tests/layers/test_pqc.py tests/errors/test_pqc_errors.py tests/saving/test_saving.py \
         tests/packaging/test_legacy_lane.py tests/docs/test_readme.py \
         tests/packaging/test_packaging.py tests/packaging/test_quiet.py tests/zoo/test_cli.py \
         tests/docs/test_colab_cell.py
SMOKE312 := tests/layers/test_pqc.py tests/packaging/test_legacy_lane.py tests/docs/test_readme.py \
            tests/packaging/test_packaging.py tests/zoo/test_cli.py tests/docs/test_colab_cell.py
.PHONY: venv venv312 venv310 venv313 test test-slow test-fast test-312 test-310 test-313 test-wheel \
        check-platforms lint format dist demo bench \
        bench-crossovers bench-peers bench-noisy bench-programs zoo tutorials clean

venv: $(STAMP)
venv312: $(STAMP312)
venv310: $(STAMP310)
venv313: $(STAMP313)

$(eval $(call venv_rule,,3.11))
$(eval $(call venv_rule,312,3.12))
$(eval $(call venv_rule,310,3.10))
$(eval $(call venv_rule,313,3.13))

# The suite but for the long end-to-end runs marked `slow` (see tests/conftest.py), which do not
# depend on the stack's version: `make test-slow` runs those alone. CI runs both on 3.11, and
# `make test-313` on 3.13; `pytest tests` runs everything.
test: $(STAMP)
	$(PY) -m pytest -q -m "not slow" tests

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow tests

test-fast: $(STAMP)
	$(PY) -m pytest -q $(SMOKE)

test-312: $(STAMP312)
	$(PY312) -m pytest -q $(SMOKE312)

# Python 3.10 (not in CI, to keep it short): the same lean set, with constraints.txt's 3.10 pins.
test-310: $(STAMP310)
	$(PY310) -m pytest -q $(SMOKE312)

# Python 3.13, the newest TensorFlow and Cirq, no TensorFlow Quantum (in CI): the suite as
# `make test` runs it (not the `slow` runs, which CI runs on 3.11); tests marked `tfq` skip, and
# tests/packaging/test_no_tfq_lane.py checks that only the known ones do.
test-313: $(STAMP313)
	$(PY313) -m pytest -q -m "not slow" tests

# The built wheel with its `tfq` extra resolves, without installing, for platforms with no TFQ
# wheel (macOS arm64 and Windows on Python 3.13, Linux aarch64 on 3.12: the extra adds nothing
# there) and, with TFQ, for Linux x86_64 on Python 3.10 and 3.12 (the ends of TFQ's range).
# About 20-30 s per platform, mostly waiting on the package index.
check-platforms: $(STAMP)
	rm -rf build/platforms && $(PY) -m pip wheel -q --no-deps -w build/platforms .
	$(PY) .ci/check_platforms.py build/platforms/tfq_layers-*.whl

# Build the wheel, install it (not editable) into a clean venv, run the quick start and a recipe
# from another directory.
test-wheel: $(STAMP)
	TFQ_LAYERS_WHEEL_TEST=1 $(PY) -m pytest -q tests/packaging/test_wheel.py

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) tests/import_cycles.py
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff format .

dist: $(STAMP)
	rm -rf dist
	$(PY) -m build --outdir dist .
	$(PY) -m twine check --strict dist/*

demo: $(STAMP)
	$(PY) -m models.hybrid_classifier --export artifacts/demo_export --demo

bench: $(STAMP)
	$(PY) -m benchmarks

# TFQ's tutorial programs (notebooks 06-13) on tfq_layers.compat under Keras 3 against TFQ's own
# layers under tf_keras, each in a fresh process (issue #26; ~10 minutes; ARGS="--full").
bench-programs: $(STAMP)
	$(PY) -m benchmarks.programs $(ARGS)

# Where backend="auto" should switch: both backends over qubits, depth, batch, shots and noise
# (tens of minutes; the table in tfq_layers/backends/__init__.py comes from it).
bench-crossovers: $(STAMP)
	$(PY) -m benchmarks.crossovers

# Issue #13's noisy classifier: model.fit timed end to end per backend, each in a fresh process
# (4-8 minutes, most of it TFQ's noisy op; `--only "pqc auto"` for ours alone).
bench-noisy: $(STAMP)
	$(PY) -m benchmarks.noisy_fit

# TensorCircuit-NG (JAX, cotengra) and PennyLane-lightning in their own venv, timed against ours.
VENVPEERS := .venv-peers
STAMPPEERS := $(VENVPEERS)/.installed
$(STAMPPEERS):
	test -x $(VENVPEERS)/bin/python || $(PYTHON) -m venv $(VENVPEERS)
	$(VENVPEERS)/bin/python -m pip install -q --upgrade pip
	$(VENVPEERS)/bin/python -m pip install -q tensorcircuit-ng "jax[cpu]" cotengra pennylane-lightning
	touch $(STAMPPEERS)

bench-peers: $(STAMP) $(STAMPPEERS)
	$(PY) -m benchmarks.peers --python $(VENVPEERS)/bin/python

zoo: $(STAMP)
	$(PY) -m models.zoo

# Every tutorial notebook at its full settings (QUICK = False, as committed; slow: minutes);
# `notebooks/_run.py --quick` runs the quick ones. Figures and executed copies go to
# artifacts/tutorials/. `make tutorials NB="07 08"` runs only those.
tutorials: $(STAMP)
	$(PY) notebooks/_run.py $(NB)

clean:
	rm -rf $(VENV) $(VENV312) $(VENV310) $(VENV313) $(VENVPEERS) artifacts build dist *.egg-info
