"""A state directory copied between the managers without passing through the controller (registry role,
tasks/sync_dir.yml, as site.yml copies the registry's CA and the Jupyter stack's secrets): the files travel as
Swarm secrets into a one-shot job on each manager that differs. The run is made at -vvv, which prints every
module's arguments and results (no task of the copy hides its result): the secrets' text must not be in it."""

import hashlib
import os
import secrets
import subprocess
from pathlib import Path

import pytest
from conftest import PlaybookRun
from swarm_helpers import MANAGERS, dexec, nodes, wait_for

PLAYBOOK = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / "sync_dir.yml"
DIR = "/etc/condaswarm/sync-test"
SOURCE = MANAGERS[0]


def run(*args):
    cmd = ["ansible-playbook", "-vvv", "-i", os.environ["MOLECULE_INVENTORY_FILE"], str(PLAYBOOK)]
    proc = subprocess.run([*cmd, "-e", f"sync_test_dir={DIR}", *args], capture_output=True, text=True, check=False)
    return PlaybookRun(proc.returncode, proc.stdout + proc.stderr)


def listing(node):
    """{file: 'mode owner sha256'} of DIR on a node ({} without it)."""
    out = dexec(
        node,
        "sh",
        "-c",
        f'cd {DIR} 2>/dev/null && for f in .[!.]* *; do [ -f "$f" ] && '
        'echo "$f $(stat -c \'%a %U\' "$f") $(sha256sum < "$f" | cut -c1-64)"; done',
        check=False,
    ).stdout
    return {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in out.splitlines()}


def leftovers():
    """The copy's services and secrets still in the Swarm."""
    found = []
    for kind in ("service", "secret"):
        found += dexec(SOURCE, "docker", kind, "ls", "-q", "--filter", "label=io.condaswarm.sync").stdout.split()
    return found


@pytest.fixture(scope="module")
def texts():
    """The source manager's files (a key, a certificate, a dotfile); manager2 holds an older key, manager3 nothing."""
    assert wait_for(
        lambda: all(
            n.get("ManagerStatus", {}).get("Reachability") == "reachable" for n in nodes() if "ManagerStatus" in n
        ),
        timeout=120,
    ), "every manager reachable before the copy"
    files = {"key": ("600", secrets.token_hex(24)), "cert": ("644", secrets.token_hex(24)), ".salt": ("640", "salt")}
    for node in MANAGERS:
        dexec(node, "rm", "-rf", DIR)
    dexec(SOURCE, "install", "-d", "-m", "0700", DIR)
    for name, (mode, text) in files.items():
        dexec(SOURCE, "sh", "-c", f"umask 077; printf %s '{text}' > {DIR}/{name}; chmod {mode} {DIR}/{name}")
    dexec(MANAGERS[1], "sh", "-c", f"install -d -m 0700 {DIR}; echo old > {DIR}/key; chmod 644 {DIR}/key")
    return files


def test_check_mode_plans_the_copy_and_writes_nothing(texts):
    before = {node: listing(node) for node in MANAGERS[1:]}
    checked = run("--check", "--diff")
    assert checked.rc == 0, checked.output[-3000:]
    assert checked.changed >= 2, "both managers that differ show a change"
    assert {node: listing(node) for node in MANAGERS[1:]} == before
    assert leftovers() == []


def test_copy_reaches_every_manager_and_not_the_controller(texts, report):
    # What a run stopped before its cleanup leaves: a job of the name the copy to manager3 uses (never placed).
    stale = "condaswarm-sync-" + hashlib.sha256(f"{DIR}\0{MANAGERS[2]}".encode()).hexdigest()[:20]
    dexec(
        SOURCE,
        "docker",
        "service",
        "create",
        "--detach",
        "--quiet",
        "--no-resolve-image",
        "--name",
        stale,
        "--mode",
        "replicated-job",
        "--constraint",
        "node.labels.nowhere==true",
        "--label",
        f"io.condaswarm.sync={DIR}",
        "condaswarm/sync:stale",
        "true",
    )
    copied = run()
    assert copied.rc == 0, copied.output[-3000:]
    wanted = listing(SOURCE)
    assert sorted(wanted) == sorted(texts)
    assert {node: listing(node) for node in MANAGERS[1:]} == {node: wanted for node in MANAGERS[1:]}
    for name, (mode, text) in texts.items():
        assert wanted[name].startswith(f"{mode} root "), name
        if name != ".salt":
            assert text not in copied.output, f"the text of {name} reached the controller"
    # At -vvv every result is printed whole unless a task hides it: none does (the copy it replaces read the
    # files to the controller under no_log), so the texts' absence above covers every result.
    assert "'no_log: true' was specified" not in copied.output
    assert "Store as Swarm secrets, on the source manager, the files of /etc/condaswarm/sync-test" in copied.output
    assert leftovers() == [], "the copy jobs and their secrets are removed"
    report(f"sync_dir: {len(texts)} files to 2 managers through Swarm secrets, none in the -vvv output")


def test_rerun_changes_nothing(texts):
    again = run()
    assert again.rc == 0, again.output[-3000:]
    assert again.changed == 0, again.output[-3000:]
    assert "docker service create" not in again.output
