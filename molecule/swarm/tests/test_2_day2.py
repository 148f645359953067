"""Day-2 work against the real Swarm (after test_1_formation.py checked the converged Swarm):
update, failed update, drain, quorum, heal, add a worker.

The tests run in file order and build on each other (one service, `web`).
"""

import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import run_playbook
from swarm_helpers import MANAGERS, WORKERS, by_host, dexec, running_tasks, service, wait_for

PLAYBOOKS = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "playbooks"
IMAGE = "condaswarm/busybox:latest"


def recap(run):
    """{host: changed} from a run's PLAY RECAP."""
    text = run.output.split("PLAY RECAP")[-1]
    return {h: int(c) for h, c in re.findall(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)", text, re.M)}


@pytest.fixture(scope="module", autouse=True)
def web():
    dexec("swarm-manager1", "docker", "service", "rm", "web", check=False)
    dexec(
        "swarm-manager1", "docker", "service", "create", "--name", "web", "--replicas", "2",
        "--endpoint-mode", "dnsrr", "--constraint", "node.role==worker", "--no-resolve-image",
        "--detach=false", "--quiet", IMAGE, "sleep", "3600",
    )  # fmt: skip
    yield "web"
    dexec("swarm-manager1", "docker", "service", "rm", "web", check=False)


def update(**extra):
    return run_playbook(PLAYBOOKS / "update_service.yml", extra_vars={"service": "web", **extra})


def test_update_service_changes_then_is_a_noop():
    first = update(image=IMAGE, replicas=3, env={"GREETING": "hello"}, update_timeout=120)
    assert first.rc == 0, first.output
    assert first.changed == 1
    spec = service("web")["Spec"]
    assert spec["Mode"]["Replicated"]["Replicas"] == 3
    assert "GREETING=hello" in spec["TaskTemplate"]["ContainerSpec"]["Env"]
    tasks = running_tasks("web")
    assert len(tasks) == 3 and all(h in WORKERS for h, _ in tasks), tasks

    second = update(image=IMAGE, replicas=3, env={"GREETING": "hello"}, update_timeout=120)
    assert second.rc == 0, second.output
    assert second.changed == 0


def test_update_to_a_missing_image_rolls_back():
    before = service("web")["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
    run = update(image="condaswarm/no-such-image:1", update_timeout=90, update_config={"monitor": 5})
    assert run.rc != 0
    assert run.failed == 1
    # The message names the task error that Docker reported on the node.
    assert re.search(r"No such image|does not exist|pull access denied|repository", run.output, re.I), run.output
    assert re.search(r"roll(ed)? ?back", run.output, re.I), run.output
    assert service("web")["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == before
    tasks = wait_for(lambda: len(running_tasks("web")) == 3 and running_tasks("web"), timeout=60)
    assert tasks and {image for _, image in tasks} == {before}, tasks


def drain(node, availability):
    return run_playbook(PLAYBOOKS / "drain_node.yml", extra_vars={"node": node, "availability": availability})


def test_drain_moves_tasks_away_and_back():
    assert any(h == "swarm-worker1" for h, _ in running_tasks("web"))
    drained = drain("swarm-worker1", "drain")
    assert drained.rc == 0, drained.output
    assert drained.changed == 1
    # The module returns once no task is left on the drained node; the replacements start right after.
    tasks = wait_for(lambda: len(running_tasks("web")) == 3 and running_tasks("web"), timeout=60)
    assert tasks and {h for h, _ in tasks} == {"swarm-worker2"}, running_tasks("web")
    assert by_host()["swarm-worker1"][0]["Spec"]["Availability"] == "drain"

    back = drain("swarm-worker1", "active")
    assert back.rc == 0, back.output
    assert by_host()["swarm-worker1"][0]["Spec"]["Availability"] == "active"
    # Swarm does not rebalance on its own: a forced update spreads the tasks again.
    spread = update(force=True, update_timeout=120)
    assert spread.rc == 0, spread.output
    assert any(h == "swarm-worker1" for h, _ in running_tasks("web"))


def manager_ready(name, via="swarm-manager2"):
    try:
        node = by_host(via)[name][0]
    except (AssertionError, KeyError):
        return False
    return node["Status"]["State"] == "ready" and node["ManagerStatus"]["Reachability"] == "reachable"


def test_one_manager_stopped(converge):
    """The first manager (the one init ran on, usually the leader) is stopped: quorum holds with 2 of 3,
    the update goes through another manager, and the role reads tokens/state from a live one."""
    subprocess.run(["docker", "stop", "swarm-manager1"], check=True, capture_output=True)
    try:
        assert wait_for(lambda: not manager_ready("swarm-manager1"), timeout=60)
        run = update(env={"GREETING": "quorum"}, update_timeout=120)
        assert run.rc == 0, run.output
        assert run.changed == 1
        env = service("web", via="swarm-manager2")["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"]
        assert "GREETING=quorum" in env
        again = converge(limit="swarm-worker1")
        assert again.rc == 0, again.output
        assert recap(again) == {"swarm-worker1": 0}, again.output
    finally:
        subprocess.run(["docker", "start", "swarm-manager1"], check=True, capture_output=True)
        assert wait_for(lambda: manager_ready("swarm-manager1"), timeout=120), "swarm-manager1 did not come back"


def test_worker_that_left_is_back_after_converge(converge):
    dexec("swarm-worker2", "docker", "swarm", "leave", "--force")
    assert wait_for(lambda: by_host()["swarm-worker2"][0]["Status"]["State"] == "down", timeout=30)
    run = converge()
    assert run.rc == 0, run.output
    assert recap(run)["swarm-worker2"] > 0
    entries = by_host()["swarm-worker2"]
    assert len(entries) == 1, "the stale entry must be removed"
    assert entries[0]["Status"]["State"] == "ready"
    assert entries[0]["Spec"]["Labels"] == {"zone": "b"}


def test_add_worker_brings_in_the_sixth_node():
    before = {h: (n[0]["ID"], n[0]["Spec"]) for h, n in by_host().items()}
    run = run_playbook(
        PLAYBOOKS / "add_worker.yml",
        limit="swarm-worker3",
        extra_vars={"add_worker_hosts": "swarm_new", "add_worker_baseline_roles": []},
    )
    assert run.rc == 0, run.output
    changed = recap(run)
    assert set(changed) == {"swarm-worker3"}, changed
    after = by_host()
    node = after["swarm-worker3"][0]
    assert node["Status"]["State"] == "ready" and node["Spec"]["Role"] == "worker"
    assert node["Spec"]["Labels"] == {"zone": "c", "new": "yes"}
    # The others are untouched (same node IDs, same specs).
    assert {h: (n[0]["ID"], n[0]["Spec"]) for h, n in after.items() if h != "swarm-worker3"} == before
    assert sorted(after) == sorted(MANAGERS + WORKERS + ["swarm-worker3"])
