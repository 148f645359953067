"""A change of daemon options restarts dockerd once, the next run changes nothing, a hand edit is put back,
and check mode shows a change without making it."""

import json

testinfra_hosts = ["ansible://engine-debian12"]


def _dockerd_start(host):
    return host.check_output("systemctl show -p ExecMainStartTimestampMonotonic --value docker")


def _starts_logged(host):
    return int(host.check_output("journalctl -u docker -o cat | grep -c 'Daemon has completed initialization' || true"))


def _size(max_size):
    return {"docker_engine_daemon_options": {"log-opts": {"max-size": max_size}}}


def test_hand_edit_of_daemon_json_is_put_back(host, converge):
    live = host.file("/etc/docker/daemon.json").content_string
    # The options that make the file as it is now (an earlier verify run may have left another size).
    options = _size(json.loads(live)["log-opts"]["max-size"])
    before = _dockerd_start(host)
    host.check_output("""sed -i 's/"max-file": "3"/"max-file": "9"/' /etc/docker/daemon.json""")
    assert json.loads(host.file("/etc/docker/daemon.json").content_string)["log-opts"]["max-file"] == "9"

    run = converge(limit="engine-debian12", extra_vars=options)
    assert run.rc == 0, run.output
    assert run.changed == 2, run.output  # daemon.json and its restart handler
    assert host.file("/etc/docker/daemon.json").content_string == live
    assert host.file("/etc/docker/daemon.json").mode == 0o644
    assert _dockerd_start(host) != before


def test_option_change_restarts_once_then_idempotent(host, converge):
    daemon = json.loads(host.file("/etc/docker/daemon.json").content_string)
    # A size the host does not have yet, so the test also holds when verify runs again.
    new_size = f"{int(daemon['log-opts']['max-size'].rstrip('m')) + 1}m"
    options = _size(new_size)
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


def test_check_mode_shows_the_change_and_changes_nothing(host, converge):
    live = host.file("/etc/docker/daemon.json").content_string
    size = json.loads(live)["log-opts"]["max-size"]
    started = _dockerd_start(host)

    clean = converge(limit="engine-debian12", check=True, extra_vars=_size(size))
    assert clean.rc == 0, clean.output
    assert clean.changed == 0, clean.output

    other = f"{int(size.rstrip('m')) + 1}m"
    run = converge(limit="engine-debian12", check=True, extra_vars=_size(other))
    assert run.rc == 0, run.output
    assert f'+        "max-size": "{other}"' in run.output  # the diff of daemon.json
    assert host.file("/etc/docker/daemon.json").content_string == live
    assert _dockerd_start(host) == started
