"""The rolling phase of playbooks/engine.yml on a two-node Swarm formed here (engine-debian12 manages,
engine-debian13 works): a configuration change restarts each engine once, one node after the other, each drained
first and given back the availability it had (the worker's 'pause' stays 'pause'); --check --diff shows the drain
and the restart without making them; a re-run restarts nothing and its rolling play matches no host.
The other tests of this scenario show the nodes outside a Swarm restarting at once."""

import json
import os

import pytest
import testinfra

testinfra_hosts = ["ansible://engine-debian12"]

MANAGER, WORKER = "engine-debian12", "engine-debian13"


def _node(name):
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=os.environ["MOLECULE_INVENTORY_FILE"])


def _start(host):
    """dockerd's start, in microseconds of the monotonic clock: the node containers share the kernel's, so the
    two nodes' values compare."""
    return int(host.check_output("systemctl show -p ExecMainStartTimestampMonotonic --value docker"))


def _size(max_size):
    return {"docker_engine_daemon_options": {"log-opts": {"max-size": max_size}}}


def _starts_logged(host):
    return int(host.check_output("journalctl -u docker -o cat | grep -c 'Daemon has completed initialization' || true"))


def swarm_hosts(swarm):
    manager, worker = swarm
    return {MANAGER: manager, WORKER: worker}


@pytest.fixture(scope="module")
def swarm():
    manager, worker = _node(MANAGER), _node(WORKER)
    addr = manager.check_output("hostname -i").split()[0]
    manager.check_output(f"docker swarm init --advertise-addr {addr}")
    token = manager.check_output("docker swarm join-token -q worker")
    worker.check_output(f"docker swarm join --token {token} {addr}:2377")
    # A worker an operator had paused: the rolling phase must give 'pause' back, not 'active'.
    manager.check_output(f"docker node update --availability pause {WORKER}")
    yield manager, worker
    worker.run("docker swarm leave --force")
    manager.run("docker swarm leave --force")


def test_change_rolls_one_node_at_a_time(swarm, converge, report):
    manager = swarm[0]
    size = json.loads(manager.file("/etc/docker/daemon.json").content_string)["log-opts"]["max-size"]
    new = _size(f"{int(size.rstrip('m')) + 1}m")
    before = {name: _start(host) for name, host in swarm_hosts(swarm).items()}
    starts = {name: _starts_logged(host) for name, host in swarm_hosts(swarm).items()}

    check = converge(check=True, extra_vars=new)
    assert check.rc == 0, check.output
    assert "Drain the node and wait until its tasks run elsewhere" in check.output
    assert {name: _start(host) for name, host in swarm_hosts(swarm).items()} == before
    assert not manager.file("/var/lib/condaswarm/docker_engine/restart-pending").exists

    run = converge(extra_vars=new)
    assert run.rc == 0, run.output
    after = {name: _start(host) for name, host in swarm_hosts(swarm).items()}
    for name, host in swarm_hosts(swarm).items():
        assert after[name] != before[name], name
        assert _starts_logged(host) == starts[name] + 1, name  # one restart each, not the handler and another
        assert not host.file("/var/lib/condaswarm/docker_engine/restart-pending").exists
        assert host.check_output("docker info --format '{{.Swarm.LocalNodeState}}'") == "active"
    # The manager (first in the play) restarted first; the worker only once the manager was back (its restart
    # comes after the manager's by at least the wait for Ready and the worker's drain).
    assert after[WORKER] > after[MANAGER], after
    avail = manager.check_output("docker node ls --format '{{.Hostname}} {{.Availability}} {{.Status}}'")
    assert sorted(avail.splitlines()) == [f"{MANAGER} Active Ready", f"{WORKER} Pause Ready"], avail
    report(
        f"docker_engine rolling: 2 nodes restarted one after the other, {(after[WORKER] - after[MANAGER]) / 1e6:.1f} s"
        " between the two dockerd starts"
    )

    again = converge(extra_vars=new)
    assert again.rc == 0, again.output
    assert again.changed == 0, again.output
    assert "skipping: no hosts matched" in again.output.split("rolled one Swarm node at a time")[1]
    assert {name: _start(host) for name, host in swarm_hosts(swarm).items()} == after
