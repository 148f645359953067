"""Logins from this machine with a real ssh client: keys work, passwords and weak algorithms do not."""

import re

import pytest
from sshclient import PASSWORD, key_login, password_login

testinfra_hosts = ["ansible://all"]

CONTROL_CONFIG = """Port 2222
HostKey /etc/ssh/ssh_host_ed25519_key
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM yes
PermitRootLogin yes
PidFile none
"""


@pytest.fixture(scope="module")
def control_sshd(host):
    """A second sshd on port 2222 that accepts passwords: proves the password itself is right."""
    host.run("systemctl stop sshd-control 2>/dev/null")
    host.run(f"printf '%s' '{CONTROL_CONFIG}' > /run/sshd-control.conf")
    host.check_output("systemd-run --unit=sshd-control --collect /usr/sbin/sshd -D -f /run/sshd-control.conf")
    host.check_output("for i in $(seq 50); do ss -ltn | grep -q ':2222 ' && exit 0; sleep 0.1; done; exit 1")
    yield 2222
    host.run("systemctl stop sshd-control")


@pytest.mark.parametrize("user", ["alice", "root"])
def test_key_login_succeeds(ip, user):
    login = key_login(ip, user)
    assert login.returncode == 0, login.stderr
    assert login.stdout.strip() == user


def test_key_login_outside_allowed_groups_is_refused(ip):
    """bob has the same key as alice but is not in ssh-users (sshd_allow_groups)."""
    login = key_login(ip, "bob")
    assert login.returncode == 255
    assert "Permission denied (publickey)" in login.stderr


@pytest.mark.parametrize("user", ["alice", "root"])
def test_right_password_is_refused(ip, askpass, control_sshd, user):
    control = password_login(ip, user, PASSWORD, port=control_sshd, askpass=askpass)
    assert control.returncode == 0, control.stderr  # the same password opens the control sshd
    assert control.stdout.strip() == user

    login = password_login(ip, user, PASSWORD, askpass=askpass)
    assert login.returncode == 255
    assert login.stdout == ""
    assert "Permission denied (publickey)." in login.stderr
    # The server never offered a password prompt: publickey is the only method it lists.
    offered = set(re.findall(r"Authentications that can continue: (\S+)", login.stderr))
    assert offered == {"publickey"}, login.stderr


@pytest.mark.parametrize(
    ("options", "refusal"),
    [
        (["-o", "KexAlgorithms=diffie-hellman-group14-sha256,ecdh-sha2-nistp256"], "no matching key exchange method"),
        (["-o", "Ciphers=aes128-cbc,aes256-cbc"], "no matching cipher"),
        (["-o", "Ciphers=aes128-ctr", "-o", "MACs=hmac-sha1,hmac-sha2-256"], "no matching MAC"),
    ],
    ids=["kex", "cipher", "mac"],
)
def test_weak_algorithms_are_refused(ip, options, refusal):
    login = key_login(ip, "alice", *options)
    assert login.returncode == 255
    assert refusal in login.stderr


def test_kex_is_post_quantum_hybrid_where_openssh_has_it(host):
    """A client on the node negotiates the strongest kex this OpenSSH build supports."""
    version = re.search(r"OpenSSH_(\d+)\.(\d+)", host.run("ssh -V").stderr).groups()
    probe = host.run(
        "ssh -v -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
        "-o PubkeyAuthentication=no nobody@127.0.0.1 true"
    )
    kex = re.search(r"kex: algorithm: (\S+)", probe.stderr).group(1)
    expected = "mlkem768x25519-sha256" if tuple(map(int, version)) >= (9, 9) else "sntrup761x25519-sha512"
    assert kex.startswith(expected), probe.stderr


def test_tcp_forwarding_is_refused(ip):
    login = key_login(ip, "alice", "-W", "127.0.0.1:22")
    assert login.returncode != 0
    assert "administratively prohibited" in login.stderr
