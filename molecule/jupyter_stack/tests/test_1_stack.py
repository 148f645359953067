"""The deployed stack: service specs, the proxy's TLS entry, the login, and nothing secret in sight."""

import base64
import json
import re

import pytest
from argon2 import PasswordHasher
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
    assert task["Resources"]["Limits"]["Pids"] == 4096  # CIS Docker Benchmark 5.29 (jupyter_stack_pids_limits)
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


def test_proxy_image_carries_the_hash_of_its_build_context(manager):
    image = "jupyter-stack-manager:5000/condaswarm/haproxy:debian12"
    label = manager.check_output(
        f"docker image inspect -f '{{{{index .Config.Labels \"io.condaswarm.context\"}}}}' {image}"
    )
    assert re.fullmatch(r"[0-9a-f]{16}", label.strip())


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


def _in_a_replica(path):
    """A file as a running Jupyter replica sees it (the secrets are mounted for the notebook user)."""
    for worker in WORKERS:
        host = node(worker)
        ids = host.check_output(f"docker ps -q --filter label=com.docker.swarm.service.name={SERVICE}").split()
        if ids:
            return host.check_output(f"docker exec {ids[0]} cat {path}")
    raise AssertionError("no running Jupyter replica")


@pytest.fixture(scope="module")
def secrets(manager):
    """The secrets' texts: those made on the manager from their files there, the hash from a replica."""
    return {
        "password_hash": _in_a_replica("/run/secrets/jupyter_password_hash").strip(),
        "cookie_secret": manager.check_output(f"cat {STACK_DIR}/cookie_secret").strip(),
        "tls_key": manager.check_output(f"cat {STACK_DIR}/tls.key").strip(),
    }


def test_secrets_made_on_the_manager_stay_there_and_reach_the_replicas(manager, secrets):
    for name in ("cookie_secret", "tls.key", "password.salt"):
        f = manager.file(f"{STACK_DIR}/{name}")
        assert (f.mode, f.user) == (0o600, "root"), name
    assert len(secrets["cookie_secret"]) == 64  # openssl rand -hex 32
    # The replicas got the manager's file (data_src), not a copy made elsewhere.
    assert _in_a_replica("/run/secrets/jupyter_cookie_secret").strip() == secrets["cookie_secret"]
    # The hash is of the password with the manager's salt (argon2 writes it unpadded base64), and the hash itself
    # is not kept on the manager.
    salt = manager.check_output(f"cat {STACK_DIR}/password.salt").strip()
    assert secrets["password_hash"].startswith("argon2:$argon2id$")
    assert f"${base64.b64encode(bytes.fromhex(salt)).decode().rstrip('=')}$" in secrets["password_hash"]
    assert PasswordHasher().verify(secrets["password_hash"].removeprefix("argon2:"), PASSWORD)
    assert not manager.file(f"{STACK_DIR}/password.hash").exists


def test_no_secret_in_the_stack_file_or_the_service(manager, jupyter_spec, secrets):
    stack_file = manager.check_output(f"cat {STACK_DIR}/compose.yml")
    spec = json.dumps(jupyter_spec)
    for text in (stack_file, spec):
        assert PASSWORD not in text and "argon2" not in text
        assert not [name for name, secret in secrets.items() if secret in text]


def test_check_mode_changes_nothing_and_shows_no_secret(secrets):
    run = run_playbook(SCENARIO / "check.yml", check=True)
    assert run.rc == 0, run.output
    assert run.changed == 0, run.output
    assert PASSWORD not in run.output
    assert not [name for name, secret in secrets.items() if secret in run.output]


def test_a_new_password_would_make_a_new_secret_version_and_shows_in_no_output(jupyter_spec, secrets):
    """Predicted in check mode (a real change would roll the replicas): the hash secret gets the next version,
    which the stack file then names; nothing secret, old or new, is in the output."""
    names = {s["File"]["Name"]: s["SecretName"] for s in jupyter_spec["TaskTemplate"]["ContainerSpec"]["Secrets"]}
    version = int(names["jupyter_password_hash"].rsplit("_v", 1)[1])
    other = "another horse battery staple"
    run = run_playbook(SCENARIO / "check.yml", check=True, extra_vars={"jupyter_stack_password": other})
    assert run.rc == 0, run.output
    assert re.search(rf"^\+.*\bjupyter_password_hash_v{version + 1}\b", run.output, re.MULTILINE), run.output
    assert not re.search(r"^\+.*\bjupyter_cookie_secret_v", run.output, re.MULTILINE), run.output
    for text in (other, PASSWORD, *secrets.values()):
        assert text not in run.output
