# Two commands on a fresh machine (Python 3.11+, Node 20, no AWS account, no Docker):
#   make demo   the whole job locally on an embedded S3
#   make test   ruff + the test suite
# Both create .venv and install what they need; running them again installs nothing new.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_STAMP := interop/node_modules/.s3db-backup-install.sha256
PYTEST_ARGS ?=

.PHONY: install demo test lint unit workflows synth clean

$(STAMP): pyproject.toml requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -r requirements.txt
	@touch $(STAMP)

$(NODE_STAMP): interop/package.json interop/package-lock.json $(STAMP)
	$(BIN)/python -c "from s3db_backup.local.s3dbjs import ensure_installed; ensure_installed()"

install: $(STAMP) $(NODE_STAMP)

demo: install
	$(BIN)/s3db-backup demo

lint: $(STAMP)
	$(BIN)/ruff check .

test: install lint
	JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 $(BIN)/python -m pytest $(PYTEST_ARGS)

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

# Regenerate s3db_backup/workflows/*.json from the CDK definitions (a test fails when they drift).
workflows: $(STAMP)
	JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 $(BIN)/python -m infra.export_workflows

synth: $(STAMP)
	JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 $(BIN)/python app.py

clean:
	rm -rf $(VENV) cdk.out interop/node_modules .pytest_cache .ruff_cache
