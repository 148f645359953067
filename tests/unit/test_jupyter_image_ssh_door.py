"""The SSH door's configuration as jupyter_image renders it: the sshd role's choices, written down once."""

import re
from pathlib import Path

import pytest
import yaml
from test_jupyter_image_context import render

SSHD_DEFAULTS = yaml.safe_load((Path(__file__).resolve().parents[2] / "roles/sshd/defaults/main.yml").read_text())


def _lines(path):
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def door(tmp_path_factory):
    return render(tmp_path_factory.mktemp("door"), jupyter_image_flavour="pip", jupyter_image_ssh=True)


@pytest.fixture(scope="module")
def site_choices(tmp_path_factory):
    """A site that sets the sshd role's variables in its inventory: the door follows them too."""
    return render(
        tmp_path_factory.mktemp("site"),
        jupyter_image_flavour="pip",
        jupyter_image_ssh=True,
        sshd_host_key_types=["ed25519", "rsa"],
        sshd_host_key_rsa_bits=4096,
        sshd_kex_algorithms=["sntrup761x25519-sha512@openssh.com", "curve25519-sha256"],
        sshd_ciphers=["aes256-gcm@openssh.com"],
        sshd_macs=["hmac-sha2-512-etm@openssh.com"],
    )


def test_door_takes_the_sshd_role_defaults(door):
    context, _ref = door
    assert _lines(context / "sshd_algorithms") == [
        "HostKeyAlgorithms key-sig ssh-ed25519",
        "KexAlgorithms kex " + " ".join(SSHD_DEFAULTS["sshd_kex_algorithms"]),
        "Ciphers cipher " + " ".join(SSHD_DEFAULTS["sshd_ciphers"]),
        "MACs mac " + " ".join(SSHD_DEFAULTS["sshd_macs"]),
    ]
    config = _lines(context / "sshd_config")
    assert [line for line in config if line.startswith("HostKey")] == [
        "HostKey /var/lib/condaswarm-ssh/ssh_host_ed25519_key"
    ]
    script = (context / "condaswarm-sshd").read_text()
    assert re.findall(r"ssh-keygen -q -t (\S+)", script) == ["ed25519"]


def test_door_follows_the_site_choices(site_choices, door):
    context, ref = site_choices
    assert _lines(context / "sshd_algorithms") == [
        "HostKeyAlgorithms key-sig ssh-ed25519 rsa-sha2-512 rsa-sha2-256",
        "KexAlgorithms kex sntrup761x25519-sha512@openssh.com curve25519-sha256",
        "Ciphers cipher aes256-gcm@openssh.com",
        "MACs mac hmac-sha2-512-etm@openssh.com",
    ]
    assert [line for line in _lines(context / "sshd_config") if line.startswith("HostKey")] == [
        "HostKey /var/lib/condaswarm-ssh/ssh_host_ed25519_key",
        "HostKey /var/lib/condaswarm-ssh/ssh_host_rsa_key",
    ]
    assert "ssh-keygen -q -t rsa -b 4096 " in (context / "condaswarm-sshd").read_text()
    # Another choice, another build context: a new tag, and the image is built again.
    assert ref != door[1]


def test_build_filters_and_checks_the_algorithms(door):
    dockerfile = (door[0] / "Dockerfile").read_text()
    assert "COPY sshd_config sshd_algorithms /etc/ssh/condaswarm/" in dockerfile
    assert 'supported=$(ssh -Q "$query")' in dockerfile
    assert "done >> sshd_config" in dockerfile
    assert "/usr/sbin/sshd -t -f sshd_config" in dockerfile
