"""Fixtures shared by every scenario's testinfra tests."""

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
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


@dataclass
class SshAudit:
    """ssh-audit's verdict on one SSH server: its failures and warnings, one line each."""

    rc: int
    fail: list = field(default_factory=list)
    warn: list = field(default_factory=list)
    host_key_algorithms: list = field(default_factory=list)
    kex: list = field(default_factory=list)
    banner: str = ""

    def summary(self, name):
        return f"ssh-audit {name} ({self.banner}): {len(self.fail)} fail, {len(self.warn)} warn"


def run_ssh_audit(address, port=22):
    """Run ssh-audit (installed beside this Python, requirements.txt) against a server; its JSON, digested.

    ssh-audit exits 0 when all is good, 1 or 2 with warnings and 3 with failures; CVEs count as failures.
    """
    binary = Path(sys.executable).parent / "ssh-audit"
    proc = subprocess.run(
        [str(binary), "--json", "--timeout", "10", "--port", str(port), address],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"ssh-audit {address}:{port} rc {proc.returncode}: {proc.stdout}{proc.stderr}") from exc
    result = SshAudit(
        rc=proc.returncode,
        host_key_algorithms=[item["algorithm"] for item in data.get("key", [])],
        kex=[item["algorithm"] for item in data.get("kex", [])],
        banner=data.get("banner", {}).get("software", ""),
    )
    for section in ("kex", "key", "enc", "mac"):
        for item in data.get(section, []):
            for level in ("fail", "warn"):
                for note in item.get("notes", {}).get(level, []):
                    getattr(result, level).append(f"{section} {item['algorithm']}: {note}")
    result.fail += [f"cve {cve.get('name')}: {cve.get('description', '')}" for cve in data.get("cves", [])]
    return result


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
def ssh_audit():
    """run_ssh_audit(address, port=22) -> SshAudit."""
    return run_ssh_audit


@pytest.fixture(scope="session")
def report(pytestconfig):
    """Print a measured figure (a FIGURE line) to the scenario's log, past pytest's output capture."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")

    def _report(line):
        with capture.global_and_fixture_disabled():
            print(f"\nFIGURE {line}")

    return _report
