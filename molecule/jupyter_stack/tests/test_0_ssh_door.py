"""The image's SSH door as the stack runs it: ssh-audit finds no failure, and the operator's key gets in."""

import os
import subprocess
import time

import pytest
from stack_helpers import MANAGER, MANAGER_IP

testinfra_hosts = [f"ansible://{MANAGER}"]

DOOR = "jupyter_ssh"
PORT = 2222
# molecule.yml's addresses, by Swarm node name (the container's hostname).
ADDRESSES = {
    "jupyter-stack-manager": MANAGER_IP,
    "jupyter-stack-worker1": "10.205.0.11",
    "jupyter-stack-worker2": "10.205.0.12",
}
KEY = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"), "id_ed25519")
ACCEPTED_WARNING = "does not provide protection against post-quantum attacks"


@pytest.fixture(scope="module")
def door(manager):
    """The address of the node whose door task runs, once its sshd answers."""
    deadline = time.time() + 120
    while time.time() < deadline:
        tasks = manager.check_output(
            f"docker service ps {DOOR} --filter desired-state=running --format '{{{{.Node}}}} {{{{.CurrentState}}}}'"
        ).splitlines()
        running = [line.split()[0] for line in tasks if " Running " in f" {line} "]
        if running:
            address = ADDRESSES[running[0]]
            scan = subprocess.run(
                ["ssh-keyscan", "-T", "5", "-p", str(PORT), address], capture_output=True, text=True, check=False
            )
            if scan.stdout.strip():
                return address
        time.sleep(2)
    pytest.fail(manager.run(f"docker service ps --no-trunc {DOOR}").stdout)


def test_ssh_audit_finds_no_failure_on_the_door(door, ssh_audit, report):
    audit = ssh_audit(door, PORT)
    report(audit.summary(f"SSH door {door}:{PORT}"))
    assert audit.fail == []
    assert audit.host_key_algorithms == ["ssh-ed25519"]
    assert [w for w in audit.warn if ACCEPTED_WARNING not in w] == []
    # The image's OpenSSH (Debian 12's 9.2): the post-quantum hybrid first, as on the hosts.
    assert audit.kex[0] == "sntrup761x25519-sha512"


def test_operator_key_opens_the_door(door):
    options = ["IdentitiesOnly=yes", "BatchMode=yes", "StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null"]
    options += ["IdentityAgent=none", "ConnectTimeout=10"]
    cmd = ["ssh", "-F", "/dev/null", "-p", str(PORT), "-i", KEY, *[f"-o{option}" for option in options]]
    login = subprocess.run(
        [*cmd, f"jovyan@{door}", "id -u"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert login.returncode == 0, login.stderr
    assert login.stdout.strip() == "1000"
