# Two commands on a fresh machine:
#   make demo   set up (venv, pose models) and analyse the bundled sample clip
#   make test   set up (also test tools: Xvfb, Chromium) and run the whole test suite
VENV ?= .venv
PY := $(VENV)/bin/python
FC := $(VENV)/bin/formcheck
STAMP := $(VENV)/.installed

.PHONY: setup models web-vendor demo test test-fast lint eval bench system-deps clean

$(STAMP): pyproject.toml constraints.txt
	@echo "setup: a virtualenv in $(VENV) with formcheck and its pinned Python packages from PyPI (constraints.txt)"
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The pose model bundles, built from the npm package @mediapipe/pose and checked against the sha256 sums shipped in
# the package, go to the user's data folder (~/.local/share/formcheck/models); FORMCHECK_MODELS=DIR puts them there.
models: $(STAMP)
	$(FC) models build

# On-device pose for the exercise page: @mediapipe/tasks-vision (pinned in server/web/package-lock.json) from the
# npm registry with `npm ci`, its ES module and WASM files copied to server/web/static/vendor (never a CDN).
TASKS_VISION := server/web/node_modules/@mediapipe/tasks-vision
WEB_VENDOR := server/web/static/vendor/tasks-vision
$(WEB_VENDOR)/.installed: server/web/package.json server/web/package-lock.json
	cd server/web && npm ci --ignore-scripts --no-audit --no-fund --silent
	rm -rf $(WEB_VENDOR) && mkdir -p $(WEB_VENDOR)
	cp $(TASKS_VISION)/vision_bundle.mjs $(TASKS_VISION)/package.json $(TASKS_VISION)/wasm/vision_wasm_internal.js \
	   $(TASKS_VISION)/wasm/vision_wasm_internal.wasm $(TASKS_VISION)/wasm/vision_wasm_nosimd_internal.js \
	   $(TASKS_VISION)/wasm/vision_wasm_nosimd_internal.wasm $(WEB_VENDOR)/
	touch $@

web-vendor: $(WEB_VENDOR)/.installed

setup: $(STAMP) models web-vendor

demo: setup
	$(FC) analyze samples/squat_side.mp4 --exercise squat --json out/demo/report.json --annotated out/demo/annotated.mp4
	@echo "report: out/demo/report.json   annotated video: out/demo/annotated.mp4"

system-deps:
	bash scripts/system-deps.sh

# Tests run in parallel (pytest-xdist, a test file's tests together): one process per core and one more, since the
# end-to-end tests spend part of their time waiting on servers, browsers and real-time playback. PYTEST_ARGS adds options.
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
PYTEST_PARALLEL ?= -n $(PYTEST_WORKERS) --dist loadfile

test: setup system-deps
	$(VENV)/bin/ruff check formcheck server tests
	$(VENV)/bin/pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

test-fast: setup
	$(VENV)/bin/pytest $(PYTEST_PARALLEL) -m "not slow and not browser" $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check formcheck server tests

eval: setup
	$(FC) eval ../shared/data/videos --json out/eval.json

bench: setup
	$(FC) bench --json out/bench.json

clean:
	rm -rf $(VENV) out models/*.task
