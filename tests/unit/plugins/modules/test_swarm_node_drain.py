"""swarm_node_drain: main() against a fake Docker API whose tasks move when a node is drained."""

import pytest
from ansible_collections.condaswarm.cluster.plugins.modules.swarm_node_drain import main
from swarm_fakes import make_task


@pytest.fixture
def swarm(fake_docker):
    """worker1 runs web.1 and web.2 (replicated) and one agent task (global); worker2 runs web.3."""
    fake = fake_docker
    fake.m1 = fake.add_node("manager1", role="manager")
    fake.w1 = fake.add_node("worker1")
    fake.w2 = fake.add_node("worker2")
    fake.web = fake.add_service("web", replicas=3)
    fake.agent = fake.add_service("agent", mode={"Global": {}})
    fake.web1 = fake.add_task(fake.web, fake.w1, slot=1)
    fake.web2 = fake.add_task(fake.web, fake.w1, slot=2)
    fake.add_task(fake.web, fake.w2, slot=3)
    fake.agent1 = fake.add_task(fake.agent, fake.w1, slot=None)
    return fake


def swarm_moves_tasks(after_polls=2):
    """The reaction to a drain: tasks on the node stop after some polls, replacements start on worker2."""

    def react(fake, node):
        def move(fake):
            for task in list(fake.tasks_db):
                if task["NodeID"] == node["ID"] and task["Status"]["State"] == "running":
                    task["DesiredState"] = "shutdown"
                    task["Status"]["State"] = "shutdown"
                    service = fake.services_db[task["ServiceID"]]
                    if "Replicated" in service["Spec"]["Mode"]:
                        fake.tasks_db.append(make_task(service, fake.w2["ID"], slot=task["Slot"]))

        fake.steps = [lambda fake: None] * after_polls + [move]

    return react


def test_drain_waits_and_reports_moved_tasks(swarm, run_module, clock):
    swarm.on_node_update = swarm_moves_tasks(after_polls=2)
    result = run_module(main, {"node": "worker1"})
    assert "failed" not in result, result["msg"]
    assert result["changed"] is True
    assert result["availability_before"] == "active"
    assert result["availability_after"] == "drain"
    assert swarm.called("update_node")[0][2] == {"Labels": {}, "Role": "worker", "Availability": "drain"}
    moved = {t["task"]: t for t in result["moved_tasks"]}
    # the global agent task is not reported, only the replicated ones
    assert set(moved) == {swarm.web1["ID"], swarm.web2["ID"]}
    for task in moved.values():
        assert task["service"] == "web"
        assert task["from_node"] == "worker1"
        assert task["new_task_node"] == "worker2"
        assert task["new_task_state"] == "running"
    assert clock.slept >= 2 * 2  # waited while the tasks were still running
    assert result["elapsed"] == pytest.approx(clock.slept)


def test_node_update_out_of_sequence_is_retried(swarm, run_module):
    # The node changed between the module's read and its write (another client labelled it).
    def relabel(fake, node):
        node["Version"]["Index"] += 1
        node["Spec"]["Labels"] = {"zone": "a"}

    swarm.interfere = [relabel]
    result = run_module(main, {"node": "worker1", "availability": "pause"})
    assert "failed" not in result, result["msg"]
    assert [c[1] for c in swarm.called("refused")] == ["update_node"]
    assert swarm.called("update_node")[0][2] == {"Labels": {"zone": "a"}, "Role": "worker", "Availability": "pause"}
    assert result["node"]["availability"] == "pause"


def test_node_update_out_of_sequence_gives_up(swarm, run_module):
    swarm.interfere = [lambda fake, node: node["Version"].update(Index=node["Version"]["Index"] + 1)] * 10
    result = run_module(main, {"node": "worker1", "availability": "pause"})
    assert result["failed"] is True
    assert "could not set the availability of node worker1 to pause" in result["msg"]
    assert not swarm.called("update_node")
    assert result["availability_before"] == "active"
    # nothing was written: the failure must not say changed (nor claim the new availability)
    assert result["changed"] is False
    assert result["availability_after"] == "active"


def test_already_drained_is_unchanged(swarm, run_module):
    swarm.w1["Spec"]["Availability"] = "drain"
    result = run_module(main, {"node": "worker1", "availability": "drain"})
    assert result["changed"] is False
    assert not swarm.called("update_node")
    assert result["moved_tasks"] == []


def test_check_mode_lists_tasks_that_would_move(swarm, run_module):
    result = run_module(main, {"node": "worker1"}, check_mode=True, diff=True)
    assert result["changed"] is True
    assert not swarm.called("update_node")
    assert {t["task"] for t in result["moved_tasks"]} == {swarm.web1["ID"], swarm.web2["ID"]}
    assert all("new_task_node" not in t for t in result["moved_tasks"])
    assert result["diff"] == {"before": {"availability": "active"}, "after": {"availability": "drain"}}


def test_activate_does_not_wait(swarm, run_module):
    swarm.w1["Spec"]["Availability"] = "drain"
    result = run_module(main, {"node": swarm.w1["ID"], "availability": "active"}, diff=True)
    assert result["changed"] is True
    assert swarm.called("update_node")[0][2]["Availability"] == "active"
    assert result["moved_tasks"] == []
    assert result["diff"]["after"] == {"availability": "active"}


def test_node_found_by_id_prefix(swarm, run_module):
    result = run_module(main, {"node": "node-worker2", "availability": "pause"})
    assert result["changed"] is True
    assert result["node"]["hostname"] == "worker2"


def test_drain_timeout_names_remaining_tasks(swarm, run_module, clock):
    result = run_module(main, {"node": "worker1", "timeout": 6})
    assert result["failed"] is True
    assert "still run on it after 6 s" in result["msg"]
    assert swarm.web1["ID"] in result["msg"]
    assert "worker1" in result["msg"]
    assert {t["id"] for t in result["remaining_tasks"]} == {swarm.web1["ID"], swarm.web2["ID"]}
    assert 6 <= clock.slept <= 8


def test_unknown_node_fails_listing_known_ones(swarm, run_module):
    result = run_module(main, {"node": "worker9"})
    assert result["failed"] is True
    assert "'worker9' is not a member" in result["msg"]
    assert "manager1, worker1, worker2" in result["msg"]
    assert not swarm.called("update_node")


def test_bad_availability_is_refused(swarm, run_module):
    result = run_module(main, {"node": "worker1", "availability": "off"})
    assert result["failed"] is True
    assert "availability" in result["msg"]
