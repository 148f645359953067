"""swarm_stack_deploy: main() with the docker CLI and the Docker API both faked at the boundary."""

import copy

import pytest
from ansible.module_utils import basic
from ansible_collections.condaswarm.cluster.plugins.modules import swarm_stack_deploy
from ansible_collections.condaswarm.cluster.plugins.modules.swarm_stack_deploy import (
    interpolate,
    load_compose,
    main,
    plan_changes,
    service_status,
)
from swarm_fakes import make_node, make_service, make_task

COMPOSE = """\
services:
  app:
    image: condaswarm/busybox:latest
    deploy:
      replicas: ${APP_REPLICAS:-2}
  agent:
    image: condaswarm/busybox:latest
    deploy:
      mode: global
"""


def stack_service(stack, name, **kwargs):
    service = make_service(f"{stack}_{name}", **kwargs)
    service["Spec"]["Labels"] = {"com.docker.stack.namespace": stack}
    return service


class FakeCLI:
    """`docker stack deploy` / `docker stack rm` acting on the fake API like the real CLI does."""

    def __init__(self, fake, stack="demo"):
        self.fake = fake
        self.stack = stack
        self.calls = []
        self.wanted = {}  # service name -> service dict the next deploy creates or updates to
        self.start_tasks = True  # a deploy starts the tasks at once (tests script otherwise)
        self.rc = 0
        self.help_text = "Usage:  docker stack deploy [OPTIONS] STACK\n  -c, --compose-file strings\n"

    def run_command(self, args, **kwargs):
        if "--help" in args:
            return 0, self.help_text, ""
        self.calls.append((args, kwargs))
        if self.rc:
            return self.rc, "", "failed to deploy: some error"
        if args[1:3] == ["stack", "deploy"]:
            return self.deploy()
        if args[1:3] == ["stack", "rm"]:
            for sid in [s for s, svc in self.fake.services_db.items() if svc["Spec"]["Name"].startswith(self.stack)]:
                del self.fake.services_db[sid]
            self.fake.objects["networks"] = []
            return 0, f"Removing stack {self.stack}\n", ""
        raise AssertionError(f"unexpected command {args}")

    def deploy(self):
        for name, wanted in self.wanted.items():
            existing = next((s for s in self.fake.services_db.values() if s["Spec"]["Name"] == name), None)
            if existing is None:
                service = copy.deepcopy(wanted)
                self.fake.services_db[service["ID"]] = service
            else:
                # the CLI updates every service on every deploy, even when nothing changed
                service = existing
                if service["Spec"] != wanted["Spec"]:
                    service["PreviousSpec"] = service["Spec"]
                service["Spec"] = copy.deepcopy(wanted["Spec"])
                service["Version"]["Index"] += 1
            if self.start_tasks:
                self.run_tasks(service)
        self.fake.objects["networks"] = [{"Name": f"{self.stack}_default", "Labels": self.labels()}]
        return 0, "Creating service ...\n", ""

    def labels(self):
        return {"com.docker.stack.namespace": self.stack}

    def run_tasks(self, service):
        template = service["Spec"]["TaskTemplate"]
        for task in self.fake.tasks_db:
            if task["ServiceID"] == service["ID"] and task["Spec"] != make_task(service, None)["Spec"]:
                task["DesiredState"] = task["Status"]["State"] = "shutdown"
        existing = [
            t for t in self.fake.tasks_db if t["ServiceID"] == service["ID"] and t["DesiredState"] != "shutdown"
        ]
        if existing:
            return
        mode = service["Spec"]["Mode"]
        if "Global" in mode:
            for node in self.fake.nodes_db:
                if node["Spec"]["Availability"] == "active":
                    self.fake.tasks_db.append(make_task(service, node["ID"], slot=None, template=template))
        else:
            for slot in range(1, mode["Replicated"]["Replicas"] + 1):
                self.fake.tasks_db.append(make_task(service, self.fake.nodes_db[0]["ID"], slot=slot, template=template))


@pytest.fixture
def cli(fake_docker, monkeypatch):
    fake = fake_docker
    fake.add_node("manager1", role="manager")
    fake.add_node("worker1")
    cli = FakeCLI(fake)
    cli.wanted = {
        "demo_app": stack_service("demo", "app", replicas=2),
        "demo_agent": stack_service("demo", "agent", mode={"Global": {}}),
    }
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, required=False: f"/usr/bin/{name}")
    monkeypatch.setattr(basic.AnsibleModule, "run_command", cli.run_command)
    return cli


@pytest.fixture
def compose(tmp_path):
    path = tmp_path / "stack.yml"
    path.write_text(COMPOSE)
    return str(path)


def test_first_deploy_creates_and_converges(cli, compose, run_module):
    result = run_module(main, {"name": "demo", "compose": [compose], "resolve_image": "never"}, diff=True)
    assert "failed" not in result, result["msg"]
    assert result["changed"] is True
    assert result["changed_services"]["created"] == ["demo_agent", "demo_app"]
    args, kwargs = cli.calls[0]
    assert args == ["/usr/bin/docker", "stack", "deploy", "--compose-file", compose, "--resolve-image", "never", "demo"]
    assert kwargs["environ_update"] == {"DOCKER_HOST": "unix:///var/run/docker.sock"}
    assert result["services"]["demo_app"] == {
        "mode": "replicated",
        "desired": 2,
        "running": 2,
        "completed": 0,
        "image": "condaswarm/busybox:latest",
        "converged": True,
    }
    assert result["services"]["demo_agent"]["desired"] == 2  # one per ready+active node
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["demo_app"]["replicas"] == 2


def test_cli_26_is_told_to_detach(cli, compose, run_module):
    cli.help_text += "  -d, --detach   Exit immediately instead of waiting for the stack services to converge\n"
    result = run_module(main, {"name": "demo", "compose": [compose]})
    assert "failed" not in result, result["msg"]
    assert cli.calls[0][0][-2:] == ["--detach=true", "demo"]


def test_redeploy_of_same_specs_is_unchanged(cli, compose, run_module):
    run_module(main, {"name": "demo", "compose": [compose]})
    result = run_module(main, {"name": "demo", "compose": [compose], "prune": True, "with_registry_auth": True})
    assert len(cli.calls) == 2
    assert "--prune" in cli.calls[1][0]
    assert "--with-registry-auth" in cli.calls[1][0]
    assert result["changed"] is False, result["changed_services"]
    assert "diff" not in result


def test_changed_spec_is_reported_as_updated(cli, compose, run_module):
    run_module(main, {"name": "demo", "compose": [compose]})
    cli.wanted["demo_app"] = stack_service("demo", "app", replicas=2, image="condaswarm/busybox:2")
    result = run_module(main, {"name": "demo", "compose": [compose]})
    assert result["changed"] is True
    assert result["changed_services"]["updated"] == ["demo_app"]
    assert result["services"]["demo_app"]["image"] == "condaswarm/busybox:2"


def test_diff_shows_changes_beyond_image_and_replicas(cli, compose, run_module):
    run_module(main, {"name": "demo", "compose": [compose]})
    cli.wanted["demo_app"] = stack_service("demo", "app", replicas=2, env=["DEBUG=1"])
    result = run_module(main, {"name": "demo", "compose": [compose]}, diff=True)
    assert result["changed_services"]["updated"] == ["demo_app"]
    before, after = result["diff"]["before"]["demo_app"], result["diff"]["after"]["demo_app"]
    assert before["image"] == after["image"]
    assert before["spec_digest"] != after["spec_digest"]
    assert result["diff"]["before"]["demo_agent"] == result["diff"]["after"]["demo_agent"]


def test_check_mode_compares_compose_with_running_stack(cli, compose, run_module, monkeypatch):
    run_module(main, {"name": "demo", "compose": [compose]})
    monkeypatch.setenv("APP_REPLICAS", "3")
    result = run_module(main, {"name": "demo", "compose": [compose]}, check_mode=True, diff=True)
    assert len(cli.calls) == 1, "check mode ran the CLI"
    assert result["changed"] is True
    assert result["planned"] == {"demo_app": ["replicas 2 -> 3"]}
    assert result["changed_services"]["updated"] == ["demo_app"]
    assert result["diff"]["after"]["demo_app"]["replicas"] == 3


def test_check_mode_unchanged(cli, compose, run_module):
    run_module(main, {"name": "demo", "compose": [compose]})
    result = run_module(main, {"name": "demo", "compose": [compose]}, check_mode=True)
    assert result["changed"] is False
    assert result["planned"] == {}


def test_one_shot_tasks_that_completed_do_not_block(cli, compose, run_module, clock):
    cli.wanted["demo_migrate"] = stack_service("demo", "migrate", replicas=1, restart="none")
    cli.wanted["demo_job"] = stack_service("demo", "job", mode={"ReplicatedJob": {"TotalCompletions": 2}})
    cli.start_tasks = False

    def run_all(fake):
        for name in ("demo_app", "demo_agent"):
            cli.run_tasks(fake.service(name))
        for name, count in (("demo_migrate", 1), ("demo_job", 2)):
            service = fake.service(name)
            for slot in range(1, count + 1):
                fake.add_task(service, fake.nodes_db[1], slot=slot, state="complete", desired="complete")

    cli.fake.steps = [run_all]
    result = run_module(main, {"name": "demo", "compose": [compose], "timeout": 60})
    assert "failed" not in result, result["msg"]
    assert result["services"]["demo_migrate"]["completed"] == 1
    assert result["services"]["demo_migrate"]["converged"] is True
    assert result["services"]["demo_job"]["converged"] is True
    assert clock.slept < 60


def test_failed_one_shot_fails_at_once(cli, compose, run_module, clock):
    cli.wanted["demo_migrate"] = stack_service("demo", "migrate", replicas=1, restart="none")
    cli.start_tasks = False

    def run_all(fake):
        for name in ("demo_app", "demo_agent"):
            cli.run_tasks(fake.service(name))
        fake.add_task(fake.service("demo_migrate"), fake.nodes_db[1], state="failed", desired="shutdown", exit_code=3)

    cli.fake.steps = [run_all]
    result = run_module(main, {"name": "demo", "compose": [compose], "timeout": 60})
    assert result["failed"] is True
    assert "service demo_migrate" in result["msg"]
    assert "exit code 3" in result["msg"]
    assert "worker1" in result["msg"]
    assert clock.slept < 60


def test_timeout_reports_per_service(cli, compose, run_module, clock):
    cli.wanted["demo_app"] = stack_service("demo", "app", replicas=2, image="condaswarm/nope:1")
    cli.start_tasks = False

    def partial(fake):
        cli.run_tasks(fake.service("demo_agent"))
        app = fake.service("demo_app")
        fake.add_task(app, fake.nodes_db[1], slot=1, state="rejected", desired="shutdown", err="No such image: nope")
        fake.add_task(app, fake.nodes_db[1], slot=1, state="preparing")

    cli.fake.steps = [partial]
    result = run_module(main, {"name": "demo", "compose": [compose], "timeout": 8})
    assert result["failed"] is True
    assert "did not converge within 8 s" in result["msg"]
    assert "service demo_app (replicated): 0/2 running" in result["msg"]
    assert "No such image: nope" in result["msg"]
    assert "on node worker1" in result["msg"]
    assert "demo_agent" not in result["msg"]  # converged services are not reported
    assert result["services"]["demo_app"]["converged"] is False
    assert 8 <= clock.slept <= 10


def test_missing_cli_says_what_to_install(cli, compose, run_module, monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, required=False: None)
    result = run_module(main, {"name": "demo", "compose": [compose]})
    assert result["failed"] is True
    assert "docker-cli" in result["msg"]
    assert not cli.calls


def test_cli_failure_is_reported(cli, compose, run_module):
    cli.rc = 1
    result = run_module(main, {"name": "demo", "compose": [compose]})
    assert result["failed"] is True
    assert "some error" in result["msg"]


def test_absent_removes_then_is_unchanged(cli, compose, run_module):
    run_module(main, {"name": "demo", "compose": [compose]})
    result = run_module(main, {"name": "demo", "state": "absent"})
    assert result["changed"] is True
    assert result["changed_services"]["removed"] == ["demo_agent", "demo_app"]
    assert cli.calls[-1][0] == ["/usr/bin/docker", "stack", "rm", "demo"]
    result = run_module(main, {"name": "demo", "state": "absent"})
    assert result["changed"] is False
    assert len(cli.calls) == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"name": "demo"}, "compose"),
        ({"name": "demo", "compose": ["/nonexistent/stack.yml"]}, "not found on the target host"),
        ({"name": "demo", "state": "absent", "timeout": -1}, "timeout must be a positive"),
    ],
)
def test_bad_input(cli, run_module, args, expected):
    result = run_module(main, args)
    assert result["failed"] is True
    assert expected in result["msg"]
    assert not cli.calls


# --- pure helpers ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "env", "expected"),
    [
        ("${A}", {"A": "1"}, "1"),
        ("${A:-2}", {}, "2"),
        ("${A:-2}", {"A": ""}, "2"),
        ("${A-2}", {"A": ""}, ""),
        ("$A/x", {"A": "y"}, "y/x"),
        ("$$A", {"A": "y"}, "$A"),
        ("img:${TAG:-latest}", {"TAG": "3"}, "img:3"),
        (3, {}, 3),
    ],
)
def test_interpolate(value, env, expected):
    assert interpolate(value, env) == expected


def test_load_compose_reads_quoted_keys_comments_and_flow_style(tmp_path):
    path = tmp_path / "stack.yml"
    path.write_text(
        COMPOSE + '  "quoted":\n    image: "img:1"  # comment\n    environment:\n      - A=1\n'
        "    deploy:\n      # a comment\n      replicas: 4\n      resources: {limits: {cpus: '1'}}\n"
        "  flow: {image: 'img:2', deploy: {mode: global}}\n"
        "networks:\n  default: {}\n"
    )
    assert load_compose([str(path)], {}) == {
        "app": {"image": "condaswarm/busybox:latest", "mode": "replicated", "replicas": 2},
        "agent": {"image": "condaswarm/busybox:latest", "mode": "global", "replicas": None},
        "quoted": {"image": "img:1", "mode": "replicated", "replicas": 4},
        "flow": {"image": "img:2", "mode": "global", "replicas": None},
    }


def test_check_mode_without_pyyaml_names_the_package(cli, compose, run_module, monkeypatch):
    run_module(main, {"name": "demo", "compose": [compose]})
    monkeypatch.setattr(swarm_stack_deploy, "HAS_YAML", False)
    result = run_module(main, {"name": "demo", "compose": [compose]}, check_mode=True)
    assert result["failed"] is True
    assert "PyYAML" in result["msg"]
    assert "python3-yaml" in result["msg"]
    assert "check mode" in result["msg"]
    assert len(cli.calls) == 1, "check mode ran the CLI"
    # A real run does not read the compose files itself: it needs no PyYAML.
    result = run_module(main, {"name": "demo", "compose": [compose]})
    assert "failed" not in result, result["msg"]


def test_load_compose_merges_files(tmp_path):
    base, override = tmp_path / "a.yml", tmp_path / "b.yml"
    base.write_text(COMPOSE)
    override.write_text("services:\n  app:\n    image: other:${TAG}\n  extra:\n    image: x\n")
    plan = load_compose([str(base), str(override)], {"TAG": "7"})
    assert plan == {
        "app": {"image": "other:7", "mode": "replicated", "replicas": 2},
        "agent": {"image": "condaswarm/busybox:latest", "mode": "global", "replicas": None},
        "extra": {"image": "x", "mode": "replicated", "replicas": 1},
    }


def test_plan_changes():
    current = {
        "s_app": make_service("s_app", replicas=2)["Spec"],
        "s_old": make_service("s_old")["Spec"],
    }
    plan = {
        "app": {"image": "condaswarm/busybox:2", "mode": "replicated", "replicas": 3},
        "new": {"image": "x", "mode": "replicated", "replicas": 1},
    }
    assert plan_changes("s", plan, current, prune=False) == {
        "s_app": ["image condaswarm/busybox:latest -> condaswarm/busybox:2", "replicas 2 -> 3"],
        "s_new": ["create"],
    }
    assert plan_changes("s", plan, current, prune=True)["s_old"] == ["remove"]


@pytest.mark.parametrize(
    ("constraints", "availability", "expected_desired"),
    [
        (None, "active", 2),
        (["node.role==manager"], "active", 1),
        (["node.labels.gpu==true"], "active", 1),
        (None, "drain", 1),
    ],
)
def test_global_service_needs_one_task_per_eligible_node(constraints, availability, expected_desired):
    nodes = [
        make_node("manager1", role="manager"),
        make_node("worker1", availability=availability, labels={"gpu": "true"}),
        make_node("down1", state="down"),
    ]
    service = make_service("agent", mode={"Global": {}}, constraints=constraints)
    tasks = [make_task(service, nodes[0]["ID"], slot=None)]
    status = service_status(service, tasks, nodes)
    assert status["desired"] == expected_desired
    assert status["running"] == 1
    assert status["converged"] is (expected_desired == 1)
