"""A change of daemon options restarts dockerd once; the next run changes nothing."""

import json

testinfra_hosts = ["ansible://engine-debian12"]


def _dockerd_start(host):
    return host.check_output("systemctl show -p ExecMainStartTimestampMonotonic --value docker")


def _starts_logged(host):
    return int(host.check_output("journalctl -u docker -o cat | grep -c 'Daemon has completed initialization' || true"))


def test_option_change_restarts_once_then_idempotent(host, converge):
    daemon = json.loads(host.file("/etc/docker/daemon.json").content_string)
    # A size the host does not have yet, so the test also holds when verify runs again.
    new_size = f"{int(daemon['log-opts']['max-size'].rstrip('m')) + 1}m"
    options = {"docker_engine_daemon_options": {"log-opts": {"max-size": new_size}}}
    before, starts = _dockerd_start(host), _starts_logged(host)

    first = converge(limit="engine-debian12", extra_vars=options)
    assert first.rc == 0, first.output
    assert first.changed == 2, first.output  # daemon.json and its restart handler
    assert _dockerd_start(host) != before
    assert _starts_logged(host) == starts + 1
    daemon = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert daemon["log-opts"] == {"max-size": new_size, "max-file": "3"}
    assert host.check_output("docker info --format '{{.LoggingDriver}}'") == "json-file"

    again = converge(limit="engine-debian12", extra_vars=options)
    assert again.rc == 0, again.output
    assert again.changed == 0, again.output
    assert _starts_logged(host) == starts + 1
