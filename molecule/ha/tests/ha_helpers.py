"""Names of the ha scenario, and the platform client of molecule/jupyter_stack reused by import.

stack_helpers (login, API, kernel websocket, replica lookup) reads its node names and entry point from
module globals: they are pointed at this scenario's nodes here, before anything else imports it, and
the module is registered under its own name so that every importer shares the same one.
"""

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

STACK_TESTS = Path(__file__).resolve().parents[2] / "jupyter_stack" / "tests"


def _load(name, path):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


stack = _load("stack_helpers", STACK_TESTS / "stack_helpers.py")

MANAGERS = ["ha-manager1", "ha-manager2", "ha-manager3"]
WORKERS = ["ha-worker1", "ha-worker2"]
SPARE = "ha-spare"
IPS = {"ha-manager1": "10.208.0.11", "ha-manager2": "10.208.0.12", "ha-manager3": "10.208.0.13"}
# The tests talk to the first manager's proxy; the nodes they kill are others.
MANAGER = MANAGERS[0]
stack.MANAGER = MANAGER
stack.MANAGER_IP = IPS[MANAGER]
stack.BASE = f"https://{IPS[MANAGER]}/"
# replica_of() looks for replicas on these nodes; the spare joins the list once it is a worker.
stack.WORKERS[:] = [*WORKERS, SPARE]

SERVICE = stack.SERVICE
STICKY = stack.STICKY
ROOT = stack.ROOT
PLAYBOOKS = ROOT / "playbooks"
node, api, run_playbook, session = stack.node, stack.api, stack.run_playbook, stack.session

# Poller, current_image and running_images of the jupyter_stack update tests (module object only:
# its tests are not collected here).
update = _load("jupyter_stack_update", STACK_TESTS / "test_3_update.py")


def base(name):
    return f"https://{IPS[name]}/"


def serves(cafile, url, timeout=10):
    """True when `url` answers 200 (verified against the stack's CA); a refused or reset connection is False."""
    try:
        return session(cafile).get(url, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def wait(predicate, timeout, what, step=2):
    """Poll predicate until it is true; returns the seconds it took, fails the test after timeout."""
    started = time.time()
    while time.time() - started < timeout:
        if predicate():
            return time.time() - started
        time.sleep(step)
    pytest.fail(f"{what}: not within {timeout} s")


def node_field(manager, name, template):
    return manager.run(f"docker node inspect {name} -f '{template}'").stdout.strip()


def restart_node(name):
    """Start a killed node container again and wait for its systemd (and so its dockerd)."""
    subprocess.run(["docker", "start", name], check=True, capture_output=True)
    subprocess.run(
        ["docker", "exec", name, "systemctl", "is-system-running", "--wait"], check=False, capture_output=True
    )


def running_tasks(manager):
    """(node, container state) of the service's tasks that should run."""
    out = manager.check_output(
        f"docker service ps {SERVICE} --filter desired-state=running --format '{{{{.Node}}}} {{{{.CurrentState}}}}'"
    )
    return [(line.split()[0], line.split()[1]) for line in out.splitlines() if line.strip()]


def healthy_replicas(name):
    """Healthy Jupyter containers on a node (the healthcheck, not just the process)."""
    out = (
        node(name)
        .run(f"docker ps -q --filter label=com.docker.swarm.service.name={SERVICE} --filter health=healthy")
        .stdout
    )
    return len(out.split())


def kill_node(name):
    """A power cut: the node container is killed, no clean shutdown."""
    subprocess.run(["docker", "kill", name], check=True, capture_output=True)


def placement(manager):
    """Running replicas of the Jupyter service per node (Swarm's view)."""
    counts = {}
    for name, state in running_tasks(manager):
        if state == "Running":
            counts[name] = counts.get(name, 0) + 1
    return counts


def set_spread(manager, replicas, max_per_node):
    """The service's replica count and per-node cap (0: none), as jupyter_stack_replicas and
    jupyter_stack_max_replicas_per_node deploy them; waits until the update converged."""
    manager.check_output(
        f"timeout 300 docker service update --detach=false --quiet --replicas {replicas}"
        f" --replicas-max-per-node {max_per_node} {SERVICE}"
    )
