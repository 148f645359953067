"""A change of the engine's configuration (daemon.json's log size) through playbooks/engine.yml, the play site.yml
imports, rolled through the 3 managers and 2 workers one node at a time while a client keeps asking the HTTPS
entry: no failed request, a manager with a leader answers throughout, never more than one node out of service,
every dockerd restarted once, in the inventory's order, and each node given back its availability."""

import base64
import itertools
import json
import time

from ha_helpers import MANAGER, PLAYBOOKS, node, run_playbook, running_tasks
from rolling_helpers import (
    LEADERLESS_LIMIT,
    NODES,
    EntryPoller,
    SwarmWatch,
    dockerd_start_count,
    dockerd_starts,
    entry_addresses,
)

testinfra_hosts = [f"ansible://{MANAGER}"]


def test_engine_change_rolls_one_node_at_a_time(cafile, manager, report):
    daemon = {name: node(name).file("/etc/docker/daemon.json").content_string for name in NODES}
    size = json.loads(daemon[MANAGER])["log-opts"]["max-size"]
    new = f"{int(size.rstrip('m')) + 1}m"
    before = dockerd_starts()
    counts = {name: dockerd_start_count(name) for name in NODES}
    addresses = entry_addresses()
    replicas = sorted(n for n, _ in running_tasks(manager))
    try:
        with SwarmWatch() as watch, EntryPoller(cafile, addresses) as poller:
            started = time.time()
            run = run_playbook(
                PLAYBOOKS / "engine.yml", extra_vars={"docker_engine_daemon_options": {"log-opts": {"max-size": new}}}
            )
            elapsed = time.time() - started
        assert run.rc == 0, run.output
        after = dockerd_starts()

        # Every node restarted once, one after the other in the inventory's order (managers first).
        assert all(after[n] != before[n] for n in NODES), (before, after)
        assert {n: dockerd_start_count(n) for n in NODES} == {n: c + 1 for n, c in counts.items()}
        assert sorted(NODES, key=after.get) == NODES, after
        gaps = [(after[b] - after[a]) / 1e6 for a, b in itertools.pairwise(NODES)]
        for name in NODES:
            live = json.loads(node(name).file("/etc/docker/daemon.json").content_string)
            assert live["log-opts"]["max-size"] == new
            assert not node(name).file("/var/lib/condaswarm/docker_engine/restart-pending").exists

        # The Swarm's view throughout: a manager with a leader answered, never two nodes out of service at once,
        # and every node back to Ready and Active.
        assert len(watch.samples) > 20
        assert max(len(s["out"]) for s in watch.samples) <= 1, [s for s in watch.samples if len(s["out"]) > 1][:3]
        assert all(s["reachable"] >= 2 for s in watch.samples if s["via"]), "a sample with fewer than 2 reachable"
        assert watch.longest_leaderless() <= LEADERLESS_LIMIT, watch.leaderless()[:5]
        out_order = [n for n in watch.out_of_service_order() if n in NODES]
        assert out_order == NODES, out_order
        rows = manager.check_output("docker node ls --format '{{.Hostname}} {{.Status}} {{.Availability}}'")
        assert all(line.split()[1:] == ["Ready", "Active"] for line in rows.splitlines()), rows

        report(
            f"ha engine rolling change (engine.yml, log max-size {size} -> {new}): {elapsed:.0f} s for"
            f" {len(NODES)} nodes; dockerd starts {', '.join(f'{g:.0f}' for g in gaps)} s apart;"
            f" entry {'/'.join(addresses)}: {poller.failed} failed of {poller.ok + poller.failed} requests"
            f" ({poller.moved} went to the next address, {poller.retried} resent once on a new connection)"
            f" {poller.errors[:5]};"
            f" {len(watch.samples)} node-list samples, {len(watch.leaderless())} without an answer with a leader"
            f" (longest {watch.longest_leaderless():.1f} s), at most"
            f" {max(len(s['out']) for s in watch.samples)} node out of service at once; Jupyter replicas on"
            f" {', '.join(replicas)} before, {', '.join(sorted(n for n, _ in running_tasks(manager)))} after"
        )
        assert poller.ok > 0
        assert poller.failed == 0, poller.errors
    finally:
        # The scenario's own configuration back in the files, without another round of restarts: the running
        # engines keep the bigger log size until test_8's upgrade restarts every one of them.
        for name, text in daemon.items():
            encoded = base64.b64encode(text.encode()).decode()
            node(name).check_output(f"echo {encoded} | base64 -d > /etc/docker/daemon.json")
