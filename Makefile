# Delphos — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint format venv system-deps bench clean

# The venv is (re)built when the dependency list or the lock changes.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# espeak-ng synthesises the real speech the transcription tests stream; Debian's chromium and
# chromedriver run the workspace page's browser tests (tests/test_web_*.py). Installed
# when missing and we may (root); otherwise those tests say why they cannot run (with
# CI=true they fail). Each entry is command:package.
SYSTEM_TOOLS := espeak-ng:espeak-ng chromium:chromium chromedriver:chromium-driver
system-deps:
	@missing=""; for pair in $(SYSTEM_TOOLS); do \
	  command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	      || echo "warning: could not install$$missing"; \
	  else echo "warning: not installed:$$missing (apt-get install$$missing)"; fi; fi

# Serve on 127.0.0.1:8000 with the embedded SQLite database, the in-process cache and the
# offline local engine; prints the development API key. Every DELPHOS_* variable applies.
run: venv
	$(BIN)/delphos migrate
	$(BIN)/delphos serve --dev-key

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The whole suite: lint, types, then every test (Postgres and Redis on 127.0.0.1 are used
# for real; with CI=true their absence fails the run). tests/test_llamacpp_real.py starts
# a real llama.cpp server with Gemma 3 270M (both from PyPI via `.[dev]`): ~2 min on 2 cores.
# The tests run on TEST_WORKERS pytest-xdist processes (auto: one per CPU). On 2 cores the
# gain is small: the heaviest tests (llama.cpp, whisper, chromium) are CPU-bound, and each
# worker pays its own imports, speech model and drug dictionary (more workers than cores
# was slower). Each worker has its own Postgres database and Redis key prefixes.
# Tests sharing an expensive server stay on one worker (xdist_group, tests/conftest.py).
# TEST_WORKERS=0: all in one process.
TEST_WORKERS ?= auto
test: venv system-deps lint
	$(BIN)/pytest -q -ra -n $(TEST_WORKERS) --dist loadgroup

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks report ratios against a reference measured in the same run. cache_hit needs
# the Postgres and Redis on 127.0.0.1 (and wrk: apt-get install wrk); stt takes ~5 min;
# note_quality scores the local engine's notes on ACI-Bench (../shared/eval) in ~1 min.
bench: venv
	$(BIN)/python bench/note_quality.py
	$(BIN)/python bench/parser.py
	$(BIN)/python bench/cache_delta.py
	$(BIN)/python bench/cache_hit.py
	$(BIN)/python bench/stt.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
