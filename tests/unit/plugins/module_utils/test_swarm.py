"""Pure helpers of module_utils/swarm.py and the client wrapper's error handling."""

import copy
import inspect
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import docker
import pytest
from ansible_collections.condaswarm.cluster.plugins.module_utils import swarm
from swarm_fakes import FakeAPIClient, make_node, make_service, make_task, out_of_sequence

# The SDK Debian 12's nodes run (python3-docker); Debian 13's 7.1 is close to the venv's 7.x.
NODE_SDK = "5.0.3"
PROBE = Path(__file__).with_name("swarm_sdk_probe.py")


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


# --- "update out of sequence" ------------------------------------------------------------------
@pytest.mark.parametrize("refusals", [0, 1, swarm.WRITE_ATTEMPTS - 1])
def test_retry_out_of_sequence_retries_until_a_write_goes_through(clock, refusals):
    attempts = []

    def write():
        attempts.append(1)
        if len(attempts) <= refusals:
            raise swarm.OutOfSequence("Docker API error while trying to update service web: update out of sequence.")
        return "written"

    assert swarm.retry_out_of_sequence(write, "update service web") == "written"
    assert len(attempts) == refusals + 1
    assert clock.slept == refusals * swarm.RETRY_DELAY


def test_retry_out_of_sequence_gives_up(clock):
    attempts = []

    def write():
        attempts.append(1)
        raise swarm.OutOfSequence("Docker API error while trying to update service web: update out of sequence.")

    with pytest.raises(swarm.SwarmError, match=r"could not update service web: .* 3 times") as caught:
        swarm.retry_out_of_sequence(write, "update service web", attempts=3)
    assert not isinstance(caught.value, swarm.OutOfSequence)  # an outer retry must not start again
    assert len(attempts) == 3
    assert clock.slept == 2 * swarm.RETRY_DELAY


def test_retry_out_of_sequence_does_not_retry_other_errors(clock):
    attempts = []

    def write():
        attempts.append(1)
        raise swarm.SwarmError("Docker API error while trying to update service web: no such image.")

    with pytest.raises(swarm.SwarmError, match="no such image"):
        swarm.retry_out_of_sequence(write, "update service web")
    assert len(attempts) == 1
    assert clock.slept == 0


@pytest.mark.parametrize(
    ("error", "out_of_sequence_expected"),
    [
        (out_of_sequence(), True),
        (docker.errors.APIError("update out of sequence"), True),  # no explanation: the message itself
        (docker.errors.APIError("500 Server Error", explanation="rpc error: code = Unknown desc = x"), False),
    ],
)
def test_client_tells_out_of_sequence_from_other_api_errors(fake_docker, monkeypatch, error, out_of_sequence_expected):
    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(fake_docker, "update_service", refuse)
    service = make_service("web")
    with pytest.raises(swarm.SwarmError, match="while trying to update service web") as caught:
        swarm.SwarmClient().update_service(service, service["Spec"])
    assert isinstance(caught.value, swarm.OutOfSequence) is out_of_sequence_expected


NO_LEADER_ERROR = docker.errors.APIError(
    "500 Server Error",
    explanation="rpc error: code = Unknown desc = The swarm does not have a leader. It's possible that too few "
    "managers are online. Make sure more than half of the managers are online.",
)


@pytest.mark.parametrize("refusals", [1, 5])
def test_client_waits_out_a_leader_election(fake_docker, monkeypatch, clock, refusals):
    real = fake_docker.inspect_service
    answers = iter([NO_LEADER_ERROR] * refusals)

    def electing(*args, **kwargs):
        error = next(answers, None)
        if error:
            raise error
        return real(*args, **kwargs)

    fake_docker.add_service("web")
    monkeypatch.setattr(fake_docker, "inspect_service", electing)
    assert swarm.SwarmClient().get_service("web")["Spec"]["Name"] == "web"
    assert clock.slept == refusals * swarm.RETRY_DELAY


def test_client_gives_up_without_a_leader(fake_docker, monkeypatch, clock):
    def no_quorum(*args, **kwargs):
        raise NO_LEADER_ERROR

    monkeypatch.setattr(fake_docker, "inspect_service", no_quorum)
    with pytest.raises(swarm.NoLeader, match="no leader within 30 s: fewer than half of them are up"):
        swarm.SwarmClient().get_service("web")
    assert swarm.LEADER_WAIT <= clock.slept <= swarm.LEADER_WAIT + swarm.RETRY_DELAY


# --- the real SDK -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def node_sdk(pytestconfig, tmp_path_factory):
    """A directory to put first on PYTHONPATH so that `import docker` gives the nodes' SDK version."""
    cache = getattr(pytestconfig, "cache", None)  # kept between runs unless -p no:cacheprovider
    name = f"docker-sdk-{NODE_SDK}"
    where = cache.mkdir(name) if cache else tmp_path_factory.mktemp(name)
    if not (where / "docker" / "__init__.py").exists():
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
        proc = subprocess.run(
            [*pip, "--dest", str(where), f"docker=={NODE_SDK}"], capture_output=True, text=True, check=False
        )
        wheels = list(where.glob(f"docker-{NODE_SDK}-*.whl"))
        if proc.returncode != 0 or not wheels:
            pytest.skip(f"docker=={NODE_SDK} could not be downloaded from PyPI: {proc.stderr.strip()[-300:]}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            wheel.extractall(where)
    return where


@pytest.mark.parametrize("sdk", ["installed", NODE_SDK])
def test_writes_through_the_real_sdk(request, sdk):
    """rollback_service's private SDK calls, update_service and the out-of-sequence detection, run
    through a real docker.APIClient of the version the nodes run and of the installed one."""
    env = dict(os.environ)
    if sdk == NODE_SDK:
        env["PYTHONPATH"] = str(request.getfixturevalue("node_sdk"))
    else:
        env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [sys.executable, "-W", "ignore", str(PROBE)], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    if sdk == NODE_SDK:
        assert seen["version"] == NODE_SDK
    else:
        assert seen["version"] == docker.__version__
    rollback, _stale_rollback, update, _stale_update = seen["requests"]
    for sent in (rollback, update):
        assert sent["url"].endswith("/v1.41/services/svc1/update")
        assert sent["body"]["Name"] == "web"
        assert sent["body"]["TaskTemplate"]["ContainerSpec"]["Image"] == "condaswarm/busybox:2"
        assert sent["body"]["RollbackConfig"] == {"Parallelism": 1, "Order": "stop-first"}
    assert rollback["params"] == {"version": 7, "rollback": "previous"}
    assert update["params"] == {"version": 7}
    for outcome in seen["outcomes"].values():
        assert outcome["result"] == {"Warnings": None}
        assert outcome["stale"]["class"] == "OutOfSequence"
        assert "update out of sequence" in outcome["stale"]["msg"]


# --- failing tasks ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("task_state", "include_pending", "reported"),
    [
        ({"state": "running", "desired": "running"}, True, False),
        ({"state": "rejected", "desired": "shutdown", "err": "No such image: x"}, False, True),
        ({"state": "failed", "desired": "shutdown"}, False, True),
        ({"state": "running", "desired": "running", "err": "a task error"}, False, True),
        ({"state": "pending", "desired": "running"}, True, True),
        ({"state": "pending", "desired": "running"}, False, False),
        ({"state": "pending", "desired": "shutdown"}, True, False),
        ({"state": "preparing", "desired": "ready"}, True, True),
    ],
)
def test_problem_task_summaries(fake_docker, task_state, include_pending, reported):
    node = fake_docker.add_node("worker1")
    service = fake_docker.add_service("web")
    task = fake_docker.add_task(service, node, **task_state)
    template = service["Spec"]["TaskTemplate"]
    summaries = swarm.SwarmClient().problem_task_summaries("web", [task], template, include_pending)
    assert [s["id"] for s in summaries] == ([task["ID"]] if reported else [])
    if reported:
        assert summaries[0]["node"] == "worker1"


def test_problem_task_summaries_skip_other_specs_and_keep_the_newest(fake_docker):
    node = fake_docker.add_node("worker1")
    service = fake_docker.add_service("web")
    template = service["Spec"]["TaskTemplate"]
    old_spec = make_service("web", image="condaswarm/busybox:1")["Spec"]["TaskTemplate"]
    older = [fake_docker.add_task(service, node, state="failed", desired="shutdown") for _ in range(6)]
    for number, task in enumerate(older):
        task["UpdatedAt"] = f"2026-11-22T10:00:{number:02d}Z"
    other = fake_docker.add_task(service, node, state="failed", desired="shutdown", template=old_spec)
    summaries = swarm.SwarmClient().problem_task_summaries("web", [*older, other], template, limit=5)
    assert [s["id"] for s in summaries] == [t["ID"] for t in reversed(older[1:])]
