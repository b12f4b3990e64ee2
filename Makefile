# Delphos — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint format venv system-deps bench bench-deps clean

# The venv is (re)built when the dependency list or the lock changes.
# llama.cpp (tests/test_llamacpp_real.py) is built from source, and by default for the
# building CPU only: a wheel pip cached on one machine then traps on "invalid opcode" on
# another (seen: every llama.cpp test failed). So it is built once without -march=native
# into a directory of its own, keyed by the locked version, and installed from there;
# pip's cache, which keys a build by its source alone, is never asked for it. The target
# is x86-64-v3 (AVX2, FMA, F16C): a build with every extension off was correct but too
# slow for the suite (one note took over two minutes).
LLAMA_VERSION := $(shell sed -n 's/^llama[-_]cpp[-_]python==//p' requirements.lock)
LLAMA_WHEELS  ?= $(HOME)/.cache/delphos/llama-wheels-x86-64-v3
LLAMA_WHEEL    = $(wildcard $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl)

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@if [ -z "$(LLAMA_WHEEL)" ]; then \
	  echo "building llama-cpp-python $(LLAMA_VERSION) for x86-64-v3 CPUs (once; ~7 min on 2 cores)"; \
	  rm -rf $(LLAMA_WHEELS).tmp; \
	  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON" $(BIN)/python -m pip wheel -q --no-cache-dir --no-deps \
	    -w $(LLAMA_WHEELS).tmp llama-cpp-python==$(LLAMA_VERSION) && mkdir -p $(LLAMA_WHEELS) \
	    && mv $(LLAMA_WHEELS).tmp/*.whl $(LLAMA_WHEELS)/; fi
	$(BIN)/python -m pip install -q --find-links $(LLAMA_WHEELS) -c requirements.lock -e '.[dev]'
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
# was slower: a full run took 7:06 on 2 workers against 6:28 in one process). So one
# process is the default here; on a machine with more cores, TEST_WORKERS=auto. Each
# worker has its own Postgres database and Redis key prefixes, and tests sharing an
# expensive server stay on one worker (xdist_group, tests/conftest.py). Every log ends
# with the 25 slowest test phases: where the next minute of the suite went.
TEST_WORKERS ?= 0
test: venv system-deps lint
	$(BIN)/pytest -q -ra -n $(TEST_WORKERS) --dist loadgroup --durations=25

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks report ratios against a reference measured in the same run (or a curve), with
# the machine's load average: on a shared machine, re-run a figure that looks off.
# cache_hit needs Postgres and Redis on 127.0.0.1 and wrk (installed here when we may);
# streams runs 100 to 2,000 concurrent streams against a fake LLM (a few minutes);
# note_quality scores the local engine's notes on ACI-Bench (../shared/eval) in ~1 min;
# stt takes ~5 min: `make bench BENCH_STT=0` skips it.
BENCH_STT ?= 1
bench-deps:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null); \
	  fi; }
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "error: bench/cache_hit.py needs wrk as its load generator: apt-get install wrk"; exit 1; }

# Every benchmark runs even when one misses its target (exits non-zero); the run then
# ends by naming those that did, and fails.
BENCHES := note_quality.py faithfulness.py parser.py "event_encoding.py --listeners 2" \
	cache_delta.py cache_hit.py soap_latency.py persistence.py hostile.py streams.py \
	"streams.py --engine local --streams 2000" llm_cost.py
bench: venv bench-deps
	@missed=""; \
	for b in $(BENCHES) $$([ "$(BENCH_STT)" != 0 ] && echo stt.py); do \
	  echo "== bench/$$b"; \
	  $(BIN)/python bench/$$b || missed="$$missed\n  bench/$$b"; \
	done; \
	[ "$(BENCH_STT)" != 0 ] || echo "bench/stt.py skipped (BENCH_STT=0)"; \
	if [ -n "$$missed" ]; then printf "missed a target or failed:$$missed\n"; exit 1; fi

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
