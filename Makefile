# Self-contained entry points: each target creates the virtual environment on first use.
# README: `make demo` runs the main job, `make test` runs the tests.

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat setup.py requirements-pins.txt 2>/dev/null | sha1sum | cut -c1-12)

# Keep DDS on this machine (shared memory only) and render highway-env headless.
export FASTDDS_DEFAULT_PROFILES_FILE := $(CURDIR)/config/fastdds-local.xml
export SDL_VIDEODRIVER := offscreen
export PYTHONHASHSEED := 0

.PHONY: install test test-slow test-all demo train-default clean

install: $(STAMP)

$(STAMP):
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "torch==2.13.0"
	$(PY) -m pip install -q -c requirements-pins.txt -e ".[torch,ros,sim,train,eval,dev,gptq]"
	touch $@

test: $(STAMP)
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

test-all: $(STAMP)
	$(PY) -m pytest -q -m "not gpu"

demo: $(STAMP)
	$(VENV)/bin/vla-driving demo

# Simulator data (training seeds 0.., held-out seeds 1000..), the `default` preset, held-out figures.
DATA ?= data
RUN ?= runs/default
train-default: $(STAMP)
	$(VENV)/bin/vla-train data generate --scenario all --episodes 12 --seed 0 --out $(DATA)/train --workers 1
	$(VENV)/bin/vla-train data build-index $(DATA)/train
	$(VENV)/bin/vla-train data generate --scenario all --episodes 3 --seed 1000 --out $(DATA)/heldout --workers 1
	$(VENV)/bin/vla-train train --preset default --data $(DATA)/train --out $(RUN)
	$(VENV)/bin/vla-train evaluate --checkpoint $(RUN)/drive --data $(DATA)/heldout --json $(RUN)/heldout.json

clean:
	rm -rf $(VENV) build *.egg-info
