"""Pure helpers of module_utils/swarm.py and the client wrapper's error handling."""

import copy
import inspect

import docker
import pytest
from ansible_collections.condaswarm.cluster.plugins.module_utils import swarm
from swarm_fakes import FakeAPIClient, make_node, make_service, make_task


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1024, 1024),
        ("1024", 1024),
        ("512M", 512 * 1024**2),
        ("512m", 512 * 1024**2),
        ("1.5G", int(1.5 * 1024**3)),
        ("2GiB", 2 * 1024**3),
        ("64kb", 64 * 1024),
        ("0", 0),
    ],
)
def test_parse_memory(value, expected):
    assert swarm.parse_memory(value) == expected


@pytest.mark.parametrize("value", ["12 parsecs", "-1", "M", True, -5])
def test_parse_memory_rejects(value):
    with pytest.raises(ValueError, match="memory value"):
        swarm.parse_memory(value)


@pytest.mark.parametrize(("value", "expected"), [(0.5, 500_000_000), (2, 2_000_000_000), ("1.25", 1_250_000_000)])
def test_parse_cpus(value, expected):
    assert swarm.parse_cpus(value) == expected


@pytest.mark.parametrize("value", ["lots", -1, True])
def test_parse_cpus_rejects(value):
    with pytest.raises(ValueError, match="cpus value"):
        swarm.parse_cpus(value)


@pytest.mark.parametrize(
    ("wanted", "current", "match"),
    [
        ("busybox", "busybox:latest", True),
        ("busybox:latest", "busybox:latest@sha256:abc", True),
        ("busybox:1", "busybox:latest", False),
        ("registry.lab:5000/jupyter", "registry.lab:5000/jupyter:latest", True),
        ("registry.lab:5000/jupyter:2", "registry.lab:5000/jupyter:latest", False),
        ("busybox@sha256:abc", "busybox:latest@sha256:abc", False),
        ("busybox:latest@sha256:abc", "busybox:latest@sha256:abc", True),
    ],
)
def test_images_match(wanted, current, match):
    assert swarm.images_match(wanted, current) is match


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        (["node.role==worker"], ["node.role == worker"], True),
        (["a==1", "b!=2"], ["b != 2", "a==1"], True),
        (["a==1"], ["a==2"], False),
        (None, [], True),
        (["a==1"], [], False),
    ],
)
def test_constraints_equal(left, right, equal):
    assert swarm.constraints_equal(left, right) is equal


@pytest.mark.parametrize(
    ("constraints", "matches"),
    [
        ([], True),
        (["node.role==worker"], True),
        (["node.role!=worker"], False),
        (["node.hostname==worker1"], True),
        (["node.labels.zone==a"], True),
        (["node.labels.zone==b"], False),
        (["node.labels.missing!=x"], True),
        (["node.platform.os==linux", "node.role==worker"], True),
    ],
)
def test_node_matches_constraints(constraints, matches):
    node = make_node("worker1", labels={"zone": "a"})
    assert swarm.node_matches_constraints(node, constraints) is matches


def test_node_constraint_errors():
    node = make_node("worker1")
    with pytest.raises(ValueError, match="unsupported"):
        swarm.node_matches_constraints(node, ["node.weird==1"])
    with pytest.raises(ValueError, match="not of the form"):
        swarm.node_matches_constraints(node, ["node.role"])


def test_task_runs_spec():
    service = make_service("web", env=["A=1", "B=2"])
    template = service["Spec"]["TaskTemplate"]
    task = make_task(service, "n1")
    assert swarm.task_runs_spec(task, template)
    task["Spec"]["ContainerSpec"]["Env"] = ["B=2", "A=1"]
    assert swarm.task_runs_spec(task, template)
    changed = dict(template, ForceUpdate=1)
    assert not swarm.task_runs_spec(task, changed)
    other = make_service("web", image="busybox:2")["Spec"]["TaskTemplate"]
    assert not swarm.task_runs_spec(task, other)


def test_task_runs_spec_after_constraints_change():
    # Swarm keeps a task whose node satisfies the new constraints: it is current, not waiting for replacement.
    labelled = make_node("worker1", labels={"jupyter": "true"})
    plain = make_node("worker2")
    old = make_service("web", constraints=["node.role==worker", "node.labels.jupyter==true"])
    task = make_task(old, labelled["ID"])
    relaxed = make_service("web", constraints=["node.role==worker"])["Spec"]["TaskTemplate"]
    assert swarm.task_runs_spec(task, relaxed, [plain, labelled])
    assert not swarm.task_runs_spec(task, relaxed)  # without the nodes it cannot tell
    moved = make_service("web", constraints=["node.hostname==worker2"])["Spec"]["TaskTemplate"]
    assert not swarm.task_runs_spec(task, moved, [plain, labelled])
    gone = make_task(old, "node-removed")
    assert not swarm.task_runs_spec(gone, relaxed, [plain, labelled])
    # any other difference still makes the task old, whatever its node
    relaxed_new_image = dict(relaxed, ContainerSpec=dict(relaxed["ContainerSpec"], Image="condaswarm/busybox:2"))
    assert not swarm.task_runs_spec(task, relaxed_new_image, [plain, labelled])


def test_summarize_spec():
    service = make_service("web", env=["A=1"], replicas=3)
    service["Spec"]["TaskTemplate"]["Resources"]["Limits"] = {"NanoCPUs": 500_000_000, "MemoryBytes": 1024}
    summary = swarm.summarize_spec(service["Spec"])
    assert summary["replicas"] == 3
    assert summary["env"] == {"A": "1"}
    assert summary["limits"] == {"cpus": 0.5, "memory": 1024}
    assert summary["update_config"]["monitor"] == 5.0
    assert swarm.summarize_spec(make_service("g", mode={"Global": {}})["Spec"])["mode"] == "global"
    assert swarm.service_mode({"Mode": {"GlobalJob": {}}}) == "global-job"


def test_wait_for_gives_up_at_timeout(clock):
    calls = []
    result, timed_out = swarm.wait_for(lambda: calls.append(1), timeout=5, interval=2)
    assert timed_out and result is None
    assert clock.slept == 5
    assert len(calls) == 4  # at 0, 2, 4 and 5 s


def test_unreachable_engine_says_what_to_check(monkeypatch):
    def refuse(**kwargs):
        raise docker.errors.DockerException("Error while fetching server API version: connection refused")

    monkeypatch.setattr(docker, "APIClient", refuse)
    with pytest.raises(swarm.SwarmError, match="Is dockerd running"):
        swarm.SwarmClient("unix:///nowhere.sock")


def test_not_a_manager_hint(fake_docker, monkeypatch):
    def not_manager(filters=None):
        raise docker.errors.APIError("503 Server Error", explanation="This node is not a swarm manager.")

    monkeypatch.setattr(fake_docker, "services", not_manager)
    client = swarm.SwarmClient()
    with pytest.raises(swarm.SwarmError, match="Run this module on a Swarm manager"):
        client.services()


def test_describe_tasks_groups_identical_errors():
    base = {"slot": 1, "node": "w1", "state": "rejected", "error": "No such image: x", "exit_code": 0}
    text = swarm.describe_tasks(
        [
            dict(base, id="t1"),
            dict(base, id="t2", slot=2, node="w2"),
            dict(base, id="t3", state="failed", error="exit", exit_code=1, node=None),
        ]
    )
    assert text == (
        "task t1 (slot 1) on node w1, task t2 (slot 2) on node w2: rejected: No such image: x; "
        "task t3 (slot 1) (not scheduled on any node): failed: exit (exit code 1)"
    )


def test_fake_client_matches_the_real_sdk():
    """The fake may not accept calls the real docker.APIClient would refuse (names and keyword arguments)."""
    for name, fake_method in inspect.getmembers(FakeAPIClient, inspect.isfunction):
        if name.startswith("__") or name in {"add_node", "add_service", "add_task", "service", "called"}:
            continue
        if name.startswith("_") and name not in {"_url", "_post_json", "_result"}:
            continue
        real = getattr(docker.APIClient, name, None)
        assert real is not None, f"docker.APIClient has no {name}()"
        real_params = inspect.signature(inspect.unwrap(real)).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in real_params.values()):
            continue  # e.g. _post_json(url, data, **kwargs) hands keywords on to requests
        fake_params = set(inspect.signature(fake_method).parameters) - {"kwargs"}
        assert fake_params <= set(real_params), f"{name}: the fake accepts {fake_params - set(real_params)}"


def test_task_runs_spec_follows_rotated_secrets_configs_and_mounts():
    service = make_service("web")
    template = service["Spec"]["TaskTemplate"]
    container = template["ContainerSpec"]
    container["Secrets"] = [{"SecretID": "s1", "SecretName": "app_password_v1", "File": {"Name": "password"}}]
    container["Configs"] = [{"ConfigID": "c1", "ConfigName": "app_cfg_v1", "File": {"Name": "/etc/app.cfg"}}]
    container["Mounts"] = [{"Type": "bind", "Source": "/srv/a", "Target": "/data"}]
    task = make_task(service, "n1")
    assert swarm.task_runs_spec(task, template)
    # The same secret under another ID (re-created with the same name) is the same spec.
    task["Spec"]["ContainerSpec"]["Secrets"][0]["SecretID"] = "s9"
    assert swarm.task_runs_spec(task, template)
    for field, change in (
        ("Secrets", {"SecretName": "app_password_v2"}),
        ("Configs", {"ConfigName": "app_cfg_v2"}),
        ("Mounts", {"Source": "/srv/b"}),
    ):
        rotated = copy.deepcopy(template)
        rotated["ContainerSpec"][field][0].update(change)
        assert not swarm.task_runs_spec(task, rotated), field
