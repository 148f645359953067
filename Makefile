# condaswarm.cluster — every entry point. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV ?= .venv
export VENV
export PATH := $(abspath $(VENV))/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# Plain logs: CI captures them.
export NO_COLOR := 1
export PY_COLORS := 0
export ANSIBLE_NOCOLOR := 1
# Scenarios `make molecule` (and so `make test`) runs, in order; a scenario joins this list once it
# passes. `make molecule SCENARIOS=all` runs every molecule/*/molecule.yml.
SCENARIOS ?= docker_engine sshd nfs_server swarm limits jupyter_stack
MOLECULE_DISTRO ?= debian12
export MOLECULE_DISTRO

.PHONY: help setup docker images lint sanity unit molecule test lab lab-down e2e clean

help: ## list the entry points
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## virtualenv with the pinned dependencies, and shellcheck (no Docker needed)
	@bash scripts/setup.sh

docker: ## a Docker daemon that answers (installed and started as root on Debian/Ubuntu when none does)
	@bash scripts/setup.sh --docker

images: setup docker ## node images for Debian 12/13 (cached by recipe hash)
	@bash scripts/images.sh

lint: setup ## yamllint, ansible-lint (production profile), ruff, shellcheck, ansible-test sanity (no Docker needed)
	yamllint --strict .
	ansible-lint --profile production
	ruff check .
	ruff format --check .
	@bash scripts/shellcheck.sh
	@bash scripts/sanity.sh

sanity: setup ## ansible-test sanity on a copy of the collection, against the virtualenv's packages
	@bash scripts/sanity.sh

unit: setup ## pytest: plugins, argument validation, templates (no Docker needed)
	pytest

molecule: images ## the Molecule scenarios in SCENARIOS (SCENARIOS=all for every one)
	@bash scripts/molecule.sh $(SCENARIOS)

test: setup docker ## the whole suite: lint, unit, molecule (first removes what earlier scenarios left; keeps the lab)
	@bash scripts/clean.sh
	@$(MAKE) --no-print-directory lint unit molecule

lab: images ## build the lab on this machine and run site.yml against it (LAB_ARGS="-e lab_workers=4")
	@bash scripts/lab.sh $(LAB_ARGS)

e2e: setup ## headless Chromium logs in to the lab, runs a notebook cell, saves a screenshot (after make lab)
	@bash tests/e2e/run.sh

lab-down: ## remove the lab's containers, network and volumes (found by label; nothing else)
	@bash scripts/clean.sh --lab

clean: ## remove what Molecule scenarios left (by label) and caches: .cache .pytest_cache .ruff_cache .ansible tests/output, built tarballs; keeps the lab, .venv and images
	@bash scripts/clean.sh
	rm -rf .cache .pytest_cache .ruff_cache .ansible tests/output condaswarm-cluster-*.tar.gz
