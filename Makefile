# Self-contained entry points: each target creates the virtual environment on first use.
# README: `make demo` runs the main job, `make test` runs the tests.

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat setup.py requirements-pins.txt 2>/dev/null | sha1sum | cut -c1-12)
# The message packages in interfaces/ (built into the venv; skipped when unchanged or when a
# sourced ROS installation provides them).
INTERFACES_STAMP := $(VENV)/.interfaces-$(shell cat interfaces/build.py interfaces/*/package.xml interfaces/*/CMakeLists.txt interfaces/*/msg/*.msg 2>/dev/null | sha1sum | cut -c1-12)

# Keep DDS on this machine (shared memory only) and render highway-env headless.
export FASTDDS_DEFAULT_PROFILES_FILE := $(CURDIR)/config/fastdds-local.xml
export SDL_VIDEODRIVER := offscreen
export PYTHONHASHSEED := 0

.PHONY: install test test-slow test-all test-install demo train-default clean

install: $(STAMP) $(INTERFACES_STAMP)

$(STAMP):
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "torch==2.13.0"
	$(PY) -m pip install -q -c requirements-pins.txt -e ".[torch,ros,interfaces,sim,train,eval,dev,gptq,scale]"
	touch $@

$(INTERFACES_STAMP): $(STAMP)
	$(PY) interfaces/build.py
	touch $@

test: install
	$(PY) -m pytest -q

test-slow: install
	$(PY) -m pytest -q -m slow

test-all: install
	$(PY) -m pytest -q -m "not gpu"

# Non-editable installs, as a vehicle gets them (an editable install hides packaging bugs): the
# wheel in a fresh venv and a colcon build (Debian's colcon), each checked from outside the checkout.
WHEEL_VENV ?= .venv-wheel
test-install: $(STAMP)
	rm -rf build/wheel $(WHEEL_VENV) && mkdir -p build/wheel
	$(PY) -m pip wheel -q --no-deps --no-build-isolation -w build/wheel . 2>build/wheel.log \
	  || (cat build/wheel.log; exit 1)
	python3 -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip install -q -c requirements-pins.txt \
	  "$$(ls build/wheel/*.whl)[torch,ros,gptq]"
	cd "$$(mktemp -d)" && $(CURDIR)/$(WHEEL_VENV)/bin/python $(CURDIR)/.ci/smoke_installed.py
	bash .ci/colcon_smoke.sh

demo: install
	$(VENV)/bin/vla-driving demo

# Simulator data (training seeds 0.., held-out seeds 1000..), three `teacher` runs that differ
# in their seed, the `default` run distilled from them, two DAgger rounds with the shadow
# expert (the round that drives best on the validation routes is kept), held-out figures, and
# the bundle (copy $(RUN)/bundle to models/default to ship it). About 2 h 20 min on 2 cores.
DATA ?= data
RUN ?= runs/default
TEACHER_SEEDS ?= 0 1 2
WORKERS ?= 2
train-default: install
	$(VENV)/bin/vla-train data generate --scenario all --episodes 144 --seed 0 --out $(DATA)/train --workers $(WORKERS)
	$(VENV)/bin/vla-train data build-index $(DATA)/train
	$(VENV)/bin/vla-train data generate --scenario all --episodes 10 --seed 1000 --out $(DATA)/heldout --workers $(WORKERS)
	set -e; for seed in $(TEACHER_SEEDS); do \
	  $(VENV)/bin/vla-train train --preset teacher --seed $$seed --data $(DATA)/train --out $(RUN)-teachers/seed$$seed; \
	done
	$(VENV)/bin/vla-train train --preset default --data $(DATA)/train --out $(RUN) \
	  --teachers $(foreach seed,$(TEACHER_SEEDS),$(RUN)-teachers/seed$(seed)/drive)
	$(VENV)/bin/vla-train dagger --data $(DATA)/train --checkpoint $(RUN)/drive --out $(RUN)-dagger \
	  --preset default --workers $(WORKERS) --rounds 2 --routes-per-scenario 12 --beta0 0.2 \
	  --intervene --drive-steps 2500 --lr 5e-4 --dagger-share 0.5 --train-threads 2
	$(VENV)/bin/vla-train evaluate --checkpoint $(RUN)-dagger/best --data $(DATA)/heldout --json $(RUN)/heldout.json
	$(VENV)/bin/vla-driving export bundle --checkpoint $(RUN)-dagger/best --out $(RUN)/bundle --data $(DATA)/train --calibration-samples 128

clean:
	rm -rf $(VENV) $(WHEEL_VENV) build *.egg-info
