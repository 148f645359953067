"""Housekeeping and the Swarm's own backup, after the day-2 tests: the image prune timer on every node, its
service removing an unused image while keeping what services, rollbacks and recent builds need, and
backup_swarm.yml copying /var/lib/docker/swarm on a non-leader manager that comes back reachable.
"""

import os
import re
import time
from pathlib import Path

import pytest
from conftest import run_playbook
from swarm_helpers import MANAGERS, WORKERS, by_host, dexec, wait_for

PLAYBOOKS = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "playbooks"
NODE = "swarm-worker1"
VIA = "swarm-manager2"
BUSYBOX = "condaswarm/busybox:latest"
UNTIL = 20  # housekeeping_prune_until in molecule.yml, in seconds


def images(node=NODE):
    return set(dexec(node, "docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}").stdout.split())


def commit(name, *changes):
    """A new image on NODE (distinct by its ENV), created now."""
    dexec(NODE, "docker", "rm", "-f", "hk-base", check=False)
    dexec(NODE, "docker", "create", "--name", "hk-base", BUSYBOX, "true")
    dexec(NODE, "docker", "commit", *[arg for change in changes for arg in ("--change", change)], "hk-base", name)
    dexec(NODE, "docker", "rm", "hk-base")


@pytest.fixture(scope="module")
def made():
    """Images made at the start of the module (older than UNTIL by the time the prune runs), and a service that
    ran on one of them and was updated to busybox: its first task's container stays, stopped, in the task history."""
    commit("condaswarm/hk-unused:1", "ENV HK=unused")
    commit("condaswarm/hk-labelled:1", "ENV HK=labelled", "LABEL io.condaswarm.keep=yes")
    commit("condaswarm/hk-rollback:1", "ENV HK=rollback")
    dexec(VIA, "docker", "service", "rm", "hk", check=False)
    dexec(
        VIA, "docker", "service", "create", "--name", "hk", "--constraint", f"node.hostname=={NODE}",
        "--no-resolve-image", "--detach=false", "--quiet", "condaswarm/hk-rollback:1", "sleep", "3600",
    )  # fmt: skip
    dexec(
        VIA, "docker", "service", "update", "--image", BUSYBOX, "--no-resolve-image", "--detach=false", "--quiet", "hk"
    )
    yield time.monotonic()
    dexec(VIA, "docker", "service", "rm", "hk", check=False)


def test_prune_timer_on_every_node():
    for node in MANAGERS + WORKERS:
        assert dexec(node, "systemctl", "is-enabled", "condaswarm-prune-images.timer").stdout.strip() == "enabled"
        assert dexec(node, "systemctl", "is-active", "condaswarm-prune-images.timer").stdout.strip() == "active"


def manager_ready(name, via=VIA):
    node = by_host(via)[name][0]
    return node["Status"]["State"] == "ready" and node["ManagerStatus"]["Reachability"] == "reachable"


def test_backup_swarm_on_a_non_leader_manager(made, report):
    leader = next(h for h, n in by_host(VIA).items() if n[0].get("ManagerStatus", {}).get("Leader"))
    start = time.monotonic()
    run = run_playbook(PLAYBOOKS / "backup_swarm.yml", extra_vars={"backup_swarm_confirm": False})
    elapsed = time.monotonic() - start
    assert run.rc == 0, run.output
    target = re.search(r"(swarm-manager\d): /var/lib/docker/swarm copied to /var/backups/condaswarm/swarm", run.output)
    assert target, run.output
    target = target.group(1)
    report(
        f"swarm backup_swarm.yml on {target} (drain, engine stop, copy, start, reachable, activate): {elapsed:.1f} s"
    )
    assert target != leader
    copied = dexec(target, "ls", "/var/backups/condaswarm/swarm").stdout.split()
    assert {"raft", "certificates", "docker-state.json"} <= set(copied), copied
    assert dexec(target, "stat", "-c", "%a %U", "/var/backups/condaswarm").stdout.strip() == "700 root"
    assert all(manager_ready(m) for m in MANAGERS)
    assert by_host(VIA)[target][0]["Spec"]["Availability"] == "active"
    # Stopping a follower forces no election: the leader is the same one.
    assert by_host(VIA)[leader][0]["ManagerStatus"]["Leader"] is True


def test_prune_keeps_what_services_and_rollbacks_need(made, report):
    time.sleep(max(0.0, made + UNTIL + 3 - time.monotonic()))
    commit("condaswarm/hk-fresh:1", "ENV HK=fresh")
    # The first task's container, stopped, is what keeps its image.
    stopped = dexec(NODE, "docker", "ps", "-aq", "--filter", "ancestor=condaswarm/hk-rollback:1").stdout.split()
    assert stopped, "the updated service's first task container is gone"
    before = images()
    assert {"condaswarm/hk-unused:1", "condaswarm/hk-labelled:1", "condaswarm/hk-fresh:1"} <= before
    start = time.monotonic()
    dexec(NODE, "systemctl", "start", "condaswarm-prune-images.service")
    report(f"swarm condaswarm-prune-images.service on {NODE}: {time.monotonic() - start:.1f} s")
    after = images()
    assert "condaswarm/hk-unused:1" not in after
    kept = {BUSYBOX, "condaswarm/hk-rollback:1", "condaswarm/hk-labelled:1", "condaswarm/hk-fresh:1"}
    assert kept <= after, kept - after
    assert wait_for(
        lambda: dexec(VIA, "docker", "service", "ps", "-q", "--filter", "desired-state=running", "hk").stdout
    )
