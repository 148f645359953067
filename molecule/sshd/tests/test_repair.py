"""Hand edits of what the role manages are found and undone by the next run; the run after that changes nothing.

The edits go to both nodes at once, then one run repairs both and one more run must find nothing to do.
"""

import subprocess

import pytest
from sshclient import NODES

testinfra_hosts = ["ansible://all"]

DROPIN_DIR = "/etc/ssh/sshd_config.d"
DROPIN = f"{DROPIN_DIR}/00-condaswarm.conf"
MAIN = "/etc/ssh/sshd_config"
# A setting of the drop-in changed, the drop-in and its directory opened to everyone, and a directive
# put before the main file's Include (where it would win over the drop-in).
EDITS = [
    f"sed -i 's/^MaxAuthTries .*/MaxAuthTries 6/' {DROPIN}",
    f"chmod 0666 {DROPIN}",
    f"chmod 0777 {DROPIN_DIR}",
    f"sed -i '1i PasswordAuthentication yes' {MAIN}",
]


def _on_node(name, command):
    return subprocess.run(
        ["docker", "exec", name, "sh", "-c", command], capture_output=True, text=True, check=True
    ).stdout


def _managed(name):
    """Mode, owner and checksum of the drop-in, and the mode of its directory."""
    return _on_node(name, f"stat -c '%n %a %U:%G' {DROPIN_DIR} {DROPIN} && sha256sum {DROPIN}")


@pytest.fixture(scope="module")
def repair_runs(converge):
    before = {name: _managed(name) for name in NODES}
    for name in NODES:
        _on_node(name, " && ".join(EDITS))
    edited = {name: _managed(name) for name in NODES}
    repair = converge()
    repaired = {name: _managed(name) for name in NODES}
    again = converge()
    return before, edited, repair, repaired, again


def test_the_edits_took_hold(host, repair_runs):
    before, edited, *_ = repair_runs
    name = host.backend.get_hostname()
    assert edited[name] != before[name]
    assert f"{DROPIN} 666 root:root" in edited[name]


def test_the_next_run_repairs_them(host, repair_runs):
    before, _, repair, repaired, _ = repair_runs
    name = host.backend.get_hostname()
    assert repair.rc == 0, repair.output
    assert repair.changed > 0
    assert repaired[name] == before[name]
    assert f"{DROPIN} 644 root:root" in repaired[name]
    assert f"{DROPIN_DIR} 755 " in repaired[name]
    main = host.file(MAIN).content_string.splitlines()
    directives = [line for line in main if line.strip() and not line.lstrip().startswith("#")]
    assert directives[:2] == ["Include /etc/ssh/sshd_config.d/*.conf", "PasswordAuthentication yes"]
    effective = host.check_output("sshd -T | grep -E '^(maxauthtries|passwordauthentication) '").splitlines()
    assert sorted(effective) == ["maxauthtries 3", "passwordauthentication no"]


def test_the_run_after_changes_nothing(repair_runs):
    again = repair_runs[4]
    assert again.rc == 0, again.output
    assert again.changed == 0, again.output
