"""Parsers and the collector of module_utils/host_state: recorded command output, temporary files and PAM stacks."""

import hashlib
import json
import os
import re
import sys
from pathlib import Path

import pytest

# The collection is importable through .collections (the shared conftest does the same).
COLLECTIONS = Path(__file__).resolve().parents[4] / ".collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

from ansible_collections.condaswarm.cluster.plugins.module_utils import host_state as hs  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "host_state"


def recorded(name):
    """A command recorded on a Debian 12 node container (record.py): argv, rc, stdout, stderr."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


class FakeHost:
    """run/which for HostState: answers commands from recorded or given output, keyed by the tool's
    base name and the arguments; any other command fails the test."""

    def __init__(self, answers=(), tools=("dpkg-query", "getent", "id", "systemctl", "ssh", "ssh-keygen")):
        self.answers = {}
        self.tools = {name: f"/usr/bin/{name}" for name in tools}
        self.calls = []
        for argv, rc, stdout, stderr in answers:
            self.answer(argv, rc, stdout, stderr)

    @staticmethod
    def key(argv):
        return (os.path.basename(argv[0]), *argv[1:])

    def answer(self, argv, rc=0, stdout="", stderr=""):
        self.answers[self.key(argv)] = (rc, stdout, stderr)

    def replay(self, name):
        fixture = recorded(name)
        self.answer(fixture["argv"], fixture["rc"], fixture["stdout"], fixture["stderr"])

    def run(self, argv):
        self.calls.append(list(argv))
        try:
            return self.answers[self.key(argv)]
        except KeyError:
            raise AssertionError(f"unexpected command {argv}") from None

    def which(self, name):
        return self.tools.get(name)

    def state(self):
        return hs.HostState(run=self.run, which=self.which)


# dpkg-query


DPKG_STDOUT = recorded("dpkg_query")["stdout"]
NEVER_SEEN = {"installed": False, "version": "", "selection": "unknown", "status": "not-installed"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "openssh-server",
            {"installed": True, "version": "1:9.2p1-2+deb12u10", "selection": "install", "status": "installed"},
        ),
        (
            "openssh-client",
            {"installed": True, "version": "1:9.2p1-2+deb12u10", "selection": "hold", "status": "installed"},
        ),
        # Selected for removal but still installed (dpkg -r refused by a dependency).
        ("media-types", {"installed": True, "version": "10.0.0", "selection": "deinstall", "status": "installed"}),
        (
            "util-linux-extra",
            {"installed": True, "version": "2.38.1-5+deb12u3", "selection": "purge", "status": "installed"},
        ),
        # Purged: dpkg has forgotten it, like a package it never saw.
        ("sudo", NEVER_SEEN),
        ("no-such-package", NEVER_SEEN),
    ],
)
def test_dpkg_query_recorded(name, expected):
    names = recorded("dpkg_query")["argv"][3:]
    assert hs.parse_dpkg_query(DPKG_STDOUT, names)[name] == expected


@pytest.mark.parametrize(
    ("stdout", "name", "expected"),
    [
        (
            "sudo\tamd64\t1.9.13p3-1+deb12u1\tdeinstall\tconfig-files\n",
            "sudo",
            {"installed": False, "version": "1.9.13p3-1+deb12u1", "selection": "deinstall", "status": "config-files"},
        ),
        (
            "docker.io\tamd64\t20.10.24+dfsg1-1+b3\tinstall\thalf-configured\n",
            "docker.io",
            {"installed": False, "version": "20.10.24+dfsg1-1+b3", "selection": "install", "status": "half-configured"},
        ),
        # Known to the available database only: empty version and want.
        ("foo\tamd64\t\t\tnot-installed\n", "foo", NEVER_SEEN),
        # Multi-arch: the installed architecture wins unless one is asked for.
        (
            "libc6\ti386\t2.36-9\tdeinstall\tconfig-files\nlibc6\tamd64\t2.36-9+deb12u4\tinstall\tinstalled\n",
            "libc6",
            {"installed": True, "version": "2.36-9+deb12u4", "selection": "install", "status": "installed"},
        ),
        (
            "libc6\ti386\t2.36-9\tdeinstall\tconfig-files\nlibc6\tamd64\t2.36-9+deb12u4\tinstall\tinstalled\n",
            "libc6:i386",
            {"installed": False, "version": "2.36-9", "selection": "deinstall", "status": "config-files"},
        ),
        ("libc6\tamd64\t2.36-9\tinstall\tinstalled\n", "libc6:arm64", NEVER_SEEN),
        ("", "anything", NEVER_SEEN),
        # A line that is not ours (a warning on stdout) is skipped.
        (
            "dpkg-query: warning: something\nfoo\tall\t1.0\thold\tinstalled\n",
            "foo",
            {"installed": True, "version": "1.0", "selection": "hold", "status": "installed"},
        ),
    ],
)
def test_dpkg_query_rows(stdout, name, expected):
    assert hs.parse_dpkg_query(stdout, [name]) == {name: expected}


def test_packages_rc1_is_not_an_error_and_argv_is_a_list():
    host = FakeHost()
    host.replay("dpkg_query")
    names = recorded("dpkg_query")["argv"][3:]
    result = host.state().packages(names)
    assert set(result) == set(names)
    assert host.calls == [["/usr/bin/dpkg-query", "--show", f"--showformat={hs.DPKG_FORMAT}", *names]]


def test_packages_fail_on_dpkg_error():
    host = FakeHost(
        [(["dpkg-query", "--show", f"--showformat={hs.DPKG_FORMAT}", "x"], 2, "", "dpkg-query: error: broken\n")]
    )
    with pytest.raises(hs.HostStateError, match=r"dpkg-query failed \(rc 2\): dpkg-query: error: broken"):
        host.state().packages(["x"])


def test_packages_without_dpkg_query():
    with pytest.raises(hs.HostStateError, match="dpkg-query was not found on the host"):
        FakeHost(tools=()).state().packages(["x"])


def test_packages_empty_list_runs_nothing():
    host = FakeHost(tools=())
    assert host.state().packages([]) == {}
    assert host.calls == []


# getent and id


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("root", {"exists": True, "gid": 0, "members": []}),
        ("nogroup", {"exists": True, "gid": 65534, "members": []}),
        ("ssh-users", {"exists": True, "gid": 1000, "members": ["alice", "bob"]}),
        ("admins", {"exists": True, "gid": 3000, "members": ["alice"]}),
        ("no-such-group", {"exists": False}),
        # A GID is not a name: getent would look it up as a number and print another name.
        ("1000", {"exists": False}),
    ],
)
def test_getent_group(name, expected):
    assert hs.parse_getent_group(recorded("getent_group")["stdout"], [name]) == {name: expected}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("root", {"exists": True, "uid": 0, "gid": 0, "home": "/root", "shell": "/bin/bash"}),
        ("nobody", {"exists": True, "uid": 65534, "gid": 65534, "home": "/nonexistent", "shell": "/usr/sbin/nologin"}),
        ("alice", {"exists": True, "uid": 1000, "gid": 1001, "home": "/home/alice", "shell": "/bin/bash"}),
        ("no-such-user", {"exists": False}),
    ],
)
def test_getent_passwd(name, expected):
    assert hs.parse_getent_passwd(recorded("getent_passwd")["stdout"], [name]) == {name: expected}


@pytest.mark.parametrize(
    ("stdout", "expected"),
    [
        (recorded("id_alice")["stdout"], ["alice", "ssh-users", "admins"]),
        (recorded("id_nobody")["stdout"], ["nogroup"]),
        ("alice 4242 users\n", ["alice", "4242", "users"]),
        ("", []),
    ],
)
def test_id_groups(stdout, expected):
    assert hs.parse_id_groups(stdout) == expected


def test_users_one_getent_and_id_per_existing_user():
    host = FakeHost()
    host.replay("getent_passwd")
    host.replay("id_alice")
    host.replay("id_nobody")
    host.answer(["id", "-Gn", "root"], 0, "root\n")
    host.answer(["id", "-Gn", "bob"], 0, "bob ssh-users\n")
    result = host.state().users(["root", "nobody", "alice", "no-such-user", "bob"])
    assert result["alice"] == {
        "exists": True,
        "uid": 1000,
        "gid": 1001,
        "home": "/home/alice",
        "shell": "/bin/bash",
        "groups": ["alice", "ssh-users", "admins"],
    }
    assert result["no-such-user"] == {"exists": False}
    assert [c[1] for c in host.calls].count("passwd") == 1
    assert ["/usr/bin/id", "-Gn", "no-such-user"] not in host.calls


def test_users_id_with_nameless_group_keeps_its_number():
    host = FakeHost(
        [
            (["getent", "passwd", "carol"], 0, "carol:x:1005:1005::/home/carol:/bin/sh\n", ""),
            (["id", "-Gn", "carol"], 1, "carol 4242\n", "id: cannot find name for group ID 4242\n"),
        ]
    )
    assert host.state().users(["carol"])["carol"]["groups"] == ["carol", "4242"]


def test_groups_getent_rc1_fails():
    host = FakeHost([(["getent", "group", "x"], 1, "", "Unknown database: group\n")])
    with pytest.raises(hs.HostStateError, match="getent group failed"):
        host.state().groups(["x"])


# OpenSSH


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (recorded("ssh_v")["stderr"], "9.2p1"),
        ("OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15 3 Sep 2024", "9.2p1"),
        ("OpenSSH_10.0p2 Debian-7, OpenSSL 3.5.1 1 Jul 2025", "10.0p2"),
        ("OpenSSH_9.6, LibreSSL 3.8.2", "9.6"),
        ("OpenSSH_8.4p1 Raspbian-5+deb11u3, OpenSSL 1.1.1w  11 Sep 2023", "8.4p1"),
        ("\nOpenSSH_7.4p1, OpenSSL 1.0.2k-fips  26 Jan 2017\n", "7.4p1"),
        ("Sun_SSH_1.1", ""),
        ("", ""),
    ],
)
def test_ssh_version(text, expected):
    assert hs.parse_ssh_version(text) == expected


def test_sshd_config_recorded_global():
    effective = hs.parse_sshd_config(recorded("sshd_t")["stdout"])
    assert effective["port"] == ["22"]
    assert effective["listenaddress"] == ["0.0.0.0:22", "[::]:22"]
    assert effective["hostkey"] == [
        "/etc/ssh/ssh_host_rsa_key",
        "/etc/ssh/ssh_host_ecdsa_key",
        "/etc/ssh/ssh_host_ed25519_key",
    ]
    assert effective["allowusers"] == ["alice", "root", "bob"]
    assert effective["allowgroups"] == ["ssh-users", "admins"]
    assert effective["acceptenv"] == ["LANG", "LC_*"]
    assert effective["subsystem"] == ["sftp /usr/lib/openssh/sftp-server"]
    assert effective["authorizedkeysfile"] == [".ssh/authorized_keys", "/etc/ssh/keys/%U/%u.pub"]
    assert effective["permitrootlogin"] == "without-password"
    assert effective["authenticationmethods"] == "any"
    assert effective["maxauthtries"] == "6"
    assert all(k == k.lower() for k in effective)


@pytest.mark.parametrize(
    ("stdout", "expected"),
    [
        ("port 22\nport 2222\n", {"port": ["22", "2222"]}),
        ("passwordauthentication no\n", {"passwordauthentication": "no"}),
        # Printed twice (a keyword we do not know as multi-valued): a list all the same.
        ("newkeyword a\nnewkeyword b\n", {"newkeyword": ["a", "b"]}),
        ("allowusers alice\n", {"allowusers": ["alice"]}),
        ("authorizedkeysfile none\n", {"authorizedkeysfile": ["none"]}),
        ("AuthorizedKeysFile  a  b\n", {"authorizedkeysfile": ["a", "b"]}),
        ("banner\n\n", {"banner": ""}),
        ("ipqos lowdelay throughput\n", {"ipqos": "lowdelay throughput"}),
    ],
)
def test_sshd_config_lines(stdout, expected):
    assert hs.parse_sshd_config(stdout) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (".ssh/authorized_keys", "/home/alice/.ssh/authorized_keys"),
        ("%h/.ssh/authorized_keys", "/home/alice/.ssh/authorized_keys"),
        ("/etc/ssh/keys/%u", "/etc/ssh/keys/alice"),
        ("/etc/ssh/keys/%U/%u.pub", "/etc/ssh/keys/1000/alice.pub"),
        ("keys/%U", "/home/alice/keys/1000"),
        ("/srv/100%%/%u", "/srv/100%/alice"),
        # %% is one literal %, so the h after it is not a token.
        ("/srv/%%h", "/srv/%h"),
        ("/srv/%%%u", "/srv/%alice"),
        ("%u%U", "/home/alice/alice1000"),
    ],
)
def test_expand_keyfile(pattern, expected):
    assert hs.expand_keyfile(pattern, "alice", 1000, "/home/alice") == expected


@pytest.mark.parametrize(
    ("home", "expected"),
    [
        ("/", "/.ssh/authorized_keys"),
        ("/home/alice/", "/home/alice/.ssh/authorized_keys"),
        ("/nonexistent", "/nonexistent/.ssh/authorized_keys"),
    ],
)
def test_expand_keyfile_home_edges(home, expected):
    assert hs.expand_keyfile(".ssh/authorized_keys", "alice", 1000, home) == expected


@pytest.mark.parametrize("pattern", ["/etc/ssh/%x", "/etc/ssh/keys/%", "%d/keys"])
def test_expand_keyfile_unknown_token(pattern):
    with pytest.raises(hs.HostStateError, match="sshd does not expand"):
        hs.expand_keyfile(pattern, "alice", 1000, "/home/alice")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([".ssh/authorized_keys", ".ssh/authorized_keys2"], ["/h/.ssh/authorized_keys", "/h/.ssh/authorized_keys2"]),
        (["none"], []),
        (["%h/.ssh/authorized_keys", ".ssh/authorized_keys"], ["/h/.ssh/authorized_keys"]),
        (".ssh/a /etc/k/%u", ["/h/.ssh/a", "/etc/k/u"]),
    ],
)
def test_keyfiles(value, expected):
    assert hs.keyfiles({"authorizedkeysfile": value}, "u", 7, "/h") == expected


@pytest.mark.parametrize(
    ("stdout", "expected"),
    [
        (recorded("ssh_keygen_alice")["stdout"], 2),
        (recorded("ssh_keygen_alice_uid")["stdout"], 1),
        (recorded("ssh_keygen_empty")["stdout"], 0),
        ("2048 MD5:12:34:56 root@h (RSA)\n", 1),
        ("not a key\n256 SHA256:abc u@h (ED25519)\n", 1),
    ],
)
def test_count_keys(stdout, expected):
    assert hs.count_keys(stdout) == expected


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, []),
        (None, []),
        ({"AuthorizedKeysFile": ".ssh/a %h/b"}, ["-o", "AuthorizedKeysFile=.ssh/a %h/b"]),
        ({"AuthorizedKeysFile": [".ssh/a", "/etc/k/%u"]}, ["-o", "AuthorizedKeysFile=.ssh/a /etc/k/%u"]),
        (
            {"PasswordAuthentication": False, "MaxAuthTries": 3},
            ["-o", "PasswordAuthentication=no", "-o", "MaxAuthTries=3"],
        ),
    ],
)
def test_sshd_option_args(options, expected):
    assert hs.sshd_option_args(options) == expected


def _sshd_host(tmp_path, sshd_binary):
    """A host with alice (two keyfiles, one with keys), bob (AuthorizedKeysFile none) and no ghost."""
    alice_home = tmp_path / "home" / "alice"
    (alice_home / ".ssh").mkdir(parents=True)
    (alice_home / ".ssh" / "authorized_keys").write_text("ssh-ed25519 AAAA alice@one\n")
    keydir = tmp_path / "keys"
    global_t = recorded("sshd_t")["stdout"]
    alice_t = recorded("sshd_t_alice")["stdout"].replace("/etc/ssh/keys/", f"{keydir}/")
    host = FakeHost()
    host.replay("ssh_v")
    for query in ("kex", "cipher", "mac"):
        host.replay(f"ssh_q_{query}")
    host.answer([sshd_binary, "-T"], 0, global_t)
    host.answer(
        ["getent", "passwd", "alice", "bob", "ghost"],
        2,
        f"alice:x:1000:1001::{alice_home}:/bin/bash\nbob:x:1001:1002::/home/bob:/bin/sh\n",
    )
    host.replay("id_alice")
    host.answer(["id", "-Gn", "bob"], 0, "bob ssh-users\n")
    host.answer([sshd_binary, "-T", "-C", "user=alice,host=localhost,addr=127.0.0.1"], 0, alice_t)
    host.answer(
        [sshd_binary, "-T", "-C", "user=bob,host=localhost,addr=127.0.0.1"], 0, recorded("sshd_t_bob")["stdout"]
    )
    host.answer(
        ["ssh-keygen", "-lf", str(alice_home / ".ssh" / "authorized_keys")], 0, recorded("ssh_keygen_alice")["stdout"]
    )
    return host, alice_home, keydir


@pytest.fixture
def sshd_binary(tmp_path):
    binary = tmp_path / "sshd"
    binary.write_text("#!/bin/sh\nexit 0\n")
    binary.chmod(0o755)
    return str(binary)


def test_sshd_users(tmp_path, sshd_binary):
    host, alice_home, keydir = _sshd_host(tmp_path, sshd_binary)
    result = host.state().sshd({"binary": sshd_binary, "users": ["alice", "bob", "ghost"]})
    assert result["present"] is True
    assert result["version"] == "9.2p1"
    assert set(result["supported"]) == {"kex", "cipher", "mac"}
    assert "curve25519-sha256" in result["supported"]["kex"]
    assert result["effective"]["listenaddress"] == ["0.0.0.0:22", "[::]:22"]
    alice = result["users"]["alice"]
    # The second keyfile (/keys/1000/alice.pub: %U expanded) does not exist: no ssh-keygen for it.
    assert alice["keyfiles"] == [f"{alice_home}/.ssh/authorized_keys", f"{keydir}/1000/alice.pub"]
    assert alice["valid_keys"] == 2
    assert alice["groups"] == ["alice", "ssh-users", "admins"]
    assert alice["uid"] == 1000
    assert alice["home"] == str(alice_home)
    assert alice["effective"]["allowusers"] == ["alice", "root", "bob"]
    assert result["users"]["bob"]["keyfiles"] == []
    assert result["users"]["bob"]["valid_keys"] == 0
    assert result["users"]["ghost"] == {"exists": False}
    assert not any(c[0].endswith("sshd") and "user=ghost,host=localhost,addr=127.0.0.1" in c for c in host.calls)


def test_sshd_counts_keys_in_every_keyfile_that_exists(tmp_path, sshd_binary):
    host, _alice_home, keydir = _sshd_host(tmp_path, sshd_binary)
    (keydir / "1000").mkdir(parents=True)
    (keydir / "1000" / "alice.pub").write_text("ecdsa-sha2-nistp256 AAAA alice@two\n")
    host.answer(
        ["ssh-keygen", "-lf", str(keydir / "1000" / "alice.pub")], 0, recorded("ssh_keygen_alice_uid")["stdout"]
    )
    result = host.state().sshd({"binary": sshd_binary, "users": ["alice", "bob", "ghost"]})
    assert result["users"]["alice"]["valid_keys"] == 3


def test_sshd_options_go_to_every_sshd_t(tmp_path, sshd_binary):
    host = FakeHost()
    host.replay("ssh_v")
    extra = ["-o", "AuthorizedKeysFile=.ssh/authorized_keys %h/.ssh/extra_%u %%literal"]
    host.answer([sshd_binary, "-T", *extra], 0, recorded("sshd_t")["stdout"])
    host.answer(["getent", "passwd", "alice"], 0, "alice:x:1000:1001::/home/alice:/bin/bash\n")
    host.replay("id_alice")
    host.answer(
        [sshd_binary, "-T", "-C", "user=alice,host=localhost,addr=127.0.0.1", *extra],
        0,
        recorded("sshd_t_alice_options")["stdout"],
    )
    result = host.state().sshd(
        {
            "binary": sshd_binary,
            "users": ["alice"],
            "queries": [],
            "options": {"AuthorizedKeysFile": [".ssh/authorized_keys", "%h/.ssh/extra_%u", "%%literal"]},
        }
    )
    assert result["supported"] == {}
    assert result["users"]["alice"]["keyfiles"] == [
        "/home/alice/.ssh/authorized_keys",
        "/home/alice/.ssh/extra_alice",
        "/home/alice/%literal",
    ]


@pytest.mark.parametrize("missing", ["binary", "ssh", "ssh-keygen", "not-executable"])
def test_sshd_missing(tmp_path, sshd_binary, missing):
    tools = [t for t in ("ssh", "ssh-keygen") if t != missing]
    binary = str(tmp_path / "nothing") if missing == "binary" else sshd_binary
    if missing == "not-executable":
        os.chmod(sshd_binary, 0o644)
    host = FakeHost(tools=tools)
    if missing == "not-executable" and os.access(sshd_binary, os.X_OK):
        pytest.skip("root may execute any file with an x bit; this one has none, yet access says yes")
    assert host.state().sshd({"binary": binary, "users": ["alice"]}) == {"present": False}
    assert host.calls == []


def test_sshd_broken_config_fails_with_stderr(sshd_binary):
    host = FakeHost()
    host.replay("ssh_v")
    for query in ("kex", "cipher", "mac"):
        host.replay(f"ssh_q_{query}")
    broken = recorded("sshd_t_broken")
    host.answer([sshd_binary, "-T"], broken["rc"], broken["stdout"], broken["stderr"])
    with pytest.raises(hs.HostStateError, match="Bad configuration option: NoSuchKeyword") as info:
        host.state().sshd({"binary": sshd_binary})
    assert info.value.details["rc"] == 1


def test_sshd_t_as_a_user_says_become(sshd_binary, monkeypatch):
    host = FakeHost()
    host.replay("ssh_v")
    host.answer([sshd_binary, "-T"], 1, "", "sshd: no hostkeys available -- exiting.\n")
    monkeypatch.setattr(hs.os, "geteuid", lambda: 1000)
    with pytest.raises(hs.HostStateError, match=r"no hostkeys available -- exiting\. .*run the task with become"):
        host.state().sshd({"binary": sshd_binary, "queries": []})


def test_sshd_t_without_run_sshd_says_start_the_service(sshd_binary):
    host = FakeHost()
    host.replay("ssh_v")
    # What Debian 12 and 13 print when the ssh service is stopped (recorded by hand: rc 255).
    host.answer([sshd_binary, "-T"], 255, "", "Missing privilege separation directory: /run/sshd\n")
    with pytest.raises(hs.HostStateError, match=r"/run/sshd \(it exists while the ssh service runs"):
        host.state().sshd({"binary": sshd_binary, "queries": []})


def test_debian13_recorded(tmp_path, sshd_binary):
    """OpenSSH 10.0 on Debian 13: the same parsers, the same result shape."""
    host = FakeHost()
    host.replay("debian13/ssh_v")
    host.replay("debian13/ssh_q_kex")
    host.answer([sshd_binary, "-T"], 0, recorded("debian13/sshd_t")["stdout"])
    home = tmp_path / "alice"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "authorized_keys").write_text("ssh-ed25519 AAAA alice@one\n")
    host.answer(["getent", "passwd", "alice"], 0, f"alice:x:1000:1001::{home}:/bin/bash\n")
    host.answer(["id", "-Gn", "alice"], 0, "alice ssh-users\n")
    host.answer(
        [sshd_binary, "-T", "-C", "user=alice,host=localhost,addr=127.0.0.1"],
        0,
        recorded("debian13/sshd_t_alice")["stdout"],
    )
    host.answer(
        ["ssh-keygen", "-lf", str(home / ".ssh" / "authorized_keys")],
        0,
        "256 SHA256:7bS3xBvMxUWTWHc4Q9dJd0PnqA2N0f5v3b0xYJk1y8s alice@one (ED25519)\n",
    )
    result = host.state().sshd({"binary": sshd_binary, "users": ["alice"], "queries": ["kex"]})
    assert result["version"] == "10.0p2"
    assert "mlkem768x25519-sha256" in result["supported"]["kex"]
    assert result["effective"]["listenaddress"] == ["[::]:22", "0.0.0.0:22"]
    assert result["effective"]["allowgroups"] == ["ssh-users"]
    assert result["users"]["alice"]["keyfiles"] == [f"{home}/.ssh/authorized_keys", "/etc/ssh/keys/1000/alice.pub"]
    assert result["users"]["alice"]["valid_keys"] == 1


def test_ssh_q_unknown_query_fails(sshd_binary):
    host = FakeHost()
    host.replay("ssh_v")
    host.replay("ssh_q_bogus")
    with pytest.raises(hs.HostStateError, match=r'ssh -Q bogus failed \(rc 255\): Unsupported query "bogus"'):
        host.state().sshd({"binary": sshd_binary, "queries": ["bogus"]})


# systemd


def test_systemctl_show_recorded():
    fixture = recorded("systemctl_show")
    names = fixture["argv"][4:]
    assert hs.parse_systemctl_show(fixture["stdout"], names) == {
        "ssh.service": {"exists": True, "active": "active", "sub": "running", "enabled": "enabled"},
        # An alias of ssh.service: reported under the name asked for.
        "sshd.service": {"exists": True, "active": "active", "sub": "running", "enabled": "enabled"},
        "no-such.service": {"exists": False, "active": "inactive", "sub": "dead", "enabled": ""},
        "dbus.socket": {"exists": True, "active": "active", "sub": "running", "enabled": "static"},
        "systemd-journald": {"exists": True, "active": "active", "sub": "running", "enabled": "static"},
        "ssh.socket": {"exists": True, "active": "inactive", "sub": "dead", "enabled": "disabled"},
    }


@pytest.mark.parametrize(
    ("stdout", "names"),
    [("Id=a.service\nLoadState=loaded\n", ["a.service", "b.service"]), ("", ["a.service"])],
)
def test_systemctl_show_count_mismatch(stdout, names):
    with pytest.raises(hs.HostStateError, match="systemctl show printed"):
        hs.parse_systemctl_show(stdout, names)


def test_services_one_call_each_name_once():
    fixture = recorded("systemctl_show")
    host = FakeHost()
    host.replay("systemctl_show")
    names = fixture["argv"][4:]
    result = host.state().services([*names, "ssh.service"])
    assert list(result) == names
    assert len(host.calls) == 1


def test_services_not_booted_with_systemd():
    host = FakeHost(
        [
            (
                ["systemctl", "show", f"--property={hs.SYSTEMCTL_PROPERTIES}", "--", "ssh.service"],
                1,
                "",
                "System has not been booted with systemd as init system (PID 1). Can't operate.\n",
            )
        ]
    )
    with pytest.raises(hs.HostStateError, match=r"systemctl show failed \(rc 1\): System has not been booted"):
        host.state().services(["ssh.service"])


def test_services_without_systemctl():
    with pytest.raises(hs.HostStateError, match="systemctl was not found on the host"):
        FakeHost(tools=()).state().services(["ssh.service"])


# PAM


LIMITS = "session required pam_limits.so\n"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"sshd": LIMITS}, True),
        ({"sshd": "-session optional pam_limits.so\n"}, True),
        ({"sshd": "session\t[success=ok default=ignore]\tpam_limits.so conf=/etc/x\n"}, True),
        ({"sshd": "session [default=1 success=ignore] /lib/x86_64-linux-gnu/security/pam_limits.so\n"}, True),
        ({"sshd": "  SESSION   required   pam_limits.so\n"}, True),
        ({"sshd": "#session required pam_limits.so\n"}, False),
        ({"sshd": "   # session required pam_limits.so\n"}, False),
        ({"sshd": "session required pam_unix.so # pam_limits.so\n"}, False),
        ({"sshd": "auth required pam_limits.so\n"}, False),
        ({"sshd": "session required pam_limits.so.bak\n"}, False),
        ({"sshd": "session required my_pam_limits.so\n"}, False),
        ({"sshd": "session required \\\n    pam_limits.so\n"}, True),
        ({"sshd": "@include common-session\n", "common-session": LIMITS}, True),
        ({"sshd": "@include common-session\n", "common-session": "session required pam_unix.so\n"}, False),
        # Debian's chain: sshd -> common-session -> common-session-extra.
        ({"sshd": "@include common-session\n", "common-session": "@include extra\n", "extra": LIMITS}, True),
        ({"sshd": "session include system-auth\n", "system-auth": LIMITS}, True),
        ({"sshd": "-session substack system-auth\n", "system-auth": LIMITS}, True),
        # Red Hat's include pulls in only the lines of its own type.
        ({"sshd": "auth include system-auth\n", "system-auth": LIMITS}, False),
        ({"sshd": "#@include common-session\n", "common-session": LIMITS}, False),
        # An include that is not there is skipped, not an error.
        ({"sshd": "@include nowhere\n"}, False),
        # Loops end: each file is read once.
        ({"sshd": "@include a\n", "a": "@include b\n", "b": "@include a\n@include sshd\n"}, False),
        ({"sshd": "@include sshd\n" + LIMITS}, True),
        ({"sshd": "session include a\n", "a": "session substack sshd\n"}, False),
    ],
)
def test_pam_stack(tmp_path, files, expected):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert hs.pam_stack(str(tmp_path), "sshd", "pam_limits.so", "session") == {"exists": True, "has_module": expected}


def test_pam_stack_absolute_include_and_module_with_directory(tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "shared").write_text("session optional /usr/lib/security/pam_env.so\n")
    (tmp_path / "login").write_text(f"@include {other}/shared\n")
    assert hs.pam_stack(str(tmp_path), "login", "/lib/security/pam_env.so", "session")["has_module"] is True
    assert hs.pam_stack(str(tmp_path), "login", "pam_env.so", "auth")["has_module"] is False


def test_pam_missing_service(tmp_path):
    assert hs.pam_stack(str(tmp_path), "nosuch", "pam_limits.so", "session") == {"exists": False, "has_module": False}


def test_pam_unreadable_include_fails(tmp_path, monkeypatch):
    (tmp_path / "sshd").write_text("@include common-session\n")
    secret = tmp_path / "common-session"
    secret.write_text(LIMITS)
    secret.chmod(0)
    _deny_reading(monkeypatch, secret)
    with pytest.raises(hs.HostStateError, match=re.escape(f"{secret}: cannot read this PAM file")):
        hs.pam_stack(str(tmp_path), "sshd", "pam_limits.so", "session")


def test_pam_collector_defaults(tmp_path):
    (tmp_path / "su").write_text(LIMITS)
    result = FakeHost(tools=()).state().pam({"dir": str(tmp_path), "services": ["su", "su", "login"]})
    assert result == {"su": {"exists": True, "has_module": True}, "login": {"exists": False, "has_module": False}}


def test_pam_bad_type():
    with pytest.raises(hs.HostStateError, match="pam: type 'sesion'"):
        FakeHost().state().pam({"services": ["su"], "type": "sesion"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\n\n  # c\nb # d\n", ["a", "b"]),
        ("a \\\n b\nc\n", ["a   b", "c"]),
        ("a \\\n", ["a"]),
    ],
)
def test_pam_lines(text, expected):
    assert [" ".join(line.split()) for line in hs.pam_lines(text)] == [" ".join(e.split()) for e in expected]


# Files


def _deny_reading(monkeypatch, path):
    """Make opening path fail with EACCES, as for a non-root user (root reads any mode-0 file)."""
    if os.geteuid() != 0:
        return
    real_open = open

    def guarded_open(file, *args, **kwargs):
        if os.fspath(file) == str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(hs, "open", guarded_open, raising=False)


def test_file(tmp_path):
    path = tmp_path / "f.conf"
    data = "limits \u00e9\n".encode()
    path.write_bytes(data)
    path.chmod(0o640)
    state = hs.file_state(str(path), contents=True)
    assert state == {
        "exists": True,
        "type": "file",
        "mode": "0640",
        "uid": os.getuid(),
        "gid": os.getgid(),
        "owner": hs.user_name(os.getuid()),
        "group": hs.group_name(os.getgid()),
        "checksum": hashlib.sha1(data).hexdigest(),
        "text": data.decode(),
    }
    assert "text" not in hs.file_state(str(path))


@pytest.mark.parametrize(("mode", "expected"), [(0o4755, "4755"), (0o1777, "1777"), (0o600, "0600"), (0, "0000")])
def test_file_mode_four_digits(tmp_path, mode, expected):
    path = tmp_path / "f"
    path.write_text("")
    path.chmod(mode)
    assert hs.file_state(str(path))["mode"] == expected


def test_large_file_checksum(tmp_path):
    path = tmp_path / "big"
    data = os.urandom(3 * hs.CHUNK + 17)
    path.write_bytes(data)
    assert hs.file_state(str(path))["checksum"] == hashlib.sha1(data).hexdigest()


def test_directory(tmp_path):
    (tmp_path / "d").mkdir(mode=0o755)
    os.chmod(tmp_path / "d", 0o750)
    state = hs.file_state(str(tmp_path / "d"))
    assert state["type"] == "directory"
    assert state["mode"] == "0750"
    assert "checksum" not in state


def test_symlink_followed(tmp_path):
    target = tmp_path / "target"
    target.write_text("x\n")
    (tmp_path / "link").symlink_to(target)
    (tmp_path / "dirlink").symlink_to(tmp_path)
    assert hs.file_state(str(tmp_path / "link"), contents=True) == hs.file_state(str(target), contents=True)
    assert hs.file_state(str(tmp_path / "dirlink"))["type"] == "directory"


@pytest.mark.parametrize("relative", ["missing", "missing/below", "file/below", "dangling"])
def test_missing(tmp_path, relative):
    (tmp_path / "file").write_text("")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert hs.file_state(str(tmp_path / relative)) == {"exists": False}


def test_fifo_is_other(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    state = hs.file_state(str(tmp_path / "fifo"))
    assert state["type"] == "other"
    assert "checksum" not in state


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to an unknown uid needs root")
def test_owner_without_name_is_the_number(tmp_path):
    path = tmp_path / "f"
    path.write_text("")
    os.chown(path, 54321, 54322)
    state = hs.file_state(str(path))
    assert (state["owner"], state["group"], state["uid"], state["gid"]) == ("54321", "54322", 54321, 54322)


def test_unreadable_file_fails_naming_it(tmp_path, monkeypatch):
    secret = tmp_path / "tls.key"
    secret.write_text("KEY\n")
    secret.chmod(0)
    _deny_reading(monkeypatch, secret)
    with pytest.raises(hs.HostStateError, match=re.escape(f"{secret}: exists but cannot be read")) as info:
        hs.file_state(str(secret))
    assert info.value.details == {"file": str(secret)}


def test_non_utf8_contents_fail_naming_the_file(tmp_path):
    path = tmp_path / "latin1.txt"
    data = "caf\u00e9\n".encode("latin-1")
    path.write_bytes(data)
    with pytest.raises(hs.HostStateError, match=re.escape(f"{path}: its contents are not UTF-8")):
        hs.file_state(str(path), contents=True)
    # Without contents the checksum is enough.
    assert hs.file_state(str(path))["checksum"] == hashlib.sha1(data).hexdigest()


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (["/a", "/b"], [("/a", False), ("/b", False)]),
        ([{"path": "/a", "contents": True}], [("/a", True)]),
        ([{"path": "/a", "contents": "yes"}, {"path": "/b", "contents": "false"}], [("/a", True), ("/b", False)]),
        (["/a", {"path": "/a", "contents": True}, "/a"], [("/a", True)]),
        ([{"path": "/a"}], [("/a", False)]),
        ([], []),
    ],
)
def test_normalize_files(items, expected):
    assert hs.normalize_files(items) == expected


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["relative/path"], "is not an absolute path"),
        ([{"contents": True}], "path must be a non-empty string"),
        ([{"path": "/a", "mode": "0644"}], "unknown key"),
        ([{"path": "/a", "contents": "maybe"}], "is not a boolean"),
        ([42], "each entry is a path or a dict"),
        ([""], "path must be a non-empty string"),
    ],
)
def test_normalize_files_errors(items, message):
    with pytest.raises(hs.HostStateError, match=message):
        hs.normalize_files(items)


def test_collect_only_the_sections_asked(tmp_path):
    (tmp_path / "f").write_text("x")
    state = FakeHost(tools=()).state()
    assert state.collect({"files": [str(tmp_path / "f")], "packages": None, "pam": None}).keys() == {"files"}
    assert state.collect({"packages": [], "groups": [], "users": [], "services": []}) == {
        "packages": {},
        "groups": {},
        "users": {},
        "services": {},
    }


@pytest.mark.parametrize(
    ("stdout", "expected"),
    [
        (
            "256 SHA256:R4vtfSvuQbMpj/guqSDB/OdML4NtiNZuuXxLgp7BSp4 root@node (ED25519)\n",
            {"bits": 256, "fingerprint": "SHA256:R4vtfSvuQbMpj/guqSDB/OdML4NtiNZuuXxLgp7BSp4", "type": "ED25519"},
        ),
        ("3072 SHA256:z4zf/+= root@node (RSA)\n", {"bits": 3072, "fingerprint": "SHA256:z4zf/+=", "type": "RSA"}),
        ("256 SHA256:abc no comment (ECDSA)\n", {"bits": 256, "fingerprint": "SHA256:abc", "type": "ECDSA"}),
        ("/etc/ssh/k is not a key file.\n", {}),
        ("", {}),
    ],
)
def test_parse_key_fingerprint(stdout, expected):
    assert hs.parse_key_fingerprint(stdout) == expected


def test_sshd_host_keys(tmp_path, sshd_binary):
    host, _alice_home, _keydir = _sshd_host(tmp_path, sshd_binary)
    ed25519, ecdsa, empty = tmp_path / "ssh_host_ed25519_key", tmp_path / "ssh_host_ecdsa_key", tmp_path / "empty"
    for path in (ed25519, ecdsa, empty):
        path.write_text("not read by the test: ssh-keygen answers from the table\n")
    host.answer(["ssh-keygen", "-lf", str(ed25519)], 0, "256 SHA256:new root@node (ED25519)\n")
    host.answer(["ssh-keygen", "-lf", str(ecdsa)], 0, "256 SHA256:old root@node (ECDSA)\n")
    host.answer(["ssh-keygen", "-lf", str(empty)], 255, "", f"{empty} is not a key file.\n")
    missing = str(tmp_path / "ssh_host_rsa_key")
    result = host.state().sshd(
        {"binary": sshd_binary, "users": [], "host_keys": [str(ed25519), str(ecdsa), missing, str(empty), str(ecdsa)]}
    )
    assert result["host_keys"] == {
        str(ed25519): {"exists": True, "bits": 256, "fingerprint": "SHA256:new", "type": "ED25519"},
        str(ecdsa): {"exists": True, "bits": 256, "fingerprint": "SHA256:old", "type": "ECDSA"},
        missing: {"exists": False},
        str(empty): {"exists": True},
    }
    assert sum(1 for call in host.calls if call[-1] == str(ecdsa)) == 1  # each path read once


def test_sshd_host_keys_default_none(tmp_path, sshd_binary):
    host, _alice_home, _keydir = _sshd_host(tmp_path, sshd_binary)
    assert host.state().sshd({"binary": sshd_binary})["host_keys"] == {}
