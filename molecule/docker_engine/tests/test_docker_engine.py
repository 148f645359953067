"""Behaviour of a node after the docker_engine role."""

import json

import pytest

testinfra_hosts = ["ansible://all"]


def test_daemon_answers(host):
    out = host.check_output("docker version --format '{{.Server.Version}}'")
    assert out.strip()


def test_container_runs(host):
    host.check_output("docker load -i /opt/busybox.tar")
    out = host.check_output("docker run --rm condaswarm/busybox:latest echo hello-from-$(hostname)")
    assert out.startswith("hello-from-")


def test_log_options_in_effect(host):
    info = json.loads(host.check_output("docker info --format '{{json .}}'"))
    assert info["LoggingDriver"] == "json-file"
    cid = host.check_output("docker run -d condaswarm/busybox:latest sleep 30")
    try:
        cfg = json.loads(host.check_output(f"docker inspect --format '{{{{json .HostConfig.LogConfig}}}}' {cid}"))
    finally:
        host.run(f"docker rm -f {cid}")
    # max-size comes from the scenario (or test_reconfigure), max-file from the role defaults.
    assert cfg["Type"] == "json-file"
    assert cfg["Config"]["max-file"] == "3"
    assert (
        cfg["Config"]["max-size"]
        == json.loads(host.file("/etc/docker/daemon.json").content_string)["log-opts"]["max-size"]
    )


def test_user_runs_docker_without_sudo(host):
    cmd = host.run("su - alice -c 'docker ps --format {{.ID}}'")
    assert cmd.rc == 0, cmd.stderr
    assert host.run("su - nobody -s /bin/sh -c 'docker ps'").rc != 0


@pytest.mark.parametrize("svc", ["docker"])
def test_service_enabled(host, svc):
    assert host.service(svc).is_enabled
