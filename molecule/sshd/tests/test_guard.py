"""Runs that must not lock anyone out: a missing key, a broken option, a login that stops working.

Each run covers both nodes at once (one ansible-playbook), then every test checks its own node.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sshclient import NODES, key_login, node_ip, sshd_config_state, sshd_main_pid

testinfra_hosts = ["ansible://all"]

# Runs that change nothing on the nodes when the role behaves; they run side by side.
READ_ONLY_RUNS = {
    # carol has a password but no key; root has a key but is not in the AllowUsers list asked for.
    # The run would otherwise change MaxAuthTries.
    "no_key": {
        "extra_vars": {"sshd_admin_users": ["carol", "root"], "sshd_allow_users": ["alice"], "sshd_max_auth_tries": 2}
    },
    "broken_option": {"extra_vars": {"sshd_extra_options": {"NoSuchOption": True}}},
    "check": {"check": True, "extra_vars": {"sshd_max_auth_tries": 2}},
}


def _states():
    return {name: sshd_config_state(name) for name in NODES}


@pytest.fixture(scope="module")
def read_only_runs(converge):
    before = _states()
    with ThreadPoolExecutor(len(READ_ONLY_RUNS)) as pool:
        futures = {key: pool.submit(converge, **kwargs) for key, kwargs in READ_ONLY_RUNS.items()}
        runs = {key: future.result() for key, future in futures.items()}
    return runs, before, _states()


@pytest.fixture(scope="module")
def lockout_run(converge, read_only_runs):
    # Valid for sshd -t, but shuts out root, the connecting (admin) user: only a login finds it.
    before, pids = _states(), {name: sshd_main_pid(name) for name in NODES}
    run = converge(extra_vars={"sshd_extra_options": {"DenyUsers": "root"}})
    return run, before, _states(), pids


def test_nothing_changed_by_the_refused_and_check_runs(host, read_only_runs):
    _, before, after = read_only_runs
    name = host.backend.get_hostname()
    assert after[name] == before[name]


def test_admin_without_key_stops_before_sshd_changes(host, read_only_runs):
    run = read_only_runs[0]["no_key"]
    assert run.rc != 0
    assert "Refusing to switch off password logins" in run.output
    assert "admin user carol has no authorized key (looked in /home/carol/.ssh/authorized_keys" in run.output
    assert "admin user root is not in sshd_allow_users" in run.output
    assert "Write the role's settings" not in run.output  # stopped before the configuration tasks
    assert host.check_output("sshd -T | grep ^maxauthtries") == "maxauthtries 3"


def test_broken_option_is_caught_by_validation(host, read_only_runs):
    run = read_only_runs[0]["broken_option"]
    assert run.rc != 0
    assert "NoSuchOption" in run.output  # sshd -t names the keyword it refused
    assert "The live configuration was not changed." in run.output
    assert "NoSuchOption" not in host.file("/etc/ssh/sshd_config.d/00-condaswarm.conf").content_string
    assert host.service("ssh").is_running
    assert key_login(node_ip(host.backend.get_hostname()), "alice").returncode == 0


def test_check_mode_shows_the_change_and_makes_none(host, read_only_runs):
    run = read_only_runs[0]["check"]
    assert run.rc == 0, run.output
    assert "+MaxAuthTries 2" in run.output
    assert host.check_output("sshd -T | grep ^maxauthtries") == "maxauthtries 3"


def test_lost_login_is_rolled_back(host, lockout_run):
    run, before, after, pids = lockout_run
    name = host.backend.get_hostname()
    assert run.rc != 0
    assert "Log in to the host's own sshd with the throw-away key" in run.output  # the probe found it
    # Two reloads (the change, the rollback) and no restart: the same sshd process.
    assert "Reload sshd with the previous configuration" in run.output
    assert sshd_main_pid(name) == pids[name]
    assert "The previous configuration was restored and sshd reloaded." in run.output
    assert after[name] == before[name]
    assert "denyusers" not in host.check_output("sshd -T")
    login = key_login(node_ip(name), "root")  # the reloaded sshd lets root in again
    assert login.returncode == 0, login.stderr
    # The throw-away key is gone.
    assert "condaswarm-sshd-probe" not in host.file("/root/.ssh/authorized_keys").content_string
