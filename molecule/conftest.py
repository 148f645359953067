"""Fixtures shared by every scenario's testinfra tests."""

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class PlaybookRun:
    rc: int
    output: str

    def _recap(self, key):
        return sum(int(n) for n in re.findall(rf"\b{key}=(\d+)", self.output.split("PLAY RECAP")[-1]))

    @property
    def changed(self):
        return self._recap("changed")

    @property
    def failed(self):
        return self._recap("failed")


def run_playbook(playbook, *, limit=None, extra_vars=None, check=False, tags=None):
    """Run a playbook against the scenario's inventory, as Molecule's converge would."""
    cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], str(playbook)]
    if limit:
        cmd += ["--limit", limit]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if check:
        cmd += ["--check", "--diff"]
    if tags:
        cmd += ["--tags", tags]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return PlaybookRun(proc.returncode, proc.stdout + proc.stderr)


@pytest.fixture(scope="module")
def scenario_dir():
    return Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])


@pytest.fixture(scope="module")
def converge(scenario_dir):
    """Re-run the scenario's converge.yml; returns a PlaybookRun."""

    def _converge(**kwargs):
        return run_playbook(scenario_dir / "converge.yml", **kwargs)

    return _converge


@pytest.fixture(scope="session")
def report(pytestconfig):
    """Print a measured figure (a FIGURE line) to the scenario's log, past pytest's output capture."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")

    def _report(line):
        with capture.global_and_fixture_disabled():
            print(f"\nFIGURE {line}")

    return _report
