"""The pushed image on its own: a service of its own (not the stack's), the password hash as a Docker secret, a
client inside the image speaking HTTP and the kernel websocket to it on the manager."""

import json
import time
from pathlib import Path

import pytest
from stack_helpers import MANAGER, PASSWORD, REGISTRY

testinfra_hosts = [f"ansible://{MANAGER}"]

BASE_URL = "/lab-test/"
AS_KB = 2 * 1024 * 1024  # the kernel's address-space limit for this service (the image default is 4 GiB)
NOFILE = 256
SERVICE = "ji-test"
CLIENT = Path(__file__).with_name("jupyter_client.py")


@pytest.fixture(scope="module")
def service(manager, ref, password_hash):
    manager.run(f"docker service rm {SERVICE}; docker secret rm {SERVICE}-password")
    manager.check_output(f"printf '%s' '{password_hash}' | docker secret create {SERVICE}-password -")
    manager.check_output(
        f"docker service create -d --name {SERVICE} --secret source={SERVICE}-password,target=jupyter_password_hash"
        f" --env JUPYTER_BASE_URL={BASE_URL} --env KERNEL_ULIMIT_AS_KB={AS_KB} --env KERNEL_ULIMIT_NOFILE={NOFILE}"
        f" --constraint node.role==manager --publish published=8888,target=8888,mode=host {ref}"
    )
    deadline, health = time.time() + 180, ""
    while time.time() < deadline and health != "healthy":
        time.sleep(3)
        cid = manager.run(f"docker ps -q --filter label=com.docker.swarm.service.name={SERVICE}").stdout.strip()
        if cid:
            health = manager.run(f"docker inspect -f '{{{{.State.Health.Status}}}}' {cid}").stdout.strip()
    assert health == "healthy", manager.run(
        f"docker service ps --no-trunc {SERVICE}; docker service logs {SERVICE}"
    ).stdout
    manager.check_output(f"cat > /tmp/jupyter_client.py <<'EOF_CLIENT'\n{CLIENT.read_text()}\nEOF_CLIENT")
    yield cid
    manager.run(f"docker service rm {SERVICE}; sleep 2; docker secret rm {SERVICE}-password")


@pytest.fixture(scope="module")
def client(manager, ref, service):
    """What a client saw talking to the server over HTTP and the kernel websocket."""
    out = manager.check_output(
        f"docker run --rm --network host -v /tmp/jupyter_client.py:/client.py:ro {ref}"
        f" python /client.py http://127.0.0.1:8888{BASE_URL} '{PASSWORD}' {3 * 1024**3}"
    )
    return json.loads(out.strip().splitlines()[-1])


def test_pushed_tag_is_in_registry(manager, ref, report):
    repo, tag = ref.removeprefix(f"{REGISTRY}/").split(":")
    tags = manager.check_output(
        'python3 -c "import json, urllib.request, ssl; '
        f"ctx = ssl.create_default_context(cafile='/etc/docker/certs.d/{REGISTRY}/ca.crt'); "
        f"print(json.load(urllib.request.urlopen('https://{REGISTRY}/v2/{repo}/tags/list', context=ctx))['tags'])\""
    )
    assert tag in tags
    size = int(manager.check_output(f"docker image inspect -f '{{{{.Size}}}}' {ref}"))
    report(f"image {ref}: {size / 1e6:.0f} MB")


def test_api_answers_under_base_url(client, manager, service):
    status, body = client["api"]
    assert status == 200
    assert "version" in json.loads(body)
    # The base URL is really in effect: the bare /api is not Jupyter's.
    bare = manager.run("python3 -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:8888/api')\"")
    assert bare.rc != 0 and "404" in bare.stderr


def test_healthcheck_follows_base_url(manager, service):
    health = json.loads(manager.check_output(f"docker inspect -f '{{{{json .State.Health}}}}' {service}"))
    assert health["Status"] == "healthy"
    assert health["Log"] and health["Log"][-1]["ExitCode"] == 0


def test_unauthenticated_contents_refused(client):
    assert client["contents_anonymous"] == 403


def test_wrong_password_refused(client):
    assert client["login_wrong"] != 302
    assert client["contents_after_wrong"] == 403


def test_password_login(client):
    assert client["login"] == 302
    assert client["contents"] == 200


def test_kernel_runs_code_as_uid_1000_with_limits(client):
    assert client["kernel_start"] == 201
    assert client["kernel_name"] == "python3"
    status, stdout, _ = client["limits"]
    assert status == "ok"
    facts = json.loads(stdout)
    assert (facts["uid"], facts["gid"]) == (1000, 100)
    assert facts["as"] == [AS_KB * 1024] * 2  # from the service's KERNEL_ULIMIT_AS_KB, soft and hard
    assert facts["nofile"] == [NOFILE] * 2
    assert facts["stack"] == [8192 * 1024] * 2  # the image's default


def test_environment_imports(client):
    status, stdout, _ = client["environment"]
    assert status == "ok" and stdout.strip() == "45"


def test_allocation_past_the_limit_fails_in_the_kernel_only(client):
    status, _, ename = client["alloc"]
    assert (status, ename) == ("error", "MemoryError")
    assert client["after_alloc"][1].strip() == "still-alive"
    assert client["api_after"] == 200
    assert client["kernel_state"] in ("idle", "busy")


def test_server_runs_as_uid_1000_without_the_kernel_limits(manager, service):
    assert manager.check_output(f"docker exec {service} id -u").strip() == "1000"
    assert manager.check_output(f"docker exec {service} id -g").strip() == "100"
    status = manager.check_output(f"docker exec {service} cat /proc/1/status")
    assert "Uid:\t1000\t1000\t1000\t1000" in status
    # The limits are the kernel launcher's, not the container's.
    limits = manager.check_output(f"docker exec {service} cat /proc/1/limits")
    address_space = next(line for line in limits.splitlines() if line.startswith("Max address space"))
    assert address_space.split()[3] == "unlimited"


def test_refuses_to_start_without_password_file(manager, ref):
    run = manager.run(f"docker run --rm {ref}")
    assert run.rc != 0
    assert "cannot read the password hash" in run.stdout + run.stderr


def test_refuses_to_run_as_root(manager, ref, password_hash):
    manager.check_output(f"printf '%s' '{password_hash}' > /tmp/ji-hash")
    run = manager.run(
        f"timeout 60 docker run --rm --user 0 -v /tmp/ji-hash:/run/secrets/jupyter_password_hash:ro {ref}"
    )
    assert run.rc != 0
    assert "--allow-root" in run.stdout + run.stderr
