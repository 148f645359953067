"""playbooks/upgrade_engine.yml rolls a new engine version through the 3 managers and 2 workers one node at a time
while a client keeps asking the HTTPS entry.

Only one docker.io version is reachable here, so the test makes a higher one: the package of the installed
version (the mirror's candidate if the mirror no longer has it), downloaded from Debian's mirror on one node,
unpacked with dpkg-deb -R, its control file's Version raised (+ '+condaswarm1'), packed again with dpkg-deb -b,
and served to every node from a flat apt repository in a directory (deb [trusted=yes] file:...). The binaries are
the same; apt, dpkg and the package's maintainer scripts do a real upgrade (stop, unpack, configure, start),
which is what the rolling phase must contain. A version no node can install is refused before anything changes."""

import subprocess
import time

import pytest
from ha_helpers import MANAGER, PLAYBOOKS, node, run_playbook
from rolling_helpers import LEADERLESS_LIMIT, NODES, EntryPoller, SwarmWatch, dockerd_starts, entry_addresses

testinfra_hosts = [f"ansible://{MANAGER}"]

REPO = "/opt/condaswarm-repo"


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """(installed, repacked) versions of docker.io, the repacked one served to every node of the rolling."""
    builder = node(MANAGER)
    installed = builder.check_output("dpkg-query -W -f='${Version}' docker.io")
    # The installed version's package, or the mirror's candidate if the mirror no longer has it.
    downloaded = builder.check_output(
        "set -e; rm -rf /tmp/repack && mkdir -p /tmp/repack && cd /tmp/repack"
        " && apt-get -q -o Acquire::Retries=3 update >/dev/null"
        f" && {{ apt-get -q -o Acquire::Retries=3 download docker.io={installed} >/dev/null 2>&1"
        " || apt-get -q -o Acquire::Retries=3 download docker.io >/dev/null; }"
        " && dpkg-deb -f docker.io_*.deb Version"
    ).strip()
    repacked = f"{downloaded}+condaswarm1"
    deb = f"docker.io_{repacked}_amd64.deb"
    builder.check_output(
        f"set -e; mkdir -p {REPO} && cd /tmp/repack && dpkg-deb -R docker.io_*.deb pkg"
        f" && sed -i 's/^Version: .*/Version: {repacked}/' pkg/DEBIAN/control"
        f" && dpkg-deb -Zgzip -z1 -b pkg {REPO}/{deb} >/dev/null"
        f" && cd {REPO} && {{ dpkg-deb -f {deb}; echo Filename: ./{deb}; echo Size: $(stat -c %s {deb});"
        f" echo SHA256: $(sha256sum {deb} | cut -d' ' -f1); echo; }} > Packages"
        " && rm -rf /tmp/repack"
    )
    local = tmp_path_factory.mktemp("repo") / "repo"
    subprocess.run(["docker", "cp", f"{MANAGER}:{REPO}", str(local)], check=True, capture_output=True)
    for name in NODES:
        if name != MANAGER:
            subprocess.run(["docker", "exec", name, "mkdir", "-p", "/opt"], check=True, capture_output=True)
            subprocess.run(["docker", "cp", str(local), f"{name}:{REPO}"], check=True, capture_output=True)
        node(name).check_output(
            f"echo 'deb [trusted=yes] file:{REPO} ./' > /etc/apt/sources.list.d/condaswarm-test.list"
        )
    return installed, repacked


def test_unknown_version_is_refused_before_any_change(versions):
    installed, _ = versions
    before = dockerd_starts()
    run = run_playbook(PLAYBOOKS / "upgrade_engine.yml", extra_vars={"docker_engine_version": "0.0.1-nosuch"})
    assert run.rc != 0
    assert "apt cannot install version 0.0.1-nosuch" in run.output
    assert dockerd_starts() == before
    assert all(node(n).check_output("dpkg-query -W -f='${Version}' docker.io") == installed for n in NODES)


def test_upgrade_rolls_one_node_at_a_time(versions, cafile, manager, report):
    installed, repacked = versions
    before = dockerd_starts()
    addresses = entry_addresses()
    with SwarmWatch() as watch, EntryPoller(cafile, addresses) as poller:
        started = time.time()
        run = run_playbook(PLAYBOOKS / "upgrade_engine.yml", extra_vars={"docker_engine_version": repacked})
        elapsed = time.time() - started
    assert run.rc == 0, run.output
    after = dockerd_starts()
    for name in NODES:
        assert node(name).check_output("dpkg-query -W -f='${Version}' docker.io") == repacked, name
        assert "docker.io" in node(name).check_output("apt-mark showhold").split(), name
        assert node(name).check_output("docker info --format '{{.Swarm.LocalNodeState}}'") == "active"
    assert all(after[n] != before[n] for n in NODES), (before, after)
    assert sorted(NODES, key=after.get) == NODES, after
    assert max(len(s["out"]) for s in watch.samples) <= 1, [s for s in watch.samples if len(s["out"]) > 1][:3]
    assert all(s["reachable"] >= 2 for s in watch.samples if s["via"])
    assert watch.longest_leaderless() <= LEADERLESS_LIMIT, watch.leaderless()[:5]
    rows = manager.check_output("docker node ls --format '{{.Hostname}} {{.Status}} {{.Availability}}'")
    assert all(line.split()[1:] == ["Ready", "Active"] for line in rows.splitlines()), rows
    report(
        f"ha upgrade_engine.yml docker.io {installed} -> {repacked} (repacked): {elapsed:.0f} s for {len(NODES)} nodes;"
        f" entry {'/'.join(addresses)}: {poller.failed} failed of {poller.ok + poller.failed} requests"
        f" ({poller.moved} went to the next address, {poller.retried} resent once on a new connection)"
        f" {poller.errors[:5]};"
        f" {len(watch.leaderless())} of {len(watch.samples)} node-list samples without a leader"
        f" (longest {watch.longest_leaderless():.1f} s)"
    )
    assert poller.ok > 0
    assert poller.failed == 0, poller.errors
