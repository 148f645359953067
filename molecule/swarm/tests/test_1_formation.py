"""The Swarm that converge formed, as its managers see it."""

from swarm_helpers import MANAGERS, WORKERS, by_host, dexec

LABELS = {
    "swarm-manager1": {"zone": "a"},
    "swarm-manager2": {"zone": "b"},
    "swarm-manager3": {"zone": "c"},
    "swarm-worker1": {"zone": "a", "disk": "ssd"},
    "swarm-worker2": {"zone": "b"},
}


def test_every_node_ready_with_its_role():
    seen = by_host()
    assert sorted(seen) == sorted(MANAGERS + WORKERS), "swarm-worker3 must not be in the Swarm yet"
    for host, entries in seen.items():
        assert len(entries) == 1, f"{host} has {len(entries)} entries"
        node = entries[0]
        assert node["Status"]["State"] == "ready", host
        assert node["Spec"]["Role"] == ("manager" if host in MANAGERS else "worker"), host


def test_three_reachable_managers_seen_from_each_manager():
    for via in MANAGERS:
        managers = [n[0] for n in by_host(via).values() if n[0]["Spec"]["Role"] == "manager"]
        assert sorted(m["ManagerStatus"]["Reachability"] for m in managers) == ["reachable"] * 3, via
        assert sum(bool(m["ManagerStatus"].get("Leader")) for m in managers) == 1, via


def test_labels():
    seen = by_host()
    for host, labels in LABELS.items():
        assert seen[host][0]["Spec"]["Labels"] == labels, host


def test_swarm_settings():
    out = dexec("swarm-manager2", "docker", "info", "--format", "{{json .Swarm.Cluster.Spec}}").stdout
    assert '"HeartbeatPeriod":2000000000' in out
    assert '"TaskHistoryRetentionLimit":3' in out


def test_worker3_not_joined():
    state = dexec("swarm-worker3", "docker", "info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()
    assert state == "inactive"


def test_node_python_libraries_installed():
    """prepare.yml removed python3-docker and python3-requests from swarm-manager2; the role put them back."""
    for node in [*MANAGERS, *WORKERS]:
        dexec(node, "python3", "-c", "import docker, requests, yaml")
    status = dexec("swarm-manager2", "dpkg-query", "-W", "-f=${Status}\n", "python3-docker", "python3-requests")
    assert status.stdout.split("\n")[:2] == ["install ok installed"] * 2
