# One task runner for developers and CI. `make check` = lint, types, corpus checks, tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RESEARCH ?= ../shared/research
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: setup browser lint types test corpus-check corpus-audit eval-gate check index bench bench-retrieval bench-copilot bench-load ui clean

setup: $(STAMP)

# The browser tests drive Debian's chromium (never `playwright install`, which downloads a browser);
# a CJK font makes the Chinese text in screenshots readable. Installed from Debian's packages if missing.
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi wenquanyi; then \
		echo "installing Debian chromium and a CJK font (apt-get)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null \
		|| { echo "could not install chromium: run 'apt-get install chromium fonts-wqy-microhei' as root" >&2; exit 1; }; \
	fi

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

lint: setup
	$(BIN)/ruff check copilot nego evals ui bench tests
	$(BIN)/ruff format --check copilot nego evals ui bench tests

types: setup
	$(BIN)/mypy

corpus-check: setup
	$(BIN)/python -m copilot.corpus corpus

# Every number in case and policy documents must appear in the research fact sheets.
corpus-audit: setup
	@if [ -d "$(RESEARCH)" ]; then \
		$(BIN)/python -m copilot.corpus.audit --research "$(RESEARCH)"; \
	else \
		echo "corpus-audit: research fact sheets not found at $(RESEARCH); skipped (CI always has them)"; \
	fi

test: setup browser
	$(BIN)/pytest

# The offline eval suites, each run afresh into test-artifacts/eval and gated on evals/thresholds.yaml.
# NEGO_HOME is the repo's own .nego (its index is brought up to date first; unchanged documents are skipped).
EVAL_HOME ?= $(CURDIR)/.nego
EVAL_OUT := test-artifacts/eval

eval-gate: setup
	NEGO_HOME=$(EVAL_HOME) $(BIN)/nego index
	rm -rf $(EVAL_OUT)
	@for suite in skills retrieval adversarial understanding negotiation fit roleplay recap; do \
		NEGO_HOME=$(EVAL_HOME) $(BIN)/nego eval run --suite $$suite --out $(EVAL_OUT)/$$suite --no-progress && \
		NEGO_HOME=$(EVAL_HOME) $(BIN)/nego eval gate $(EVAL_OUT)/$$suite || exit 1; \
	done

check: lint types corpus-check corpus-audit test eval-gate

index: setup
	$(BIN)/nego index

# Benchmarks print Markdown tables and write JSON under test-artifacts/bench (figures: bench/RESULTS.md).
# Retrieval runs on the shipped corpus and synthetic corpora; the 100k size embeds ~100k chunks twice
# (this project's index and the plain langchain one) and takes about an hour on 2 cores:
# `make bench BENCH_SIZES=gold,10000` for a quicker run.
BENCH_HOME ?= $(CURDIR)/.nego
BENCH_OUT := test-artifacts/bench
BENCH_SIZES ?= gold,10000,100000

bench: bench-retrieval bench-copilot bench-load

bench-retrieval: setup
	mkdir -p $(BENCH_OUT)
	$(BIN)/python bench/compare_retrieval.py --sizes $(BENCH_SIZES) --json $(BENCH_OUT)/compare_retrieval.json
	$(BIN)/python bench/retrieval_bench.py --sizes shipped --json $(BENCH_OUT)/retrieval.json

bench-copilot: setup
	NEGO_HOME=$(BENCH_HOME) $(BIN)/nego index
	mkdir -p $(BENCH_OUT)
	$(BIN)/python bench/skill_latency.py --home $(BENCH_HOME) --json $(BENCH_OUT)/skill_latency.json
	$(BIN)/python bench/input_limits.py --home $(BENCH_HOME) --json $(BENCH_OUT)/input_limits.json
	$(BIN)/python bench/ui_startup.py --home $(BENCH_HOME) --json $(BENCH_OUT)/ui_startup.json
	$(BIN)/python bench/eval_throughput.py --home $(BENCH_HOME) --json $(BENCH_OUT)/eval_throughput.json

# 20 concurrent chat sessions for 60 s against a local app (offline).
bench-load: setup
	NEGO_HOME=$(BENCH_HOME) $(BIN)/nego index
	mkdir -p $(BENCH_OUT)
	$(BIN)/python bench/load.py --home $(BENCH_HOME) --json $(BENCH_OUT)/load.json

# The web app on http://127.0.0.1:7860 (indexes the corpus first on a fresh machine).
ui: setup
	$(BIN)/nego ui

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts
