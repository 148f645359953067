"""The deployed stack: service specs, the proxy's TLS entry, the login, and nothing secret in sight."""

import json

import pytest
from stack_helpers import (
    BASE,
    MANAGER,
    MANAGER_IP,
    PASSWORD,
    PROXY,
    SCENARIO,
    SERVICE,
    STACK_DIR,
    WORKERS,
    api,
    login,
    node,
    run_playbook,
    session,
)

testinfra_hosts = [f"ansible://{MANAGER}"]


@pytest.fixture(scope="module")
def jupyter_spec(manager):
    return json.loads(manager.check_output(f"docker service inspect {SERVICE}"))[0]["Spec"]


def test_jupyter_service_spec(jupyter_spec):
    task = jupyter_spec["TaskTemplate"]
    assert jupyter_spec["Mode"]["Replicated"]["Replicas"] == 2
    assert jupyter_spec["EndpointSpec"]["Mode"] == "dnsrr"
    assert task["Placement"]["Constraints"] == ["node.role == worker"]
    assert task["Resources"]["Limits"]["MemoryBytes"] == 1024**3
    assert task["Resources"]["Limits"]["NanoCPUs"] == 10**9
    assert task["Resources"]["Reservations"]["MemoryBytes"] == 128 * 1024**2
    ulimits = {u["Name"]: (u["Soft"], u["Hard"]) for u in task["ContainerSpec"]["Ulimits"]}
    assert ulimits == {"nofile": (2048, 4096), "nproc": (4096, 4096)}
    update = jupyter_spec["UpdateConfig"]
    assert (update["Order"], update["FailureAction"], update["Monitor"]) == ("start-first", "rollback", 10 * 10**9)
    assert task["RestartPolicy"]["Condition"] == "any"
    assert task["ContainerSpec"]["Healthcheck"]["Interval"] == 3 * 10**9
    secrets = {s["File"]["Name"]: s["SecretName"] for s in task["ContainerSpec"]["Secrets"]}
    assert secrets.keys() == {"jupyter_password_hash", "jupyter_cookie_secret"}
    # Versioned names: a new password makes a new secret and so rolls the replicas.
    assert all("_v" in name for name in secrets.values())


def test_replicas_run_on_workers_with_limits(manager):
    tasks = manager.check_output(f"docker service ps {SERVICE} --filter desired-state=running --format '{{{{.Node}}}}'")
    assert sorted(tasks.split()) and set(tasks.split()) <= set(WORKERS)
    # The current tasks only (containers of replaced tasks may still be stopping).
    task_ids = manager.check_output(f"docker service ps {SERVICE} --filter desired-state=running -q --no-trunc").split()
    found = 0
    for worker in WORKERS:
        host = node(worker)
        for task_id in task_ids:
            cid = host.check_output(f"docker ps -q --filter label=com.docker.swarm.task.id={task_id}").strip()
            if not cid:
                continue
            hc = json.loads(host.check_output(f"docker inspect {cid}"))[0]["HostConfig"]
            assert hc["Memory"] == 1024**3
            assert {u["Name"]: u["Soft"] for u in hc["Ulimits"]} == {"nofile": 2048, "nproc": 4096}
            assert host.check_output(f"docker exec {cid} id -u").strip() == "1000"
            found += 1
    assert found == 2


def test_proxy_global_on_the_manager_unprivileged(manager):
    spec = json.loads(manager.check_output(f"docker service inspect {PROXY}"))[0]["Spec"]
    assert "Global" in spec["Mode"]
    assert spec["TaskTemplate"]["Placement"]["Constraints"] == ["node.role == manager"]
    ports = {(p["PublishedPort"], p["PublishMode"]) for p in spec["EndpointSpec"]["Ports"]}
    assert ports == {(80, "host"), (443, "host")}
    cid = manager.check_output(f"docker ps -q --filter label=com.docker.swarm.service.name={PROXY}").strip()
    assert manager.check_output(f"docker exec {cid} id -un").strip() == "haproxy"
    assert manager.run(f"docker exec {cid} test -s /usr/local/etc/haproxy/haproxy.cfg").rc == 0


def test_http_redirects_to_https():
    r = session(None).get(f"http://{MANAGER_IP}/tree", allow_redirects=False, timeout=10)
    assert r.status_code == 301
    assert r.headers["Location"] == f"https://{MANAGER_IP}/tree"


def test_certificate_names_the_manager(cafile):
    # Verification against the generated certificate alone: its subjectAltName carries the address.
    r = session(cafile).get(BASE + "api", timeout=10)
    assert r.status_code == 200 and "version" in r.json()
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_unauthenticated_access_refused(cafile):
    s = session(cafile)
    assert api(s, "GET", "api/contents").status_code == 403
    assert api(s, "GET", "api/kernels").status_code == 403
    # Starting a kernel (running code) is refused too, even with the _xsrf cookie a visitor gets.
    s.get(BASE + "login", timeout=10)
    assert api(s, "POST", "api/kernels", {"name": "python3"}).status_code == 403


def test_wrong_password_refused(cafile):
    s = session(cafile)
    assert login(s, "wrong-" + PASSWORD) != 302
    assert api(s, "GET", "api/contents").status_code == 403


def test_login_works(user):
    assert api(user, "GET", "api/contents").status_code == 200
    assert user.cookies.get("JUPYTER_REPLICA")  # the proxy's sticky cookie


def test_no_secret_in_the_stack_file_or_the_service(manager, jupyter_spec):
    stack_file = manager.check_output(f"cat {STACK_DIR}/compose.yml")
    hash_ = manager.check_output(f"cat {STACK_DIR}/password.hash").strip()
    assert hash_.startswith("argon2:")
    spec = json.dumps(jupyter_spec)
    for text in (stack_file, spec):
        assert PASSWORD not in text and hash_ not in text and "argon2" not in text


def test_check_mode_changes_nothing_and_shows_no_secret(manager):
    run = run_playbook(SCENARIO / "check.yml", check=True)
    assert run.rc == 0, run.output
    assert run.changed == 0, run.output
    hash_ = manager.check_output(f"cat {STACK_DIR}/password.hash").strip()
    assert PASSWORD not in run.output and hash_ not in run.output
