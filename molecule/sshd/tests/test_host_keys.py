"""Host keys: Ed25519 only, ssh-audit without a failure, and the move away from ECDSA that locks nobody out.

The transition is played as an operator would: a client whose known_hosts holds only the node's old
ECDSA key, strict host key checking, OpenSSH's UpdateHostKeys.
"""

import subprocess
import time

import pytest
from sshclient import KEY, NODES, key_login, node_ip

testinfra_hosts = ["ansible://all"]

ED25519 = "/etc/ssh/ssh_host_ed25519_key"
ECDSA = "/etc/ssh/ssh_host_ecdsa_key"
# The one kind of warning the defaults keep: curve25519 and the fixed DH groups (for clients older than
# OpenSSH 8.5) are not post-quantum.
ACCEPTED_WARNING = "does not provide protection against post-quantum attacks"


@pytest.fixture(scope="module", autouse=True)
def penalties_served(report):
    """OpenSSH 9.8+ (Debian 13) penalises a source that connects without authenticating (PerSourcePenalties
    noauth): ssh-audit's many probes and the refused logins here get this machine's address refused for a
    while. The tests after this module log in again: wait until every node lets the operator in."""
    yield
    for name in NODES:
        report(f"{name}: logins accepted again {served(name):.0f} s after the audits")


def served(name, limit=300):
    """Seconds until the node lets the operator in again after this machine's address was penalised."""
    started, ip = time.time(), node_ip(name)
    while key_login(ip, "alice").returncode != 0:
        if time.time() - started > limit:
            pytest.fail(f"{name} still refuses this machine {limit} s after the audits (PerSourcePenalties)")
        time.sleep(3)
    return time.time() - started


def _pub(name, path):
    return subprocess.run(
        ["docker", "exec", name, "cat", f"{path}.pub"], capture_output=True, text=True, check=True
    ).stdout.split()[:2]


def strict_login(ip, known_hosts):
    """A key login that trusts nothing but known_hosts, and learns the keys the server announces."""
    cmd = ["ssh", "-F", "/dev/null", "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}"]
    cmd += ["-o", "GlobalKnownHostsFile=/dev/null", "-o", "UpdateHostKeys=yes", "-o", "BatchMode=yes"]
    cmd += ["-o", "IdentityAgent=none", "-o", "IdentitiesOnly=yes", "-i", str(KEY), "-o", "ConnectTimeout=10"]
    # The announced keys are proved and written while the session runs: give it a moment.
    cmd += ["-l", "alice", ip, "sleep 1; id -un"]
    return subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, check=False)


def known_types(path):
    return sorted(line.split()[1] for line in path.read_text().splitlines() if line.strip())


@pytest.fixture(scope="module")
def transition(converge, ssh_audit, tmp_path_factory):
    """Final state, then one run with ECDSA retiring, then the final state again; logins and audits between."""
    steps = {name: {} for name in NODES}
    for name in NODES:
        ip = node_ip(name)
        known = tmp_path_factory.mktemp(name) / "known_hosts"
        known.write_text(f"{ip} {' '.join(_pub(name, ECDSA))}\n")
        steps[name].update(ip=ip, known=known, before=strict_login(ip, known))
    steps["announce_run"] = converge(extra_vars={"sshd_host_key_retiring": ["ecdsa"]})
    for name in NODES:
        node = steps[name]
        # The login before the audit: the audit's probes get this machine penalised on OpenSSH 10.
        served(name)
        node["announce"] = strict_login(node["ip"], node["known"])
        node["learned"] = known_types(node["known"])
        node["announce_audit"] = ssh_audit(node["ip"])
    steps["final_run"] = converge()
    for name in NODES:
        node = steps[name]
        served(name)
        node["after"] = strict_login(node["ip"], node["known"])
        node["kept"] = known_types(node["known"])
    return steps


def test_only_the_ed25519_key_is_offered(host):
    effective = dict(line.split(" ", 1) for line in host.check_output("sshd -T").splitlines())
    assert effective["hostkey"] == ED25519
    assert effective["hostkeyalgorithms"] == "ssh-ed25519"
    ip = node_ip(host.backend.get_hostname())
    scan = subprocess.run(["ssh-keyscan", "-T", "10", ip], capture_output=True, text=True, check=False).stdout
    assert [line.split()[1:3] for line in scan.splitlines()] == [_pub(host.backend.get_hostname(), ED25519)]
    # The old keys stay on disk, unused: a transition run can offer the very same key again.
    assert host.file(ECDSA).exists


def test_ssh_audit_finds_no_failure(host, ssh_audit, report):
    audit = ssh_audit(node_ip(host.backend.get_hostname()))
    report(audit.summary(host.backend.get_hostname()))
    assert audit.fail == []
    assert audit.host_key_algorithms == ["ssh-ed25519"]
    assert [w for w in audit.warn if ACCEPTED_WARNING not in w] == []
    assert audit.rc in (0, 1, 2)  # 3 would be a failure
    assert audit.kex[0] in {"mlkem768x25519-sha256", "sntrup761x25519-sha512"}


def test_old_key_alone_is_refused_without_the_transition(host, transition):
    before = transition[host.backend.get_hostname()]["before"]
    assert before.returncode == 255
    assert "Host key verification failed" in before.stderr


def test_transition_run_lets_the_old_key_in_and_announces_the_new(host, transition, report):
    node = transition[host.backend.get_hostname()]
    assert transition["announce_run"].rc == 0, transition["announce_run"].output
    assert node["announce"].returncode == 0, node["announce"].stderr
    assert node["announce"].stdout.strip() == "alice"
    assert node["learned"] == ["ecdsa-sha2-nistp256", "ssh-ed25519"]
    # While it lasts, ssh-audit fails on the ECDSA key: the window should be short.
    audit = node["announce_audit"]
    report(audit.summary(f"{host.backend.get_hostname()} during the transition"))
    assert audit.host_key_algorithms[0] == "ssh-ed25519"
    assert any(f.startswith("key ecdsa-sha2-nistp256") for f in audit.fail)


def test_after_the_transition_the_learned_key_gets_in(host, transition):
    node = transition[host.backend.get_hostname()]
    assert transition["final_run"].rc == 0, transition["final_run"].output
    assert transition["final_run"].changed > 0
    assert node["after"].returncode == 0, node["after"].stderr
    # UpdateHostKeys also dropped the key the server no longer has.
    assert node["kept"] == ["ssh-ed25519"]
    assert sorted(host.check_output("sshd -T | grep -E '^hostkey(algorithms)? '").splitlines()) == [
        f"hostkey {ED25519}",
        "hostkeyalgorithms ssh-ed25519",
    ]
