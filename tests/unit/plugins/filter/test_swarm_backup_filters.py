"""backup_swarm.yml's choice of the manager to stop: never the leader, never when quorum would be at risk."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.condaswarm.cluster.plugins.filter.swarm_backup import FilterModule, swarm_backup_manager


def node(node_id, hostname, leader=False, reachability="reachable", manager=True):
    entry = {"ID": node_id, "Description": {"Hostname": hostname}}
    if manager:
        entry["ManagerStatus"] = {"Leader": leader, "Reachability": reachability}
    return entry


THREE = [node("id1", "m1", leader=True), node("id2", "m2"), node("id3", "m3"), node("id4", "w1", manager=False)]
IDS = {"m1": "id1", "m2": "id2", "m3": "id3"}


@pytest.mark.parametrize(
    ("nodes", "ids", "requested", "expected"),
    [
        pytest.param(THREE, IDS, "", "m2", id="first-non-leader"),
        pytest.param(THREE, IDS, "m3", "m3", id="requested"),
        pytest.param(THREE, {"m1": "id1", "m3": "id3"}, "", "m3", id="only-answering-hosts"),
        pytest.param(
            [node("id1", "m1"), node("id2", "m2", leader=True), node("id3", "m3")], IDS, "", "m1", id="leader-moved"
        ),
    ],
)
def test_swarm_backup_manager_picks(nodes, ids, requested, expected):
    assert swarm_backup_manager(nodes, ids, requested) == expected


@pytest.mark.parametrize(
    ("nodes", "ids", "requested", "message"),
    [
        pytest.param(THREE[:2] + THREE[3:], IDS, "", "has 2 manager", id="two-managers"),
        pytest.param(
            [THREE[0], THREE[1], node("id3", "m3", reachability="unreachable")], IDS, "", "m3 not reachable", id="down"
        ),
        pytest.param(THREE, IDS, "m1", "m1 is the leader", id="requested-leader"),
        pytest.param(THREE, IDS, "w1", "w1 is not a manager that answered", id="requested-worker"),
        pytest.param(THREE, {"m1": "id1"}, "", "no manager of the inventory", id="only-the-leader-answers"),
        pytest.param({}, IDS, "", "expects the Swarm's node list", id="not-a-list"),
    ],
)
def test_swarm_backup_manager_refuses(nodes, ids, requested, message):
    with pytest.raises(AnsibleFilterError, match=message):
        swarm_backup_manager(nodes, ids, requested)


def test_filter_is_registered():
    assert FilterModule().filters() == {"swarm_backup_manager": swarm_backup_manager}
