# Cluster Assistant. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: help install chromium axe loadtest audit run ingest test lint bench calibrate train-verifier clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and alone: pip then takes the local CPU build instead of a CUDA one.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create the venv and install (once; again when pyproject.toml changes)

# The tests drive Debian's Chromium (never a downloaded one) and start a throwaway PostgreSQL, Redis and Dovecot
# (IMAP) on loopback: install them once, as root or through sudo.
chromium: ## install Debian's chromium, postgresql, redis-server and dovecot-imapd for the tests, if missing
	@{ test -x /usr/bin/chromium && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && \
	   test -x /usr/bin/redis-server && test -x /usr/sbin/dovecot; } || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] && echo "" || echo "sudo -n" ); \
	  echo "Installing Debian's chromium, postgresql, redis-server and dovecot-imapd for the tests"; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium postgresql redis-server \
	    dovecot-imapd >/dev/null; } || { \
	  echo "error: the tests need Debian's chromium, postgresql, redis-server and dovecot-imapd:"; \
	  echo "  sudo apt-get install chromium postgresql redis-server dovecot-imapd"; exit 1; }

ingest: $(STAMP) ## index corpus/ (incremental: unchanged files cost nothing)
	$(BIN)/cluster-assistant ingest corpus

run: ingest ## install, ingest corpus/ if needed, serve on http://127.0.0.1:7860
	$(BIN)/cluster-assistant serve

AXE := .cache/axe/node_modules/axe-core/axe.min.js
$(AXE):
	npm install --silent --no-save --no-audit --no-fund --prefix .cache/axe axe-core@4.14.1

axe: $(AXE) ## fetch axe-core (npm) for the accessibility checks in the browser tests

test: $(STAMP) chromium $(AXE) ## lint, type-check and run every test (real model, Chroma, SQLite, HTTP, Chromium)
	$(BIN)/ruff check assistant ingest ui evaluation tests
	$(BIN)/ruff format --check assistant ingest ui evaluation tests
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(STAMP) ## ruff + mypy
	$(BIN)/ruff check assistant ingest ui evaluation tests
	$(BIN)/ruff format --check assistant ingest ui evaluation tests
	$(BIN)/mypy

bench: ingest chromium ## quality, speed, HTTP load, mail and ingest figures: evaluation/results/{latest,mail,ingest}.json
	$(BIN)/python -m evaluation.bench --out evaluation/results/latest.json
	$(BIN)/python -m evaluation.mailbench --out evaluation/results/mail.json
	$(BIN)/python -m evaluation.ingestbench --out evaluation/results/ingest.json

loadtest: ingest ## 16 and 200 concurrent clients against the server: evaluation/results/loadtest.json
	$(BIN)/python -m evaluation.loadtest

audit: $(STAMP) ## pip-audit the locked dependencies (needs the network); fails when it could check none
	$(BIN)/python -m evaluation.audit

calibrate: $(STAMP) ## refit abstention on ../shared/eval SQuAD data: writes assistant/engine/calibration.json
	$(BIN)/cluster-assistant calibrate ../shared/eval/squad2-dev-corpus.json --unseen ../shared/eval/squad2-dev-unseen.json \
		--distractors ../shared/eval/squad2-distractors.json

train-verifier: $(STAMP) ## retrain the answer verifier from ../shared/eval (~20 min on 2 cores), then run `make calibrate`
	$(BIN)/python -m evaluation.train_verifier --reverse

clean: ## remove the venv and the index
	rm -rf $(VENV) data
