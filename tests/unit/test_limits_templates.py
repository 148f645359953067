"""The limits role's files, rendered by Ansible from the role's own defaults and templates; the runner is run here.

The runner is a POSIX sh script: it is executed with this machine's /bin/sh (dash on Debian, as on the hosts),
so its option handling and the MemoryError of a runaway allocation are checked without a node container.
"""

import subprocess
import sys

import pytest
from ansible_play import render_templates


def _render(tmp_path, template, extra=None):
    (path,) = render_templates(
        tmp_path, "limits", [template], vars_files=["defaults/main.yml", "vars/main.yml"], extra=extra, mode="0755"
    )
    return path


def _lines(path):
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


def test_limits_conf_has_one_line_per_entry(tmp_path):
    entries = [
        {"domain": "@jupyter", "type": "soft", "item": "nofile", "value": 4096},
        {"domain": "alice", "item": "nice", "value": -5},
    ]
    path = _render(tmp_path, "condaswarm-limits.conf.j2", {"limits_entries": entries})
    assert _lines(path) == ["@jupyter\tsoft\tnofile\t4096", "alice\t-\tnice\t-5"]


def test_systemd_dropin(tmp_path):
    path = _render(tmp_path, "system.conf.j2", {"limits_systemd_defaults": {"NOFILE": "8192:524288", "CORE": 0}})
    assert _lines(path) == ["[Manager]", "DefaultLimitCORE=0", "DefaultLimitNOFILE=8192:524288"]


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    return _render(tmp_path_factory.mktemp("runner"), "condaswarm-ulimit.j2")


SHOW = ["sh", "-c", "ulimit -v; ulimit -n; ulimit -s; ulimit -Hn"]


def _run(cmd, env=None):
    base = {"PATH": "/usr/bin:/bin"}
    return subprocess.run(cmd, capture_output=True, text=True, check=False, env={**base, **(env or {})})


def test_runner_defaults_are_the_roles(runner):
    assert _run([str(runner), *SHOW]).stdout.split() == ["4194304", "1024", "8192", "1024"]


def test_runner_options_beat_environment_beat_defaults(runner):
    env = {"CONDASWARM_ULIMIT_NOFILE": "512", "CONDASWARM_ULIMIT_STACK_KB": ""}
    inherited_stack = _run(["sh", "-c", "ulimit -s"]).stdout.strip()
    assert _run([str(runner), *SHOW], env).stdout.split() == ["4194304", "512", inherited_stack, "512"]
    assert _run([str(runner), "-n", "256", "-v", "1048576", "--", *SHOW], env).stdout.split() == [
        "1048576",
        "256",
        inherited_stack,
        "256",
    ]


def test_runner_memory_error_stays_in_the_command(runner):
    proc = _run(
        [
            "sh",
            "-c",
            f"{runner} -v 1048576 {sys.executable} -c 'bytearray(2 * 1024 ** 3)'; echo rc=$?; ulimit -v",
        ]
    )
    assert "MemoryError" in proc.stderr
    assert proc.stdout.split() == ["rc=1", _run(["sh", "-c", "ulimit -v"]).stdout.strip()]


def test_runner_usage_and_bad_values(runner):
    assert _run([str(runner)]).returncode == 2
    assert "usage: condaswarm-ulimit" in _run([str(runner)]).stderr
    bad = _run([str(runner), "-n", "lots", "true"])
    assert bad.returncode != 0
    assert "ulimit" in bad.stderr
