"""playbooks/remove_node.yml takes a worker, then a manager, out of the Swarm: it asks first (an unconfirmed run
changes nothing), the Swarm keeps a leader, the node is gone from the node list and has left, its tasks run
elsewhere, and the play says what the inventory still needs. Last of the scenario: it shrinks the cluster."""

import json

import pytest
from ha_helpers import MANAGER, MANAGERS, PLAYBOOKS, SERVICE, WORKERS, node, run_playbook, running_tasks, wait

testinfra_hosts = [f"ansible://{MANAGER}"]


def _hostnames(manager):
    return manager.check_output("docker node ls --format '{{.Hostname}}'").split()


def test_unconfirmed_removal_changes_nothing(manager):
    victim = WORKERS[1]
    run = run_playbook(PLAYBOOKS / "remove_node.yml", extra_vars={"remove_node": victim})
    assert run.rc != 0
    assert "Not confirmed: nothing was changed" in run.output
    assert victim in _hostnames(manager)
    assert node(victim).check_output("docker info --format '{{.Swarm.LocalNodeState}}'") == "active"


@pytest.mark.parametrize("victim", [WORKERS[1], MANAGERS[2]])
def test_node_removed(victim, manager, report):
    run = run_playbook(PLAYBOOKS / "remove_node.yml", extra_vars={"remove_node": victim, "remove_node_confirm": "yes"})
    assert run.rc == 0, run.output
    assert victim not in _hostnames(manager)
    assert node(victim).check_output("docker info --format '{{.Swarm.LocalNodeState}}'") == "inactive"
    # The managers that stay still have a leader and every one is reachable.
    nodes = [json.loads(line) for line in manager.check_output("docker node ls --format '{{json .}}'").splitlines()]
    statuses = sorted(n["ManagerStatus"] for n in nodes if n["ManagerStatus"])
    assert "Leader" in statuses and all(s in ("Leader", "Reachable") for s in statuses), statuses
    # The service's tasks run on the nodes that stay, at the service's full count.
    wanted = int(manager.check_output(f"docker service inspect -f '{{{{.Spec.Mode.Replicated.Replicas}}}}' {SERVICE}"))
    wait(
        lambda: (
            len([n for n, state in running_tasks(manager) if state == "Running"]) == wanted
            and all(n != victim for n, _ in running_tasks(manager))
        ),
        120,
        f"{SERVICE} running {wanted} replicas without {victim}",
    )
    assert f"Remove {victim} from" in run.output
    report(f"ha remove_node.yml {victim}: left the Swarm, {len(statuses)} managers remain ({', '.join(statuses)})")
