"""swarm_service_update: main() against a fake Docker API with scripted Swarm behaviour."""

import pytest
from ansible_collections.condaswarm.cluster.plugins.module_utils import swarm as swarm_utils
from ansible_collections.condaswarm.cluster.plugins.modules import swarm_service_update
from ansible_collections.condaswarm.cluster.plugins.modules.swarm_service_update import build_spec, main
from swarm_fakes import make_service, make_task

NEW_IMAGE = "condaswarm/busybox:2"


@pytest.fixture
def swarm(fake_docker):
    """Two workers, service `web` with 2 replicas of condaswarm/busybox:latest, both running."""
    fake = fake_docker
    fake.w1 = fake.add_node("worker1")
    fake.w2 = fake.add_node("worker2")
    web = fake.add_service("web")
    fake.add_task(web, fake.w1, slot=1)
    fake.add_task(web, fake.w2, slot=2)
    return fake


def converge(fake, service, ticks_before=0, state="completed"):
    """Swarm's reaction to an update: after `ticks_before` polls, every slot runs a task of the new spec."""

    def finish(fake):
        template = service["Spec"]["TaskTemplate"]
        for task in fake.tasks_db:
            if task["ServiceID"] == service["ID"]:
                task["DesiredState"] = "shutdown"
                task["Status"]["State"] = "shutdown"
        replicas = service["Spec"]["Mode"]["Replicated"]["Replicas"]
        for slot in range(1, replicas + 1):
            node = fake.nodes_db[slot % len(fake.nodes_db)]
            fake.tasks_db.append(make_task(service, node["ID"], slot=slot, template=template))
        service["UpdateStatus"] = {"State": state, "Message": "update completed"}

    fake.steps = [lambda fake: None] * ticks_before + [finish]


def reject_new_image(fake, service):
    """Swarm's reaction to an update to a missing image: the new task is rejected and the update pauses."""

    def rejected(fake):
        template = service["Spec"]["TaskTemplate"]
        fake.tasks_db.append(
            make_task(
                service,
                fake.w1["ID"],
                slot=1,
                state="rejected",
                desired="shutdown",
                err=f"No such image: {template['ContainerSpec']['Image']}",
                template=template,
            )
        )
        service["UpdateStatus"] = {"State": "paused", "Message": "update paused due to failure of task"}

    fake.steps = [lambda fake: None, rejected]


def rollback_completes(fake, service):
    """Swarm's rollback: tasks of the abandoned spec stop, the old ones keep running."""
    for task in fake.tasks_db:
        if task["ServiceID"] == service["ID"] and task["Spec"] != make_task(service, None)["Spec"]:
            task["DesiredState"] = "shutdown"
    service["UpdateStatus"] = {"State": "rollback_completed", "Message": "rollback completed"}


def test_noop_when_spec_matches(swarm, run_module):
    # Docker pinned a digest in the spec; the same name:tag is no change.
    swarm.service("web")["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] = "condaswarm/busybox:latest@sha256:abc"
    result = run_module(main, {"name": "web", "image": "condaswarm/busybox", "replicas": 2, "env": {}})
    assert result["changed"] is False, result
    assert "failed" not in result
    assert result["changes"] == []
    assert not swarm.called("update_service")
    assert "diff" not in result


def test_update_waits_until_every_task_runs_new_spec(swarm, run_module, clock):
    swarm.on_update = lambda fake, service: converge(fake, service, ticks_before=3)
    result = run_module(main, {"name": "web", "image": NEW_IMAGE, "replicas": 3, "env": {"A": 1}})
    assert "failed" not in result, result["msg"]
    assert result["changed"] is True
    assert sorted(result["changes"]) == ["env", "image", "replicas"]
    (_call, _ref, spec) = swarm.called("update_service")[0]
    assert spec["TaskTemplate"]["ContainerSpec"]["Image"] == NEW_IMAGE
    assert spec["TaskTemplate"]["ContainerSpec"]["Env"] == ["A=1"]
    assert spec["Mode"] == {"Replicated": {"Replicas": 3}}
    # untouched parts of the spec are sent back as they were
    assert spec["TaskTemplate"]["ContainerSpec"]["Args"] == ["sleep", "1d"]
    assert spec["UpdateConfig"]["Parallelism"] == 1
    assert result["before"]["image"] == "condaswarm/busybox:latest"
    assert result["after"]["image"] == NEW_IMAGE
    assert result["after"]["replicas"] == 3
    assert len(result["tasks"]) == 3
    assert {t["image"] for t in result["tasks"]} == {NEW_IMAGE}
    assert {t["node"] for t in result["tasks"]} <= {"worker1", "worker2"}
    assert result["rolled_back"] is False
    # it really waited (3 polls without progress) and says how long
    assert clock.slept >= 3 * 2
    assert result["elapsed"] == pytest.approx(clock.slept)


def test_relaxed_constraints_converge_without_new_tasks(fake_docker, run_module):
    # Swarm leaves tasks whose node still satisfies the new constraints: the wait must not expect new ones.
    fake = fake_docker
    nodes = [fake.add_node(name, labels={"jupyter": "true"}) for name in ("worker1", "worker2")]
    web = fake.add_service("web", constraints=["node.role==worker", "node.labels.jupyter==true"])
    for slot, node in enumerate(nodes, start=1):
        fake.add_task(web, node, slot=slot)
    fake.on_update = lambda fake, service: service.update(UpdateStatus={"State": "completed"})
    result = run_module(main, {"name": "web", "constraints": ["node.role==worker"], "timeout": 30})
    assert "failed" not in result, result["msg"]
    assert result["changes"] == ["constraints"]
    assert len(result["tasks"]) == 2


def test_update_not_done_while_update_status_says_updating(swarm, run_module):
    # Tasks already look new, but Swarm still reports "updating": keep waiting.
    def react(fake, service):
        converge(fake, service, state="updating")
        fake.steps.append(lambda fake: service.update(UpdateStatus={"State": "updating"}))
        fake.steps.append(lambda fake: service.update(UpdateStatus={"State": "completed"}))

    swarm.on_update = react
    result = run_module(main, {"name": "web", "image": NEW_IMAGE})
    assert "failed" not in result, result["msg"]
    assert result["update_status"]["State"] == "completed"
    assert not swarm.steps  # every scripted poll was consumed before it returned


def test_check_mode_reports_without_updating(swarm, run_module):
    result = run_module(main, {"name": "web", "image": NEW_IMAGE}, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["changes"] == ["image"]
    assert not swarm.called("update_service")
    assert result["diff"]["before"]["image"] == "condaswarm/busybox:latest"
    assert result["diff"]["after"]["image"] == NEW_IMAGE


def test_diff_shows_before_and_after(swarm, run_module):
    swarm.on_update = converge
    result = run_module(
        main,
        {"name": "web", "limits": {"cpus": 0.5, "memory": "512M"}, "constraints": ["node.role == worker"]},
        diff=True,
    )
    assert result["diff"]["before"]["limits"] == {}
    assert result["diff"]["after"]["limits"] == {"cpus": 0.5, "memory": 536870912}
    assert result["diff"]["after"]["constraints"] == ["node.role == worker"]
    spec = swarm.called("update_service")[0][2]
    assert spec["TaskTemplate"]["Resources"]["Limits"] == {"NanoCPUs": 500_000_000, "MemoryBytes": 536870912}


def test_no_diff_without_diff_mode(swarm, run_module):
    swarm.on_update = converge
    result = run_module(main, {"name": "web", "replicas": 1})
    assert result["changed"] is True
    assert "diff" not in result


def test_paused_update_rolls_back_and_names_task_node_error(swarm, run_module):
    swarm.on_update = reject_new_image
    swarm.on_rollback = rollback_completes
    result = run_module(main, {"name": "web", "image": "condaswarm/nope:1"})
    assert result["failed"] is True
    assert swarm.called("post"), "the module did not ask Swarm to roll back"
    assert swarm.called("post")[0][2]["rollback"] == "previous"
    rejected = result["failing_tasks"][0]
    msg = result["msg"]
    assert rejected["id"] in msg
    assert "worker1" in msg
    assert "No such image: condaswarm/nope:1" in msg
    assert "paused" in msg
    assert "Rolled back" in msg
    assert result["rolled_back"] is True
    assert swarm.service("web")["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == "condaswarm/busybox:latest"
    assert result["after"]["image"] == "condaswarm/busybox:latest"


def test_rollback_false_leaves_service_and_fails(swarm, run_module):
    swarm.on_update = reject_new_image
    result = run_module(main, {"name": "web", "image": "condaswarm/nope:1", "rollback": False})
    assert result["failed"] is True
    assert not swarm.called("post")
    assert result["rolled_back"] is False
    assert "Not rolled back" in result["msg"]
    assert "No such image" in result["msg"]


def test_automatic_rollback_by_swarm_is_reported(swarm, run_module):
    def swarm_rolls_back(fake, service):
        def step(fake):
            fake.tasks_db.append(
                make_task(service, fake.w2["ID"], slot=2, state="failed", desired="shutdown", err="exit 1", exit_code=1)
            )
            service["Spec"], service["PreviousSpec"] = service["PreviousSpec"], service["Spec"]
            service["UpdateStatus"] = {"State": "rollback_completed", "Message": "rollback completed"}

        fake.steps = [step]

    swarm.on_update = swarm_rolls_back
    result = run_module(main, {"name": "web", "env": {"BROKEN": "1"}})
    assert result["failed"] is True
    assert not swarm.called("post"), "Swarm already rolled back; a second rollback would undo nothing useful"
    assert result["rolled_back"] is True
    assert "worker2" in result["msg"]
    assert "exit code 1" in result["msg"]


def test_timeout_rolls_back_and_names_pending_task(swarm, run_module, clock):
    def stuck(fake, service):
        fake.tasks_db.append(
            make_task(service, None, slot=1, state="pending", template=service["Spec"]["TaskTemplate"])
        )
        fake.tasks_db[-1]["Status"]["Err"] = "no suitable node (insufficient resources on 2 nodes)"

    swarm.on_update = stuck
    swarm.on_rollback = rollback_completes
    result = run_module(main, {"name": "web", "reservations": {"memory": "64G"}, "timeout": 10})
    assert result["failed"] is True
    assert "did not complete within 10 s" in result["msg"]
    assert "insufficient resources" in result["msg"]
    assert "not scheduled on any node" in result["msg"]
    assert swarm.called("post")
    assert result["rolled_back"] is True
    # the update wait gave up at the timeout (not before, not much later)
    assert 10 <= clock.slept <= 12


def another_writer(fake, service):
    """A write between the module's read and its own: the version moves on, and a label is added."""
    service["Version"]["Index"] += 1
    service["Spec"]["Labels"] = {**service["Spec"]["Labels"], "written.by": "someone else"}


def test_update_out_of_sequence_is_retried_on_a_fresh_read(swarm, run_module, clock):
    swarm.interfere = [another_writer]
    swarm.on_update = converge
    result = run_module(main, {"name": "web", "image": NEW_IMAGE})
    assert "failed" not in result, result["msg"]
    assert result["changed"] is True
    assert result["changes"] == ["image"]
    assert [c[1] for c in swarm.called("refused")] == ["update_service"]
    (_call, _ref, spec) = swarm.called("update_service")[0]
    assert len(swarm.called("update_service")) == 1
    # The retry worked from the service as it is now, not from the stale read: the other write is kept.
    assert spec["TaskTemplate"]["ContainerSpec"]["Image"] == NEW_IMAGE
    assert spec["Labels"] == {"written.by": "someone else"}
    assert clock.slept >= swarm_utils.RETRY_DELAY


def test_update_out_of_sequence_gives_up_after_bounded_attempts(swarm, run_module):
    swarm.interfere = [another_writer] * 10
    result = run_module(main, {"name": "web", "image": NEW_IMAGE})
    assert result["failed"] is True
    assert len(swarm.called("refused")) == swarm_utils.WRITE_ATTEMPTS
    assert not swarm.called("update_service")
    assert "update out of sequence" in result["msg"]
    assert f"{swarm_utils.WRITE_ATTEMPTS} times" in result["msg"]
    assert "could not update service web" in result["msg"]
    # what the module found out is still in the result
    assert result["changes"] == ["image"]
    assert result["before"]["image"] == "condaswarm/busybox:latest"
    assert "elapsed" in result
    # nothing was written: the failure must not say changed
    assert result["changed"] is False


def test_rollback_request_out_of_sequence_is_retried(swarm, run_module):
    # Swarm writes the service itself while an update pauses: the rollback may quote a stale version.
    swarm.interfere = [None, lambda fake, service: service["Version"].update(Index=service["Version"]["Index"] + 1)]
    swarm.on_update = reject_new_image
    swarm.on_rollback = rollback_completes
    result = run_module(main, {"name": "web", "image": "condaswarm/nope:1"})
    assert result["failed"] is True
    assert [c[1] for c in swarm.called("refused")] == ["rollback"]
    assert len(swarm.called("post")) == 1
    assert result["rolled_back"] is True
    assert "Rolled back" in result["msg"]


def test_rollback_that_cannot_be_requested_says_so(swarm, run_module):
    swarm.on_update = reject_new_image
    swarm.interfere = [None] + [another_writer] * 10
    result = run_module(main, {"name": "web", "image": "condaswarm/nope:1"})
    assert result["failed"] is True
    assert result["rolled_back"] is False
    assert "No such image" in result["msg"]
    assert "The rollback could not be requested" in result["msg"]
    assert "docker service rollback web" in result["msg"]


def test_wait_false_returns_after_update(swarm, run_module):
    result = run_module(main, {"name": "web", "image": NEW_IMAGE, "wait": False})
    assert result["changed"] is True
    assert len(swarm.called("update_service")) == 1
    assert not [c for c in swarm.calls if c[0] == "tasks"]


def test_force_always_changes(swarm, run_module):
    swarm.on_update = converge
    result = run_module(main, {"name": "web", "force": True})
    assert result["changed"] is True
    assert swarm.called("update_service")[0][2]["TaskTemplate"]["ForceUpdate"] == 1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"name": "web", "replicas": -1}, "replicas must be 0 or more, got -1"),
        ({"name": "nosuch", "image": NEW_IMAGE}, "service 'nosuch' not found"),
        ({"name": "web", "limits": {"memory": "12 parsecs"}}, "limits.memory"),
        ({"name": "web", "env": {"DEBUG": True}}, "quote it"),
        ({"name": "web", "update_config": {"max_failure_ratio": 2}}, "between 0 and 1"),
        ({"name": "web", "timeout": 0}, "timeout must be a positive"),
        ({"name": "web", "update_config": {"order": "random"}}, "order"),
    ],
)
def test_bad_input_fails_clearly(swarm, run_module, args, expected):
    result = run_module(main, args)
    assert result.get("failed") is True, result
    assert expected in result["msg"]
    assert not swarm.called("update_service")


def test_replicas_on_global_service_is_refused(fake_docker, run_module):
    fake_docker.add_service("agent", mode={"Global": {}})
    result = run_module(main, {"name": "agent", "replicas": 2})
    assert result["failed"] is True
    assert "global mode" in result["msg"]


def test_missing_sdk_says_what_to_install(swarm, run_module, monkeypatch):
    monkeypatch.setattr(swarm_utils, "HAS_DOCKER", False)
    result = run_module(main, {"name": "web"})
    assert result["failed"] is True
    assert "python3-docker" in result["msg"]
    assert not swarm.calls


@pytest.mark.parametrize(
    ("current", "params", "changes"),
    [
        ({}, {"image": "condaswarm/busybox:latest"}, []),
        ({}, {"image": "condaswarm/busybox:latest@sha256:1"}, ["image"]),
        ({}, {"update_config": {"parallelism": 1, "order": "stop-first"}}, []),
        ({}, {"update_config": {"delay": 10}}, ["update_config"]),
        ({"update_config": False}, {"update_config": {"parallelism": 1}}, []),
        ({"update_config": False}, {"rollback_config": {"order": "start-first"}}, ["rollback_config"]),
        ({"constraints": ["node.role==worker"]}, {"constraints": ["node.role == worker"]}, []),
        ({"constraints": ["node.role==worker"]}, {"constraints": []}, ["constraints"]),
        ({"env": ["A=1", "B=2"]}, {"env": {"B": "2", "A": 1}}, []),
        ({}, {"labels": {"team": "lab"}}, ["labels"]),
        ({}, {"limits": {"memory": 0}}, []),
    ],
)
def test_build_spec_changes_only_what_differs(current, params, changes):
    service = make_service("web", **current)
    _new, found = build_spec(service["Spec"], {**dict.fromkeys(swarm_service_update.ARGUMENT_SPEC), **params})
    assert found == changes


def test_build_spec_partial_update_config_keeps_swarm_defaults():
    service = make_service("web", update_config=False)
    new, _ = build_spec(service["Spec"], {"update_config": {"delay": 5, "failure_action": "rollback"}})
    assert new["UpdateConfig"]["Delay"] == 5_000_000_000
    assert new["UpdateConfig"]["FailureAction"] == "rollback"
    assert new["UpdateConfig"]["Parallelism"] == 1  # not 0, which would mean "all at once"
    assert new["UpdateConfig"]["Monitor"] == 5_000_000_000
