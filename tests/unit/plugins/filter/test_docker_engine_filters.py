"""The docker_engine role's rolling-phase filters: the manager to talk through, the quorum check before a
restart, and the node being back (Ready, and reachable for a manager)."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.condaswarm.cluster.plugins.filter.docker_engine import (
    FilterModule,
    engine_manager_via,
    engine_node_ready,
    engine_restart_check,
    engine_services_short,
)


def _node(node_id, role="worker", reach=None, state="ready", availability="active"):
    node = {
        "ID": node_id,
        "Description": {"Hostname": f"host-{node_id}"},
        "Spec": {"Role": role, "Availability": availability},
        "Status": {"State": state},
    }
    if reach is not None:
        node["ManagerStatus"] = {"Reachability": reach}
    return node


M1, M2, M3 = (_node(f"m{i}", "manager", "reachable") for i in (1, 2, 3))
W1 = _node("w1")
CLUSTER = [M1, M2, M3, W1]


def _answer(item, control):
    return {"item": item, "host_info": {"Swarm": {"ControlAvailable": control}}}


@pytest.mark.parametrize(
    ("answers", "host", "expected"),
    [
        ([_answer("a", True), _answer("b", True)], "a", "b"),
        ([_answer("a", True), _answer("b", True)], "w", "a"),
        ([_answer("a", True), _answer("b", False)], "a", "a"),  # the only manager left answers for itself
        ([{"item": "a", "failed": True, "msg": "down"}, _answer("b", True)], "c", "b"),
        ([{"item": "a", "unreachable": True}], "a", ""),
        ([], "a", ""),
        (None, "a", ""),
    ],
)
def test_manager_via(answers, host, expected):
    assert engine_manager_via(answers, host) == expected


@pytest.mark.parametrize(
    ("nodes", "node_id", "safe", "msg_part"),
    [
        (CLUSTER, "w1", True, ""),
        (CLUSTER, "m1", True, ""),
        # One manager already unreachable: the restart of another would leave 1 of 3.
        ([M1, _node("m2", "manager", "unreachable", "down"), M3, W1], "m1", False, "host-m2 not"),
        # The unreachable one itself may restart: the two others keep the quorum.
        ([M1, _node("m2", "manager", "unreachable", "down"), M3, W1], "m2", True, ""),
        # Two managers: restarting either leaves 1 of 2, no majority.
        ([M1, M2, W1], "m1", False, "Raft needs 2"),
        ([_node("m1", "manager", "reachable"), W1], "m1", True, "only manager"),
        (CLUSTER, "gone", False, "not in the Swarm's node list"),
    ],
)
def test_restart_check(nodes, node_id, safe, msg_part):
    result = engine_restart_check(nodes, node_id)
    assert result["safe"] is safe
    assert msg_part in result["msg"]
    if not safe and node_id != "gone":
        assert "refusing" in result["msg"]


def test_restart_check_reports_role_and_availability():
    result = engine_restart_check([*CLUSTER, _node("w2", availability="pause")], "w2")
    assert result == {
        "node": "host-w2",
        "role": "worker",
        "availability": "pause",
        "managers": 3,
        "reachable": 3,
        "safe": True,
        "msg": "",
    }


@pytest.mark.parametrize(
    ("nodes", "node_id", "expected"),
    [
        (CLUSTER, "w1", True),
        (CLUSTER, "m2", True),
        ([_node("w1", state="down")], "w1", False),
        ([_node("m1", "manager", "unreachable")], "m1", False),  # Ready but not back in the quorum yet
        ([_node("m1", "manager")], "m1", False),  # no ManagerStatus yet
        ([_node("m1", "manager", "reachable", state="unknown")], "m1", False),
        (CLUSTER, "gone", False),
    ],
)
def test_node_ready(nodes, node_id, expected):
    assert engine_node_ready(nodes, node_id) is expected


def test_not_a_node_list():
    with pytest.raises(AnsibleFilterError, match="nodes list"):
        engine_node_ready({"nodes": []}, "m1")


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["web 2/2", "hub 1/1"], []),
        (["web 1/2", "hub 1/1 (max 1 per node)", "db 0/1 (max 1 per node)"], ["web", "db"]),
        (["web 3/2"], []),  # an update's extra task counts as full
        (["", "garbage", "x ?/2"], []),
        (None, []),
    ],
)
def test_services_short(lines, expected):
    assert engine_services_short(lines) == expected


def test_filters_registered():
    assert set(FilterModule().filters()) == {
        "engine_manager_via",
        "engine_restart_check",
        "engine_node_ready",
        "engine_services_short",
    }
