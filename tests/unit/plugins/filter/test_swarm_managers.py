"""swarm_ready_managers: the first Ready, reachable manager runs site.yml's one-manager plays."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.condaswarm.cluster.plugins.filter.swarm_managers import (
    FilterModule,
    swarm_manager_problems,
    swarm_ready_managers,
)


def answer(role="manager", state="ready", reachability="reachable", leader=False):
    node = {"Spec": {"Role": role, "Availability": "active"}, "Status": {"State": state}}
    if role == "manager":
        node["ManagerStatus"] = {"Reachability": reachability, "Leader": leader}
    return {"changed": False, "nodes": [node]}


NO_LEADER = {"failed": True, "msg": "Error running docker swarm module: The swarm does not have a leader."}
DOWN = {"unreachable": True, "msg": "Failed to create temporary directory"}
NOT_SWARM = {"failed": True, "msg": "Docker is not a Swarm manager"}


@pytest.mark.parametrize(
    ("answers", "order", "expected"),
    [
        ({"m1": answer(leader=True), "m2": answer(), "m3": answer()}, ["m1", "m2", "m3"], ["m1", "m2", "m3"]),
        ({"m1": DOWN, "m2": answer(), "m3": answer(leader=True)}, ["m1", "m2", "m3"], ["m2", "m3"]),
        ({"m1": answer(reachability="unreachable"), "m2": answer()}, ["m1", "m2"], ["m2"]),
        ({"m1": answer(state="down"), "m2": answer(state="unknown"), "m3": answer()}, None, ["m3"]),
        ({"m1": NO_LEADER, "m2": NO_LEADER}, None, []),
        ({"m1": NOT_SWARM, "w1": answer(role="worker"), "m2": answer()}, None, ["m2"]),
        # Inventory order wins over the order the answers came in; hosts outside the order are ignored.
        ({"m3": answer(), "m2": answer(), "x": answer()}, ["m1", "m2", "m3"], ["m2", "m3"]),
        ({"m1": {"skipped": True}, "m2": {"nodes": []}, "m3": "junk"}, None, []),
    ],
    ids=[
        "all-ready",
        "first-down",
        "first-unreachable-in-raft",
        "not-ready",
        "no-leader",
        "not-managers",
        "order",
        "junk",
    ],
)
def test_ready_managers(answers, order, expected):
    assert swarm_ready_managers(answers, order) == expected


def test_problems_say_why():
    problems = swarm_manager_problems(
        {
            "m1": DOWN,
            "m2": NO_LEADER,
            "m3": answer(state="down"),
            "m4": answer(reachability="unreachable"),
            "m5": answer(),
        }
    )
    assert problems == {
        "m1": "unreachable",
        "m2": NO_LEADER["msg"],
        "m3": "node state down",
        "m4": "manager reachability unreachable",
    }


@pytest.mark.parametrize("bad", [None, [], "m1"])
def test_refuses_what_is_not_a_dict(bad):
    with pytest.raises(AnsibleFilterError, match="dict of inventory host"):
        swarm_ready_managers(bad)
    with pytest.raises(AnsibleFilterError, match="dict of inventory host"):
        swarm_manager_problems(bad)


def test_registered():
    assert set(FilterModule().filters()) == {"swarm_ready_managers", "swarm_manager_problems"}
