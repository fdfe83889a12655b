# Two commands: `make demo` runs the whole pipeline on embedded defaults; `make test` runs every
# test against real services it starts on loopback and stops afterwards.
VENV    := .venv
BIN     := $(VENV)/bin
SERVICES := bash config/services/all.sh

.PHONY: install demo test unit bench services services-stop clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/ers demo

# Starts RabbitMQ, PostgreSQL, Dovecot, Postfix and sshd (installing them if needed), runs
# every test, always stops them.
test: install
	@bash config/services/tools.sh install
	@$(SERVICES) start
	@set -a; eval "$$($(SERVICES) env)"; ERS_REQUIRE_SERVICES=1; set +a; \
	  $(BIN)/pytest -q -p no:cacheprovider; rc=$$?; $(SERVICES) stop; exit $$rc

# Benchmarks on the real services (started and stopped here); figures as a table and JSON under
# var/bench/. Small by default; national scale: make bench ARGS="--schools 16000".
bench: install
	@$(SERVICES) start
	@set -a; eval "$$($(SERVICES) env)"; set +a; \
	  $(BIN)/python -m tests.bench $(ARGS); rc=$$?; $(SERVICES) stop; exit $$rc

# Fast tests only: no services needed (integration tests are skipped).
unit: install
	$(BIN)/pytest -q -m "not services"

services:
	$(SERVICES) start

services-stop:
	$(SERVICES) stop

clean:
	rm -rf var/demo .pytest_cache
