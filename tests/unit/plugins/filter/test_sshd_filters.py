"""The sshd role's filters, fed with host_state's documented result shape."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.condaswarm.cluster.plugins.filter import sshd
from ansible_collections.condaswarm.cluster.plugins.filter.sshd import (
    sshd_host_keys,
    sshd_include_first,
    sshd_keyfile_options,
    sshd_lockout_problems,
    sshd_mismatches,
    sshd_missing_users,
    sshd_probe_target,
)

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample"


def _user(groups=("alice",), keyfiles=("/home/alice/.ssh/authorized_keys",), valid_keys=1):
    return {
        "exists": True,
        "uid": 1000,
        "home": "/home/alice",
        "groups": list(groups),
        "keyfiles": list(keyfiles),
        "valid_keys": valid_keys,
    }


def test_every_filter_is_registered():
    assert set(sshd.FilterModule().filters()) == {
        "sshd_host_keys",
        "sshd_include_first",
        "sshd_keyfile_options",
        "sshd_lockout_problems",
        "sshd_mismatches",
        "sshd_missing_users",
        "sshd_probe_target",
    }


@pytest.mark.parametrize(
    ("users", "admins", "missing"),
    [
        ({"alice": _user()}, ["alice"], []),
        ({"alice": _user(), "carol": {"exists": False}}, ["alice", "carol"], ["carol"]),
        ({}, ["alice"], ["alice"]),
        (None, ["alice"], ["alice"]),  # the server is missing: host_state read no users
        ({"alice": _user()}, [], []),
    ],
    ids=["present", "one-missing", "not-read", "no-server", "no-admins"],
)
def test_missing_users(users, admins, missing):
    assert sshd_missing_users(users, admins) == missing


@pytest.mark.parametrize(
    ("users", "admins", "kwargs", "problems"),
    [
        ({"alice": _user()}, ["alice"], {}, []),
        (
            {"carol": _user(keyfiles=["/home/carol/.ssh/authorized_keys"], valid_keys=0)},
            ["carol"],
            {},
            ["admin user carol has no authorized key (looked in /home/carol/.ssh/authorized_keys)"],
        ),
        (
            {"carol": _user(keyfiles=["/home/carol/.ssh/authorized_keys", "/etc/keys/carol"], valid_keys=0)},
            ["carol"],
            {},
            ["admin user carol has no authorized key (looked in /home/carol/.ssh/authorized_keys, /etc/keys/carol)"],
        ),
        (
            {"carol": _user(keyfiles=[], valid_keys=0)},
            ["carol"],
            {},
            ["admin user carol has no authorized key (looked in no file: AuthorizedKeysFile none)"],
        ),
        # In check mode a key the role is about to install counts; outside check mode it was read already.
        (
            {"carol": _user(valid_keys=0)},
            ["carol"],
            {"authorized_keys": [{"user": "carol", "key": KEY}], "check_mode": True},
            [],
        ),
        (
            {"carol": _user(keyfiles=["/k"], valid_keys=0)},
            ["carol"],
            {"authorized_keys": [{"user": "carol", "key": KEY}]},
            ["admin user carol has no authorized key (looked in /k)"],
        ),
        (
            {"carol": _user(keyfiles=["/k"], valid_keys=0)},
            ["carol"],
            {"authorized_keys": [{"user": "carol", "key": KEY, "state": "absent"}], "check_mode": True},
            ["admin user carol has no authorized key (looked in /k)"],
        ),
        (
            {"carol": _user(keyfiles=["/k"], valid_keys=0)},
            ["carol"],
            {"authorized_keys": [{"user": "alice", "key": KEY}], "check_mode": True},
            ["admin user carol has no authorized key (looked in /k)"],
        ),
        (
            {"root": _user(groups=["root"])},
            ["root"],
            {"permit_root_login": "no"},
            ["admin user root may not log in with sshd_permit_root_login: no"],
        ),
        ({"root": _user(groups=["root"])}, ["root"], {"permit_root_login": "prohibit-password"}, []),
        (
            {"root": _user(groups=["root"])},
            ["root"],
            {"allow_users": ["alice"]},
            ["admin user root is not in sshd_allow_users"],
        ),
        ({"alice": _user()}, ["alice"], {"allow_users": ["ops", "alice"]}, []),
        # Patterns are left to the login probe.
        ({"root": _user(groups=["root"])}, ["root"], {"allow_users": ["a*"]}, []),
        ({"root": _user(groups=["root"])}, ["root"], {"allow_users": ["root@10.0.0.1"]}, []),
        (
            {"alice": _user(groups=["alice", "users"])},
            ["alice"],
            {"allow_groups": ["ssh-users"]},
            ["admin user alice is in none of sshd_allow_groups (groups: alice users)"],
        ),
        ({"alice": _user(groups=["alice", "ssh-users"])}, ["alice"], {"allow_groups": ["ssh-users"]}, []),
        ({"alice": _user(groups=["alice"])}, ["alice"], {"allow_groups": ["ssh-*"]}, []),
        (
            {"carol": {"exists": False}},
            ["carol"],
            {},
            ["admin user carol does not exist"],
        ),
        # Every problem of every user, in the order of the admin users.
        (
            {"carol": _user(groups=["carol"], keyfiles=["/k"], valid_keys=0), "root": _user(groups=["root"])},
            ["carol", "root"],
            {"allow_users": ["alice"]},
            [
                "admin user carol has no authorized key (looked in /k)",
                "admin user carol is not in sshd_allow_users",
                "admin user root is not in sshd_allow_users",
            ],
        ),
    ],
    ids=[
        "key",
        "no-key",
        "no-key-two-files",
        "keyfile-none",
        "check-mode-planned-key",
        "planned-key-outside-check-mode",
        "check-mode-key-absent",
        "check-mode-key-for-another-user",
        "root-refused",
        "root-with-key",
        "not-in-allow-users",
        "in-allow-users",
        "allow-users-pattern",
        "allow-users-user-at-host",
        "in-no-allowed-group",
        "in-allowed-group",
        "allow-groups-pattern",
        "missing-user",
        "several",
    ],
)
def test_lockout_problems(users, admins, kwargs, problems):
    assert sshd_lockout_problems(users, admins, **kwargs) == problems


SETTINGS = {
    "PasswordAuthentication": "no",
    "PermitRootLogin": "prohibit-password",
    "MaxAuthTries": 3,
    "X11Forwarding": False,
    "KexAlgorithms": "sntrup761x25519-sha512,curve25519-sha256",
}
EFFECTIVE = {
    "passwordauthentication": "no",
    "permitrootlogin": "without-password",
    "maxauthtries": "3",
    "x11forwarding": "no",
    "kexalgorithms": "sntrup761x25519-sha512,curve25519-sha256",
    "listenaddress": ["0.0.0.0:22", "[::]:22"],
}


def _sshd(global_changes=None, users=None):
    return {
        "present": True,
        "effective": {**EFFECTIVE, **(global_changes or {})},
        "users": {
            name: {"exists": True, "effective": {**EFFECTIVE, **changes}} for name, changes in (users or {}).items()
        },
    }


@pytest.mark.parametrize(
    ("state", "kwargs", "messages"),
    [
        (_sshd(users={"alice": {}, "root": {}}), {}, []),
        (
            _sshd({"passwordauthentication": "yes"}),
            {},
            ["global: passwordauthentication is yes, not no"],
        ),
        (
            _sshd(users={"alice": {"passwordauthentication": "yes"}}),
            {},
            ["user alice: passwordauthentication is yes, not no"],
        ),
        (_sshd({"permitrootlogin": "prohibit-password"}), {}, []),
        (_sshd({"permitrootlogin": "yes"}), {}, ["global: permitrootlogin is yes, not prohibit-password"]),
        (_sshd({"maxauthtries": "6"}), {}, ["global: maxauthtries is 6, not 3"]),
        (
            _sshd({"kexalgorithms": "curve25519-sha256"}),
            {},
            ["global: kexalgorithms is curve25519-sha256, not sntrup761x25519-sha512,curve25519-sha256"],
        ),
        (
            {"present": True, "effective": {k: v for k, v in EFFECTIVE.items() if k != "x11forwarding"}},
            {},
            ["global: x11forwarding is (unset), not no"],
        ),
        # AllowUsers/AllowGroups: a list when sshd printed them more than once, a string when once.
        (_sshd({"allowusers": ["ops", "alice"]}), {"allow_users": ["alice", "ops"]}, []),
        (_sshd({"allowusers": "alice"}), {"allow_users": ["alice"]}, []),
        (
            _sshd({"allowusers": "alice"}),
            {"allow_users": ["alice", "ops"]},
            ["global: allowusers is alice, not alice ops"],
        ),
        (_sshd(), {"allow_users": ["alice"]}, ["global: allowusers is , not alice"]),
        (_sshd({"allowgroups": ["ssh-users"]}), {"allow_groups": ["ssh-users"]}, []),
        (
            _sshd(users={"bob": {"allowgroups": ["other"]}}, global_changes={"allowgroups": ["ssh-users"]}),
            {"allow_groups": ["ssh-users"]},
            ["user bob: allowgroups is other, not ssh-users"],
        ),
        # Not asked for by the role: whatever sshd uses is fine.
        (_sshd({"allowusers": ["ops"]}), {}, []),
        (
            _sshd({"maxauthtries": "6"}, users={"alice": {"maxauthtries": "6"}}),
            {},
            ["global: maxauthtries is 6, not 3", "user alice: maxauthtries is 6, not 3"],
        ),
    ],
    ids=[
        "agrees",
        "global-differs",
        "user-match-block",
        "prohibit-password-new-name",
        "permitrootlogin-differs",
        "number",
        "kex",
        "unset",
        "allowusers-list",
        "allowusers-one",
        "allowusers-differs",
        "allowusers-unset",
        "allowgroups",
        "allowgroups-user",
        "allowusers-not-managed",
        "global-and-user",
    ],
)
def test_mismatches(state, kwargs, messages):
    assert sshd_mismatches(state, SETTINGS, **kwargs) == messages


DEBIAN_MAIN = """# This is the sshd server system-wide configuration file.

Include /etc/ssh/sshd_config.d/*.conf

KbdInteractiveAuthentication no
UsePAM yes
"""
FIXED_HEADER = [
    "# Drop-ins first: sshd keeps the first value it reads (condaswarm.cluster.sshd).",
    "Include /etc/ssh/sshd_config.d/*.conf",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (DEBIAN_MAIN, DEBIAN_MAIN),
        (
            "include   /etc/ssh/sshd_config.d/*.conf  \nUsePAM yes\n",
            "include   /etc/ssh/sshd_config.d/*.conf  \nUsePAM yes\n",
        ),
        (
            "PermitRootLogin yes\n" + DEBIAN_MAIN,
            "\n".join(
                [
                    *FIXED_HEADER,
                    "PermitRootLogin yes",
                    "# This is the sshd server system-wide configuration file.",
                    "",
                    "",
                    "KbdInteractiveAuthentication no",
                    "UsePAM yes",
                ]
            )
            + "\n",
        ),
        ("UsePAM yes\n", "\n".join([*FIXED_HEADER, "UsePAM yes"]) + "\n"),
        ("", "\n".join(FIXED_HEADER) + "\n"),
        # Another directory's Include is not ours; a commented-out Include does not count.
        (
            "Include /etc/ssh/other.d/*.conf\n#Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes",
            "\n".join(
                [
                    *FIXED_HEADER,
                    "Include /etc/ssh/other.d/*.conf",
                    "#Include /etc/ssh/sshd_config.d/*.conf",
                    "UsePAM yes",
                ]
            )
            + "\n",
        ),
        # A directive put before the role's Include by hand: the role's comment is not repeated.
        (
            "\n".join(["UsePAM no", *FIXED_HEADER, "PermitRootLogin yes"]) + "\n",
            "\n".join([*FIXED_HEADER, "UsePAM no", "PermitRootLogin yes"]) + "\n",
        ),
    ],
    ids=[
        "debian-default",
        "any-case-and-spaces",
        "directive-first",
        "no-include",
        "empty",
        "other-include",
        "edited-after-the-role",
    ],
)
def test_include_first(text, expected):
    fixed = sshd_include_first(text, "/etc/ssh/sshd_config.d")
    assert fixed == expected
    assert sshd_include_first(fixed, "/etc/ssh/sshd_config.d") == fixed  # a second run changes nothing


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, {}),
        (None, {}),
        ({"ClientAliveInterval": 300}, {}),
        ({"AuthorizedKeysFile": "/etc/ssh/keys/%u"}, {"AuthorizedKeysFile": "/etc/ssh/keys/%u"}),
        (
            {"authorizedkeysfile": [".ssh/authorized_keys", "/etc/ssh/keys/%u"]},
            {"AuthorizedKeysFile": ".ssh/authorized_keys /etc/ssh/keys/%u"},
        ),
    ],
    ids=["none", "null", "other-keyword", "string", "list-any-case"],
)
def test_keyfile_options(options, expected):
    assert sshd_keyfile_options(options) == expected


@pytest.mark.parametrize(
    ("listen", "target"),
    [
        (["0.0.0.0:22", "[::]:22"], {"host": "127.0.0.1", "port": 22}),
        (["[::]:2222", "0.0.0.0:2222"], {"host": "127.0.0.1", "port": 2222}),
        (["[::]:22"], {"host": "::1", "port": 22}),
        (["10.0.0.5:22", "0.0.0.0:2200"], {"host": "127.0.0.1", "port": 2200}),
        (["10.0.0.5:22", "10.0.0.6:22"], {"host": "10.0.0.5", "port": 22}),
        (["[fd00::5]:22"], {"host": "fd00::5", "port": 22}),
        ("0.0.0.0:22", {"host": "127.0.0.1", "port": 22}),
    ],
    ids=["debian-default", "ipv4-wildcard-first", "ipv6-only", "wildcard-wins", "first-address", "ipv6-address", "one"],
)
def test_probe_target(listen, target):
    assert sshd_probe_target(listen) == target


@pytest.mark.parametrize("listen", [[], None, ["nonsense"]], ids=["empty", "none", "unreadable"])
def test_probe_target_refuses_what_it_cannot_read(listen):
    with pytest.raises(AnsibleFilterError):
        sshd_probe_target(listen)


# What the role passes (vars/main.yml) and what a stock Debian host has: ssh-keygen -A made all three keys.
ALGORITHMS = {
    "ed25519": ["ssh-ed25519"],
    "rsa": ["rsa-sha2-512", "rsa-sha2-256"],
    "ecdsa": ["ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"],
}
ED25519, RSA, ECDSA = (f"/etc/ssh/ssh_host_{kind}_key" for kind in ("ed25519", "rsa", "ecdsa"))
STOCK = {
    ED25519: {"exists": True, "bits": 256, "fingerprint": "SHA256:e", "type": "ED25519"},
    RSA: {"exists": True, "bits": 3072, "fingerprint": "SHA256:r", "type": "RSA"},
    ECDSA: {"exists": True, "bits": 256, "fingerprint": "SHA256:c", "type": "ECDSA"},
}


@pytest.mark.parametrize(
    ("host_keys", "kwargs", "expected"),
    [
        # The default: Ed25519 alone, whatever else the host has.
        (STOCK, {"types": ["ed25519"]}, {"hostkey": [ED25519], "algorithms": ["ssh-ed25519"], "generate": []}),
        # The transition: the new key first, the old one still offered (and announced) after it.
        (
            STOCK,
            {"types": ["ed25519"], "retiring": ["ecdsa"]},
            {
                "hostkey": [ED25519, ECDSA],
                "algorithms": ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"],
                "generate": [],
            },
        ),
        # Nothing to retire where the old key never existed; a type kept is not retired.
        (
            {ED25519: STOCK[ED25519], ECDSA: {"exists": False}},
            {"types": ["ed25519", "rsa"], "retiring": ["ecdsa", "rsa"]},
            {
                "hostkey": [ED25519, RSA],
                "algorithms": ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"],
                "generate": ["rsa"],
            },
        ),
        # A fresh host without keys: they are made.
        ({}, {"types": ["ed25519"]}, {"hostkey": [ED25519], "algorithms": ["ssh-ed25519"], "generate": ["ed25519"]}),
        # Limited to what this OpenSSH signs with, each name once.
        (
            STOCK,
            {"types": ["rsa", "ed25519", "rsa"], "supported": ["ssh-ed25519", "rsa-sha2-256"]},
            {"hostkey": [RSA, ED25519], "algorithms": ["rsa-sha2-256", "ssh-ed25519"], "generate": []},
        ),
        (
            {"/srv/keys/ssh_host_ed25519_key": STOCK[ED25519]},
            {"types": ["ed25519"], "key_dir": "/srv/keys/"},
            {"hostkey": ["/srv/keys/ssh_host_ed25519_key"], "algorithms": ["ssh-ed25519"], "generate": []},
        ),
    ],
    ids=["default", "retiring", "no-old-key", "fresh-host", "supported", "key-dir"],
)
def test_host_keys(host_keys, kwargs, expected):
    assert sshd_host_keys(host_keys, algorithms=ALGORITHMS, **kwargs) == {**expected, "problems": []}


@pytest.mark.parametrize(
    ("host_keys", "kwargs", "problem"),
    [
        (
            {RSA: {"exists": True, "bits": 2048, "type": "RSA"}},
            {"types": ["ed25519", "rsa"]},
            f"sshd_host_key_types: {RSA} has 2048 bits, fewer than sshd_host_key_rsa_bits (3072).",
        ),
        (
            STOCK,
            {"types": ["rsa"], "rsa_bits": 4096},
            f"sshd_host_key_types: {RSA} has 3072 bits, fewer than sshd_host_key_rsa_bits (4096).",
        ),
        ({ED25519: {"exists": True}}, {"types": ["ed25519"]}, f"{ED25519} holds no key ssh-keygen can read."),
    ],
)
def test_host_keys_problems(host_keys, kwargs, problem):
    problems = sshd_host_keys(host_keys, algorithms=ALGORITHMS, **kwargs)["problems"]
    assert len(problems) == 1 and problem in problems[0]


def test_host_keys_small_retiring_rsa_is_no_problem():
    """A retiring key is offered for a while only; its size is not the role's choice."""
    found = sshd_host_keys({**STOCK, RSA: {"exists": True, "bits": 2048}}, ["ed25519"], retiring=["rsa"])
    assert found["problems"] == [] and found["hostkey"] == [ED25519, RSA]


def test_mismatches_find_a_host_key_added_elsewhere():
    """HostKey adds up across files: a line in the main file or a later drop-in offers one more key."""
    state = {"effective": {"hostkey": [ED25519, ECDSA], "hostkeyalgorithms": "ssh-ed25519"}}
    settings = {"HostKey": [ED25519], "HostKeyAlgorithms": "ssh-ed25519"}
    assert sshd_mismatches(state, settings) == [f"global: hostkey is {ED25519} {ECDSA}, not {ED25519}"]
    assert sshd_mismatches({"effective": {"hostkey": [ED25519], "hostkeyalgorithms": "ssh-ed25519"}}, settings) == []
