"""Docker CE's deb822 source (the repository is out of reach here) and the service environment drop-in."""

from pathlib import Path

import jinja2
import pytest
import yaml

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
