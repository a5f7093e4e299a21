# Two commands on a fresh machine:
#   make demo   set up (venv, pose models) and analyse the bundled sample clip
#   make test   set up (also test tools: Xvfb, Chromium) and run the whole test suite
VENV ?= .venv
PY := $(VENV)/bin/python
FC := $(VENV)/bin/formcheck
STAMP := $(VENV)/.installed

.PHONY: setup models demo test test-fast lint eval bench system-deps clean

$(STAMP): pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

models: $(STAMP)
	$(FC) models build

setup: $(STAMP) models

demo: setup
	$(FC) analyze samples/squat_side.mp4 --exercise squat --json out/demo/report.json --annotated out/demo/annotated.mp4
	@echo "report: out/demo/report.json   annotated video: out/demo/annotated.mp4"

system-deps:
	bash scripts/system-deps.sh

test: setup system-deps
	$(VENV)/bin/ruff check formcheck server tests
	$(VENV)/bin/pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

test-fast: setup
	$(VENV)/bin/pytest -m "not slow and not browser"

lint: $(STAMP)
	$(VENV)/bin/ruff check formcheck server tests

eval: setup
	$(FC) eval ../shared/data/videos --json out/eval.json

bench: setup
	$(FC) bench --json out/bench.json

clean:
	rm -rf $(VENV) out models/*.task
