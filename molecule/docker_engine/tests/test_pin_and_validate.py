"""Version pin with an apt hold, and daemon.json validation by the engine itself where it can."""

import json

import pytest

testinfra_hosts = ["ansible://all"]


def test_version_pin_holds_and_release(host, converge):
    name = host.backend.get_hostname()
    version = host.check_output("dpkg-query -W -f='${Version}' docker.io")

    pinned = converge(limit=name, extra_vars={"docker_engine_version": version})
    assert pinned.rc == 0, pinned.output
    assert "docker.io" in host.check_output("apt-mark showhold").split()

    released = converge(limit=name)
    assert released.rc == 0, released.output
    assert "docker.io" not in host.check_output("apt-mark showhold").split()


def test_engine_validates_daemon_json(host, converge):
    if "--validate" not in host.check_output("dockerd --help"):
        pytest.skip("this engine has no dockerd --validate (Engine < 23, e.g. Debian 12's 20.10)")
    name = host.backend.get_hostname()
    live = host.file("/etc/docker/daemon.json").content_string
    started = host.check_output("systemctl show -p ExecMainStartTimestampMonotonic --value docker")

    bad = converge(limit=name, extra_vars={"docker_engine_daemon_options": {"no-such-directive": True}})
    assert bad.rc != 0
    assert "no-such-directive" in bad.output  # dockerd names the directive it refused
    assert host.file("/etc/docker/daemon.json").content_string == live
    assert json.loads(live).get("no-such-directive") is None
    assert host.service("docker").is_running
    assert host.check_output("systemctl show -p ExecMainStartTimestampMonotonic --value docker") == started
