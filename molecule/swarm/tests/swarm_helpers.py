"""Read the lab Swarm from the controller (docker exec into the node containers)."""

import json
import subprocess
import time

MANAGERS = ["swarm-manager1", "swarm-manager2", "swarm-manager3"]
WORKERS = ["swarm-worker1", "swarm-worker2"]


def dexec(node, *args, check=True):
    proc = subprocess.run(["docker", "exec", node, *args], capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{node}: {' '.join(args)} failed: {proc.stderr}")
    return proc


def nodes(via="swarm-manager1"):
    ids = dexec(via, "docker", "node", "ls", "-q").stdout.split()
    return json.loads(dexec(via, "docker", "node", "inspect", *ids).stdout)


def by_host(via="swarm-manager1"):
    result = {}
    for node in nodes(via):
        result.setdefault(node["Description"]["Hostname"], []).append(node)
    return result


def service(name, via="swarm-manager1"):
    return json.loads(dexec(via, "docker", "service", "inspect", name).stdout)[0]


def running_tasks(name, via="swarm-manager1"):
    """(node hostname, image) of the service's running tasks."""
    ids = dexec(via, "docker", "service", "ps", "-q", "--filter", "desired-state=running", name).stdout.split()
    tasks = json.loads(dexec(via, "docker", "inspect", *ids).stdout) if ids else []
    names = {n["ID"]: n["Description"]["Hostname"] for n in nodes(via)}
    return [
        (names.get(t["NodeID"]), t["Spec"]["ContainerSpec"]["Image"])
        for t in tasks
        if t["Status"]["State"] == "running"
    ]


def wait_for(predicate, timeout=90, interval=2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
