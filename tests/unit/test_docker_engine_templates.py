"""Docker CE's deb822 source (the repository is out of reach here), the service environment drop-in, and
daemon.json's CIS Docker Benchmark settings."""

import json
from pathlib import Path

import jinja2
import pytest
import yaml
from ansible_play import run_play

ROLE = Path(__file__).resolve().parents[2] / "roles" / "docker_engine"


def _render(source, **context):
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.from_string(source).render(**context)


@pytest.mark.parametrize(
    ("distribution", "release", "arch", "deb_arch"),
    [
        ("Debian", "bookworm", "x86_64", "amd64"),
        ("Debian", "trixie", "aarch64", "arm64"),
        ("Ubuntu", "noble", "x86_64", "amd64"),
    ],
)
def test_docker_sources(distribution, release, arch, deb_arch):
    facts = {"distribution": distribution, "distribution_release": release, "architecture": arch}
    role_vars = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    os_vars = yaml.safe_load((ROLE / "vars" / "Debian.yml").read_text())
    url = _render(
        role_vars["_docker_engine_repository_url"], docker_engine_docker_ce_repository_url="", ansible_facts=facts
    )
    assert url.strip() == f"https://download.docker.com/linux/{distribution.lower()}"

    text = _render(
        (ROLE / "templates" / "docker.sources.j2").read_text(),
        ansible_managed="managed",
        ansible_facts=facts,
        _docker_engine_repository_url=url.strip(),
        docker_engine_docker_ce_channel="stable",
        docker_engine__keyring=os_vars["docker_engine__keyring"],
    )
    fields = dict(line.split(": ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert fields == {
        "Types": "deb",
        "URIs": f"https://download.docker.com/linux/{distribution.lower()}",
        "Suites": release,
        "Components": "stable",
        "Architectures": deb_arch,
        "Signed-By": "/etc/apt/keyrings/docker.asc",
    }


def test_service_environment_dropin_is_sorted_and_quoted():
    text = _render(
        (ROLE / "templates" / "environment.conf.j2").read_text(),
        ansible_managed="managed",
        docker_engine_service_environment={"NO_PROXY": "localhost,10.0.0.0/8", "HTTPS_PROXY": "http://proxy:3128"},
    )
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines == [
        "[Service]",
        'Environment="HTTPS_PROXY=http://proxy:3128"',
        'Environment="NO_PROXY=localhost,10.0.0.0/8"',
    ]


def _daemon_json(tmp_path, **role_vars):
    """daemon.json as the role writes it (vars/main.yml over defaults/main.yml), rendered by Ansible."""
    out = tmp_path / "daemon.json"
    run_play(
        tmp_path,
        [{"ansible.builtin.copy": {"content": "{{ _docker_engine_daemon_json }}", "dest": str(out), "mode": "0644"}}],
        vars_files=[ROLE / "defaults" / "main.yml", ROLE / "vars" / "main.yml"],
        extra=role_vars,
    )
    return json.loads(out.read_text())


# CIS Docker Benchmark 1.6 (docker-bench-security's IDs): each adopted daemon setting, its default and its variable.
@pytest.mark.parametrize(
    ("cis_id", "key", "hardened", "variable"),
    [
        ("2.2", "icc", False, "docker_engine_icc"),
        ("2.14", "no-new-privileges", True, "docker_engine_no_new_privileges"),
        ("2.16", "userland-proxy", False, "docker_engine_userland_proxy"),
    ],
)
def test_cis_daemon_setting(tmp_path, cis_id, key, hardened, variable):
    assert _daemon_json(tmp_path / "default")[key] is hardened, cis_id
    assert _daemon_json(tmp_path / "opted-out", **{variable: not hardened})[key] is (not hardened), cis_id


def test_daemon_json_keeps_defaults_and_options_beside_the_hardening(tmp_path):
    daemon = _daemon_json(tmp_path, docker_engine_daemon_options={"log-opts": {"max-size": "5m"}, "debug": True})
    assert daemon == {
        "debug": True,
        "icc": False,
        "log-driver": "json-file",
        "log-opts": {"max-file": "3", "max-size": "5m"},
        "no-new-privileges": True,
        "userland-proxy": False,
    }
    assert "live-restore" not in daemon  # CIS 2.15 is not adopted: Docker refuses it in swarm mode
