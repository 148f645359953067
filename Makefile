# condaswarm.cluster — every entry point. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV ?= .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# Plain logs: CI captures them.
export NO_COLOR := 1
export PY_COLORS := 0
export ANSIBLE_NOCOLOR := 1
# Scenarios `make molecule` (and so `make test`) runs, in order; a scenario joins this list once it
# passes. `make molecule SCENARIOS=all` runs every molecule/*/molecule.yml.
SCENARIOS ?= docker_engine sshd nfs_server swarm limits jupyter_image jupyter_stack
MOLECULE_DISTRO ?= debian12
export MOLECULE_DISTRO

.PHONY: help setup images lint unit molecule test lab lab-down e2e clean

help: ## list the entry points
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## virtualenv with the pinned dependencies; install and start Docker when none answers
	@bash scripts/setup.sh

images: setup ## node images for Debian 12/13 (cached by recipe hash)
	@bash scripts/images.sh

lint: setup ## yamllint, ansible-lint (production profile), ruff
	yamllint --strict .
	ansible-lint --profile production
	ruff check .
	ruff format --check .

unit: setup ## pytest: plugins, argument validation, templates
	pytest

molecule: images ## the Molecule scenarios in SCENARIOS (SCENARIOS=all for every one)
	@bash scripts/molecule.sh $(SCENARIOS)

test: setup ## the whole suite: lint, unit, molecule (a clean slate first)
	@bash scripts/clean.sh
	@$(MAKE) --no-print-directory lint unit molecule

lab: images ## build the lab on this machine and run site.yml against it (LAB_ARGS="-e lab_workers=4")
	@bash scripts/lab.sh $(LAB_ARGS)

e2e: setup ## headless Chromium logs in to the lab, runs a notebook cell, saves a screenshot (after make lab)
	@bash tests/e2e/run.sh

lab-down: ## remove every container, network and volume the lab created
	@bash scripts/clean.sh --lab

clean: ## remove what Molecule and the lab left behind (by label), caches and build outputs
	@bash scripts/clean.sh
	rm -rf .cache .pytest_cache .ruff_cache condaswarm-cluster-*.tar.gz
