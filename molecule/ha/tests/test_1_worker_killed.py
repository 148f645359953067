"""A worker killed mid-session (docker kill: no clean shutdown, as a power cut): the same logged-in
browser session is served again through the proxy, by the replica on the other worker, and Swarm
brings the service back to its full count on the remaining worker."""

import subprocess
import time

import pytest
from ha_helpers import (
    MANAGER,
    SERVICE,
    STICKY,
    WORKERS,
    api,
    healthy_replicas,
    node_field,
    restart_node,
    running_tasks,
    stack,
    wait,
)

testinfra_hosts = [f"ansible://{MANAGER}"]

NOTEBOOK = "ha-failover.ipynb"
CODE = "import socket\nprint(socket.gethostname())"
SERVED_LIMIT = 30
FULL_COUNT_LIMIT = 120


def notebook(source):
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
    return {
        "type": "notebook",
        "format": "json",
        "content": {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 4},
    }


@pytest.fixture(scope="module")
def spread(manager):
    """One replica per worker, so that killing one leaves a replica standing (see jupyter_stack)."""
    if len({n for n, _ in running_tasks(manager)}) < 2:
        manager.check_output(f"docker service scale -d {SERVICE}=1")
        time.sleep(3)
        manager.check_output(f"docker service scale {SERVICE}=2")
    assert sorted(n for n, _ in running_tasks(manager)) == sorted(WORKERS)
    wait(lambda: all(healthy_replicas(w) == 1 for w in WORKERS), 120, "one healthy replica per worker")


@pytest.fixture(scope="module")
def victim(user, spread):
    """The worker whose replica serves the user's session (found from a kernel's hostname)."""
    assert api(user, "PUT", f"api/contents/{NOTEBOOK}", notebook(CODE)).status_code in (200, 201)
    status, stdout, ename = stack.run_in_new_kernel(user, CODE)
    assert (status, ename) == ("ok", None), stdout
    worker, _ = stack.replica_of(stdout.split()[0])
    assert worker in WORKERS, stdout
    return worker


def test_session_served_again_after_its_worker_is_killed(user, victim, manager, report):
    sticky = user.cookies.get(STICKY)
    survivor = next(w for w in WORKERS if w != victim)
    try:
        started = time.time()
        subprocess.run(["docker", "kill", victim], check=True, capture_output=True)
        served, errors = None, []
        while time.time() - started < SERVED_LIMIT + 30:
            try:
                r = api(user, "GET", f"api/contents/{NOTEBOOK}", timeout=5)
                if r.status_code == 200 and user.cookies.get(STICKY) != sticky:
                    served = time.time() - started
                    break
                errors.append(r.status_code)
            except Exception as e:
                errors.append(type(e).__name__)
            time.sleep(0.25)
        assert served is not None, f"session not served again within {SERVED_LIMIT + 30} s: {errors[-5:]}"
        report(
            f"ha worker kill: same session served {served:.1f} s after `docker kill {victim}`"
            f" ({len(errors)} failed requests meanwhile: {errors[:5]})"
        )
        assert served <= SERVED_LIMIT
        # Still logged in (a kernel starts, no redirect to /login), on the surviving worker.
        status, stdout, _ = stack.run_in_new_kernel(user, CODE)
        assert status == "ok"
        assert stack.replica_of(stdout.split()[0])[0] == survivor

        # Swarm notices the node is down and places the lost replica on the survivor.
        full = wait(
            lambda: healthy_replicas(survivor) == 2 and node_field(manager, victim, "{{.Status.State}}") == "down",
            FULL_COUNT_LIMIT,
            f"2 healthy replicas on {survivor}",
        )
        report(f"ha worker kill: 2 healthy replicas on {survivor} {time.time() - started:.1f} s after the kill")
        # Swarm's own view agrees: both tasks it wants running run on the survivor.
        running = [n for n, state in running_tasks(manager) if state == "Running"]
        assert running == [survivor] * 2, running_tasks(manager)
        assert full <= FULL_COUNT_LIMIT
    finally:
        restart_node(victim)
        wait(lambda: node_field(manager, victim, "{{.Status.State}}") == "ready", 120, f"{victim} ready again")
