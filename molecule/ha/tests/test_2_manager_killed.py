"""A manager killed: the two others keep the Raft quorum, so the cluster still accepts and rolls out a
service update (update_service.yml skips the dead manager), and the proxy answers on the live managers."""

import json
import subprocess
import time

from ha_helpers import (
    MANAGER,
    MANAGERS,
    PLAYBOOKS,
    SERVICE,
    api,
    base,
    healthy_replicas,
    node,
    node_field,
    restart_node,
    run_playbook,
    running_tasks,
    session,
    wait,
)

testinfra_hosts = [f"ansible://{MANAGER}"]

VICTIM = MANAGERS[2]


def container_env(manager):
    spec = json.loads(manager.check_output(f"docker service inspect {SERVICE}"))[0]["Spec"]
    return dict(e.split("=", 1) for e in spec["TaskTemplate"]["ContainerSpec"].get("Env") or [])


def test_update_converges_with_a_manager_down(cafile, user, manager, report):
    env = container_env(manager) | {"CONDASWARM_HA_TEST": "manager-down"}
    try:
        subprocess.run(["docker", "kill", VICTIM], check=True, capture_output=True)
        wait(
            lambda: node_field(manager, VICTIM, "{{.ManagerStatus.Reachability}}") == "unreachable",
            60,
            f"{VICTIM} unreachable",
        )
        # Both remaining managers still lead or follow a leader: writes need the quorum.
        for name in MANAGERS[:2]:
            assert node_field(manager, name, "{{.ManagerStatus.Reachability}}") == "reachable"
        started = time.time()
        run = run_playbook(PLAYBOOKS / "update_service.yml", extra_vars={"service": SERVICE, "env": env})
        elapsed = time.time() - started
        assert run.rc == 0, run.output
        assert container_env(manager)["CONDASWARM_HA_TEST"] == "manager-down"
        tasks = running_tasks(manager)
        assert len(tasks) == 2 and all(state == "Running" for _, state in tasks), tasks
        wait(lambda: sum(healthy_replicas(n) for n in {n for n, _ in tasks}) == 2, 120, "2 healthy replicas")
        # The running containers carry the new environment.
        for name in {n for n, _ in tasks}:
            envs = node(name).check_output(
                f"docker ps -q --filter label=com.docker.swarm.service.name={SERVICE}"
                " | xargs docker inspect -f '{{json .Config.Env}}'"
            )
            assert all("CONDASWARM_HA_TEST=manager-down" in line for line in envs.splitlines()), envs
        report(f"ha manager kill: update_service.yml (env) converged in {elapsed:.0f} s with {VICTIM} down")
        # The proxy on both live managers: the new visitor's API and the logged-in user's contents.
        for name in MANAGERS[:2]:
            assert session(cafile).get(base(name) + "api", timeout=10).status_code == 200
        assert api(user, "GET", "api/contents").status_code == 200
    finally:
        restart_node(VICTIM)
        wait(
            lambda: node_field(manager, VICTIM, "{{.ManagerStatus.Reachability}}") == "reachable",
            120,
            f"{VICTIM} reachable again",
        )
