"""Runs that must not lock anyone out: a missing key, a broken option, a login that stops working.

Each run covers both nodes at once (one ansible-playbook), then every test checks its own node.
"""

import pytest
from sshclient import NODES, key_login, node_ip, sshd_config_state

testinfra_hosts = ["ansible://all"]


def _run(converge, **kwargs):
    before = {name: sshd_config_state(name) for name in NODES}
    run = converge(**kwargs)
    after = {name: sshd_config_state(name) for name in NODES}
    return run, before, after


@pytest.fixture(scope="module")
def no_key_run(converge):
    # carol has a password but no key; root has a key but is not in the AllowUsers list asked for.
    # The run would otherwise change MaxAuthTries.
    extra = {"sshd_admin_users": ["carol", "root"], "sshd_allow_users": ["alice"], "sshd_max_auth_tries": 2}
    return _run(converge, extra_vars=extra)


@pytest.fixture(scope="module")
def broken_option_run(converge):
    return _run(converge, extra_vars={"sshd_extra_options": {"NoSuchOption": True}})


@pytest.fixture(scope="module")
def lockout_run(converge):
    # Valid for sshd -t, but shuts out root, the connecting (admin) user: only a login finds it.
    return _run(converge, extra_vars={"sshd_extra_options": {"DenyUsers": "root"}})


@pytest.fixture(scope="module")
def check_run(converge):
    return _run(converge, check=True, extra_vars={"sshd_max_auth_tries": 2})


def test_admin_without_key_stops_before_sshd_changes(host, no_key_run):
    run, before, after = no_key_run
    name = host.backend.get_hostname()
    assert run.rc != 0
    assert "Refusing to switch off password logins" in run.output
    assert "admin user carol has no authorized key (looked in /home/carol/.ssh/authorized_keys" in run.output
    assert "admin user root is not in sshd_allow_users" in run.output
    assert after[name] == before[name]
    assert "Write the role's settings" not in run.output  # stopped before the configuration tasks
    assert host.check_output("sshd -T | grep ^maxauthtries") == "maxauthtries 3"


def test_broken_option_is_caught_by_validation(host, broken_option_run):
    run, before, after = broken_option_run
    name = host.backend.get_hostname()
    assert run.rc != 0
    assert "NoSuchOption" in run.output  # sshd -t names the keyword it refused
    assert "The live configuration was not changed." in run.output
    assert after[name] == before[name]
    assert "NoSuchOption" not in host.file("/etc/ssh/sshd_config.d/00-condaswarm.conf").content_string
    assert host.service("ssh").is_running
    assert key_login(node_ip(name), "alice").returncode == 0


def test_lost_login_is_rolled_back(host, lockout_run):
    run, before, after = lockout_run
    name = host.backend.get_hostname()
    assert run.rc != 0
    assert "Log in with it" in run.output  # the probe found it
    assert "The previous configuration was restored and sshd reloaded." in run.output
    assert after[name] == before[name]
    assert "denyusers" not in host.check_output("sshd -T")
    login = key_login(node_ip(name), "root")  # the reloaded sshd lets root in again
    assert login.returncode == 0, login.stderr
    # The throw-away key is gone.
    assert "condaswarm-sshd-probe" not in host.file("/root/.ssh/authorized_keys").content_string


def test_check_mode_shows_the_change_and_makes_none(host, check_run):
    run, before, after = check_run
    name = host.backend.get_hostname()
    assert run.rc == 0, run.output
    assert "+MaxAuthTries 2" in run.output
    assert after[name] == before[name]
