"""The sshd drop-in as the role renders it: role settings first, then the extra options."""

from pathlib import Path

import jinja2
import yaml

ROLE = Path(__file__).resolve().parents[2] / "roles" / "sshd"
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())


def _render(**overrides):
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, keep_trailing_newline=True)
    env.filters["ternary"] = lambda value, yes, no: yes if value else no
    settings = {
        "PasswordAuthentication": "no",
        "AuthenticationMethods": "publickey",
        "KexAlgorithms": "sntrup761x25519-sha512,curve25519-sha256",
    }
    context = {
        **DEFAULTS,
        "ansible_managed": "managed",
        "_sshd_host": {"sshd": {"present": True, "version": "9.2p1"}},
        "_sshd_settings": settings,
        **overrides,
    }
    text = env.from_string((ROLE / "templates" / "condaswarm.conf.j2").read_text()).render(**context)
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_role_settings_only_by_default():
    assert _render() == [
        "PasswordAuthentication no",
        "AuthenticationMethods publickey",
        "KexAlgorithms sntrup761x25519-sha512,curve25519-sha256",
    ]


def test_allow_lists_and_extra_options_follow_the_role_settings():
    lines = _render(
        sshd_allow_users=["ops", "alice"],
        sshd_allow_groups=["jupyter"],
        sshd_extra_options={
            "ClientAliveInterval": 300,
            "UseDNS": False,
            "PrintMotd": True,
            "AcceptEnv": ["LANG", "LC_*"],
        },
    )
    assert lines[:3] == [
        "PasswordAuthentication no",
        "AuthenticationMethods publickey",
        "KexAlgorithms sntrup761x25519-sha512,curve25519-sha256",
    ]
    assert lines[3:] == [
        "AllowUsers ops alice",
        "AllowGroups jupyter",
        "ClientAliveInterval 300",
        "UseDNS no",
        "PrintMotd yes",
        "AcceptEnv LANG",
        "AcceptEnv LC_*",
    ]


def test_extra_options_cannot_set_what_the_role_writes():
    role_vars = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    written = {keyword.lower() for keyword in role_vars["_sshd_settings"]} | {"allowusers", "allowgroups"}
    assert written <= set(role_vars["sshd__managed_keywords"])


def test_algorithms_are_the_preferences_this_openssh_supports():
    """The settings table limits each configured list to what ssh -Q listed, in the configured order."""
    role_vars = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    supported = {
        "kex": ["curve25519-sha256", "sntrup761x25519-sha512", "diffie-hellman-group14-sha256"],
        "cipher": ["aes128-ctr", "chacha20-poly1305@openssh.com", "aes128-cbc"],
        "mac": ["hmac-sha1", "umac-128-etm@openssh.com", "hmac-sha2-512-etm@openssh.com"],
    }
    context = {**DEFAULTS, "_sshd_host": {"sshd": {"present": True, "supported": supported}}}
    settings = {
        key: env.from_string(role_vars["_sshd_settings"][key]).render(**context)
        for key in ("KexAlgorithms", "Ciphers", "MACs")
    }
    assert settings == {
        "KexAlgorithms": "sntrup761x25519-sha512,curve25519-sha256",
        "Ciphers": "chacha20-poly1305@openssh.com,aes128-ctr",
        "MACs": "hmac-sha2-512-etm@openssh.com,umac-128-etm@openssh.com",
    }


def test_host_keys_one_line_each_in_order():
    lines = _render(
        _sshd_settings={
            "HostKey": ["/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ecdsa_key"],
            "HostKeyAlgorithms": "ssh-ed25519,ecdsa-sha2-nistp256",
        }
    )
    assert lines == [
        "HostKey /etc/ssh/ssh_host_ed25519_key",
        "HostKey /etc/ssh/ssh_host_ecdsa_key",
        "HostKeyAlgorithms ssh-ed25519,ecdsa-sha2-nistp256",
    ]


def test_default_algorithms_leave_out_what_ssh_audit_fails_or_warns_on_besides_post_quantum():
    """No NIST curves, no SHA-1, no group14 and no group exchange (2048-bit moduli on Debian 13)."""
    kex, ciphers, macs = DEFAULTS["sshd_kex_algorithms"], DEFAULTS["sshd_ciphers"], DEFAULTS["sshd_macs"]
    assert not [k for k in kex if "nistp" in k or "group14" in k or "group1-" in k or "group-exchange" in k]
    assert not [c for c in ciphers if c.endswith("-cbc") or "3des" in c]
    assert all(m.endswith("-etm@openssh.com") and "sha1" not in m and "64" not in m for m in macs)
    assert DEFAULTS["sshd_host_key_types"] == ["ed25519"]
