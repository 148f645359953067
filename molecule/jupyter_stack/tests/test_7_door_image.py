"""The image's SSH door (jupyter_image_ssh: true, the scenario's image) run by hand beside the stack's door:
keys only, the notebook user, host keys on a volume."""

import time

import pytest
from stack_helpers import MANAGER, image_ref

testinfra_hosts = [f"ansible://{MANAGER}"]

NAME = "ji-ssh"
# The stack's own door publishes 2222.
PORT = 2299
SSH = f"ssh -p {PORT} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=10"


def start(host, ref):
    host.run(f"docker rm -f {NAME}")
    host.check_output(
        f"docker run -d --name {NAME} -p {PORT}:2222 -v /tmp/ji-key.pub:/run/secrets/ssh_authorized_keys:ro"
        f" -v {NAME}-hostkeys:/var/lib/condaswarm-ssh {ref} condaswarm-sshd"
    )
    for _ in range(30):
        scan = host.run(f"ssh-keyscan -p {PORT} -t ed25519 127.0.0.1 2>/dev/null")
        if scan.stdout.strip():
            return scan.stdout.split()[-1]
        time.sleep(1)
    pytest.fail(host.run(f"docker logs {NAME}").stderr)


@pytest.fixture(scope="module")
def door(host, ref):
    host.run("rm -f /tmp/ji-key /tmp/ji-key.pub")
    host.check_output("ssh-keygen -q -t ed25519 -N '' -f /tmp/ji-key")
    host_key = start(host, ref)
    yield ref, host_key
    host.run(f"docker rm -f {NAME}; docker volume rm {NAME}-hostkeys")


def test_door_is_a_different_tag(door):
    assert image_ref({"jupyter_image_ssh": False}) != door[0]


def test_key_login_as_the_notebook_user(host, door):
    out = host.check_output(f"{SSH} -i /tmp/ji-key jovyan@127.0.0.1 'id -u; python -c \"import ipykernel; print(1)\"'")
    assert out.split() == ["1000", "1"]


def test_password_login_refused(host, door):
    no_keys = "-o PubkeyAuthentication=no -o PreferredAuthentications=password,keyboard-interactive"
    run = host.run(f"{SSH} {no_keys} jovyan@127.0.0.1 true")
    assert run.rc == 255
    assert "Permission denied (publickey)" in run.stderr  # the server offers keys only


def test_unknown_key_refused(host, door):
    host.run("rm -f /tmp/ji-other; ssh-keygen -q -t ed25519 -N '' -f /tmp/ji-other")
    run = host.run(f"{SSH} -i /tmp/ji-other jovyan@127.0.0.1 true")
    assert run.rc == 255 and "Permission denied" in run.stderr


def test_sshd_runs_unprivileged(host, door):
    assert host.check_output(f"docker exec {NAME} id -u").strip() == "1000"
    health = host.check_output(f"docker inspect -f '{{{{.Config.Healthcheck.Test}}}}' {NAME}")
    assert "condaswarm-healthcheck" in health


def test_host_key_kept_on_the_volume(host, door):
    ref, before = door
    assert start(host, ref) == before
