"""A user's notebook survives the loss of the worker that served them: the proxy sends the same
browser session (same cookies) to another replica, which accepts the login (shared cookie secret)
and finds the notebook on the shared storage."""

import subprocess
import time

import pytest
from stack_helpers import MANAGER, SERVICE, STICKY, WORKERS, api, node, replica_of, run_in_new_kernel

testinfra_hosts = [f"ansible://{MANAGER}"]

NOTEBOOK = "failover.ipynb"
CODE = "import socket, os\nprint(socket.gethostname(), os.getcwd())"
FAILOVER_LIMIT = 30


def notebook(source, outputs=()):
    cell = {"cell_type": "code", "execution_count": 1 if outputs else None, "metadata": {}, "outputs": list(outputs)}
    cell["source"] = source
    content = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}
    return {"type": "notebook", "format": "json", "content": content}


def wait_node_ready(manager, name, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if manager.run(f"docker node inspect {name} -f '{{{{.Status.State}}}}'").stdout.strip() == "ready":
            return
        time.sleep(2)
    pytest.fail(f"{name} not ready again after {timeout} s")


def replica_workers(manager):
    out = manager.check_output(f"docker service ps {SERVICE} --filter desired-state=running --format '{{{{.Node}}}}'")
    return out.split()


@pytest.fixture(scope="module")
def spread(manager):
    """One replica per worker, so that stopping one worker leaves a replica standing.

    Start-first updates can leave both replicas on one worker (the old task still counts when the new one
    is placed); scaling down and up again places the second replica on the emptier worker.
    """
    if len(set(replica_workers(manager))) < 2:
        manager.check_output(f"docker service scale -d {SERVICE}=1")
        time.sleep(3)
        manager.check_output(f"docker service scale {SERVICE}=2")
    workers = replica_workers(manager)
    assert sorted(workers) == sorted(WORKERS), workers


@pytest.fixture(scope="module")
def saved(user, spread):
    """A notebook created, run in a kernel through the proxy and saved with its output."""
    assert api(user, "PUT", f"api/contents/{NOTEBOOK}", notebook(CODE)).status_code in (200, 201)
    status, stdout, ename = run_in_new_kernel(user, CODE)
    assert (status, ename) == ("ok", None), stdout
    hostname, cwd = stdout.split()
    output = {"output_type": "stream", "name": "stdout", "text": stdout}
    assert api(user, "PUT", f"api/contents/{NOTEBOOK}", notebook(CODE, [output])).status_code == 200
    return hostname, cwd, stdout


def test_notebook_saved_with_its_output(user, saved):
    hostname, cwd, stdout = saved
    assert cwd == "/home/jovyan/work"
    cell = api(user, "GET", f"api/contents/{NOTEBOOK}").json()["content"]["cells"][0]
    assert cell["outputs"][0]["text"] == stdout
    # On the shared storage, seen from every node.
    for worker in WORKERS:
        assert hostname in node(worker).check_output(f"cat /srv/notebooks/{NOTEBOOK}")


def test_session_moves_to_another_replica_when_its_worker_stops(user, saved, manager, report):
    hostname, _, stdout = saved
    worker, _ = replica_of(hostname)
    assert worker, f"no replica with hostname {hostname}"
    sticky = user.cookies.get(STICKY)
    started = time.time()
    stop = subprocess.Popen(["docker", "stop", worker], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        elapsed, errors = None, []
        while time.time() - started < FAILOVER_LIMIT + 30:
            try:
                r = api(user, "GET", f"api/contents/{NOTEBOOK}", timeout=5)
                # The proxy sets a new sticky cookie when another replica answers for this client.
                if r.status_code == 200 and user.cookies.get(STICKY) != sticky:
                    elapsed = time.time() - started
                    cell = r.json()["content"]["cells"][0]
                    break
                if r.status_code != 200:
                    errors.append(r.status_code)
            except Exception as e:
                errors.append(type(e).__name__)
            time.sleep(0.25)
        assert stop.wait(120) == 0, stop.stdout.read()
        assert elapsed is not None, f"no other replica served the session within {FAILOVER_LIMIT + 30} s"
        report(
            f"failover: same session served by another replica {elapsed:.1f} s after"
            f" `docker stop {worker}` ({len(errors)} failed requests meanwhile: {errors[:5]})"
        )
        assert elapsed <= FAILOVER_LIMIT
        assert cell["outputs"][0]["text"] == stdout
        # Still logged in (no redirect to /login), on a replica on the other worker.
        status, new_stdout, _ = run_in_new_kernel(user, CODE)
        assert status == "ok"
        new_worker, _ = replica_of(new_stdout.split()[0])
        assert new_worker and new_worker != worker
    finally:
        stop.wait(120)
        subprocess.run(["docker", "start", worker], check=True, capture_output=True)
        subprocess.run(
            ["docker", "exec", worker, "systemctl", "is-system-running", "--wait"], check=False, capture_output=True
        )
        wait_node_ready(manager, worker)
