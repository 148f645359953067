"""What sshd actually uses (sshd -T), in spite of the lines that try to override the role."""

import re

import pytest

testinfra_hosts = ["ansible://all"]

EXPECTED = {
    "passwordauthentication": "no",
    "kbdinteractiveauthentication": "no",
    "pubkeyauthentication": "yes",
    "authenticationmethods": "publickey",
    "permitemptypasswords": "no",
    "permitrootlogin": "without-password",  # sshd -T's name for prohibit-password
    "maxauthtries": "3",
    "logingracetime": "30",
    "x11forwarding": "no",
    "allowagentforwarding": "no",
    "allowtcpforwarding": "no",
    "allowstreamlocalforwarding": "no",
    "allowgroups": "ssh-users",
}


@pytest.fixture(scope="module")
def effective(host):
    lines = host.check_output("sshd -T").splitlines()
    return dict(line.split(" ", 1) for line in lines)


@pytest.mark.parametrize(("keyword", "value"), EXPECTED.items())
def test_effective_value(effective, keyword, value):
    assert effective[keyword] == value


def test_algorithms_follow_the_openssh_version(host, effective):
    major, minor = map(int, re.search(r"OpenSSH_(\d+)\.(\d+)", host.run("ssh -V").stderr).groups())
    kex = effective["kexalgorithms"].split(",")
    assert ("mlkem768x25519-sha256" in kex) == ((major, minor) >= (9, 9))
    assert kex[0] in {"mlkem768x25519-sha256", "sntrup761x25519-sha512"}
    assert not [k for k in kex if k.startswith(("ecdh-sha2-nistp", "diffie-hellman-group14", "diffie-hellman-group1-"))]
    assert not [c for c in effective["ciphers"].split(",") if c.endswith("-cbc")]
    assert all(m.endswith("-etm@openssh.com") for m in effective["macs"].split(","))


def test_overriding_lines_are_there_but_lose(host):
    """prepare.yml left cloud-init's drop-in and a PermitRootLogin before the Include; neither counts."""
    assert host.file("/etc/ssh/sshd_config.d/50-cloud-init.conf").contains("^PasswordAuthentication yes")
    main = host.file("/etc/ssh/sshd_config").content_string.splitlines()
    directives = [line for line in main if line.strip() and not line.lstrip().startswith("#")]
    assert directives[0] == "Include /etc/ssh/sshd_config.d/*.conf"
    assert "PermitRootLogin yes" in directives
    assert sorted(host.file("/etc/ssh/sshd_config.d").listdir())[0] == "00-condaswarm.conf"
