"""The keepalived role's files: the check script's verdicts (run here, with a fake `docker` on PATH) and the
rendered keepalived.conf. Debian's keepalived checks the rendered file on the hosts (`--config-test`) and the
ha scenario runs it."""

import os
import shutil
import socket
import subprocess
import time

import pytest
from ansible_play import ROOT, render_templates

SCRIPT = ROOT / "roles" / "keepalived" / "files" / "condaswarm_entry_check"


@pytest.fixture
def listening():
    """A TCP port that answers on 127.0.0.1."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@pytest.fixture
def closed():
    """A TCP port that refuses on 127.0.0.1 (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check(tmp_path, *ports, docker=None, handover=False, keep_cache=False):
    """Run the script as keepalived would; `docker` is the fake CLI's shell body (None: no docker at all).
    The published ports' cache starts empty unless `keep_cache`."""
    cache = tmp_path / "ports"
    if not keep_cache:
        cache.unlink(missing_ok=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("bash", "timeout", "cat", "find", "tee", "mv"):
        (bin_dir / tool).unlink(missing_ok=True)
        (bin_dir / tool).symlink_to(shutil.which(tool))
    fake = bin_dir / "docker"
    fake.unlink(missing_ok=True)
    if docker is not None:
        fake.write_text(f"#!{shutil.which('bash')}\n{docker}\n")
        fake.chmod(0o755)
    flag = tmp_path / "handover"
    if handover:
        flag.touch()
    env = {"PATH": str(bin_dir), "CACHE": str(cache)}
    proc = subprocess.run(
        [str(SCRIPT), str(flag), "127.0.0.1", *map(str, ports)], env=env, capture_output=True, text=True, check=False
    )
    return proc.returncode


# A manager whose Swarm publishes `ports` (host mode shows only in the endpoint spec, not in `service ls`).
def swarm_publishing(*ports):
    published = " ".join(str(p) for p in ports)
    return (
        'case "$1 $2" in\n'
        '  "service ls") echo svc1; echo svc2 ;;\n'
        f'  "service inspect") echo "{published} "; echo "" ;;\n'
        "  *) exit 2 ;;\n"
        "esac"
    )


NO_SERVICES = '[ "$1 $2" = "service ls" ] && exit 0; exit 2'
NO_LEADER = 'echo "Error response from daemon: rpc error: The swarm does not have a leader." >&2; exit 1'


def test_port_answers(tmp_path, listening):
    assert check(tmp_path, listening, docker=NO_LEADER) == 0


def test_port_answers_but_handover_asked(tmp_path, listening):
    assert check(tmp_path, listening, docker=NO_SERVICES, handover=True) == 1


def test_published_port_not_answering(tmp_path, closed):
    assert check(tmp_path, closed, docker=swarm_publishing(5000, closed)) == 1


def test_port_not_published_yet(tmp_path, closed):
    # Before the stack is deployed: a working manager may hold the address.
    assert check(tmp_path, closed, docker=swarm_publishing(5000)) == 0
    assert check(tmp_path, closed, docker=NO_SERVICES) == 0


def test_port_with_a_longer_published_number(tmp_path, closed):
    # 443 is not "published" because 4430 is.
    assert check(tmp_path, closed, docker=swarm_publishing(closed * 10)) == 0


@pytest.mark.parametrize("docker", [NO_LEADER, None], ids=["no-leader", "engine-gone"])
def test_engine_not_working(tmp_path, closed, docker):
    assert check(tmp_path, closed, docker=docker) == 1


def test_every_port_must_pass(tmp_path, listening, closed):
    assert check(tmp_path, listening, closed, docker=swarm_publishing(closed)) == 1
    assert check(tmp_path, listening, closed, docker=swarm_publishing(listening)) == 0


def test_published_ports_are_cached(tmp_path, closed):
    assert check(tmp_path, closed, docker=swarm_publishing(closed)) == 1
    # The engine gone right after: the cached answer still says the port is published.
    assert check(tmp_path, closed, docker=None, keep_cache=True) == 1
    assert check(tmp_path, closed, docker=NO_SERVICES) == 0
    assert check(tmp_path, closed, docker=None, keep_cache=True) == 0
    # Past 10 s the cache is read again from the engine, which is gone.
    old = time.time() - 11
    os.utime(tmp_path / "ports", (old, old))
    assert check(tmp_path, closed, docker=None, keep_cache=True) == 1


def test_no_ports_tracked(tmp_path):
    assert check(tmp_path, docker=None) == 0


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_script_passes_shellcheck():
    proc = subprocess.run(["shellcheck", "--format=gcc", str(SCRIPT)], capture_output=True, text=True, check=False)
    assert proc.stdout == "", proc.stdout


def test_script_is_executable():
    assert os.access(SCRIPT, os.X_OK)


INSTANCE = {
    "keepalived_address": "10.0.0.10",
    "_keepalived_self": {"address": "10.0.0.11"},
    "_keepalived_link": {"interface": "eth1", "prefix": 24},
    "_keepalived_peers": ["10.0.0.12", "10.0.0.13"],
    "_keepalived_priority": 140,
}


@pytest.fixture(scope="module")
def render(tmp_path_factory):
    def _render(**extra):
        out = render_templates(
            tmp_path_factory.mktemp("keepalived"),
            "keepalived",
            ["keepalived.conf.j2"],
            vars_files=["defaults/main.yml", "vars/main.yml"],
            extra={**INSTANCE, **extra},
        )
        return out[0].read_text()

    return _render


def test_config_defaults(render):
    conf = render()
    assert conf.startswith("# Managed by condaswarm.cluster.keepalived")
    assert "    state BACKUP\n" in conf
    assert "    interface eth1\n" in conf and "    priority 140\n" in conf
    assert "    nopreempt\n" in conf
    assert "    unicast_src_ip 10.0.0.11\n" in conf
    assert "    unicast_peer {\n        10.0.0.12\n        10.0.0.13\n    }" in conf
    assert "        10.0.0.10/24 dev eth1\n" in conf
    assert 'script "/etc/keepalived/condaswarm_entry_check /etc/keepalived/condaswarm_entry_down 10.0.0.11 443"' in conf
    assert "    track_script {\n        condaswarm_entry\n    }" in conf
    # A starting manager is in FAULT until its check has passed: it cannot claim the address unready.
    script_block = conf.split("vrrp_script condaswarm_entry {")[1].split("}")[0]
    assert "\n    init_fail\n" in script_block
    assert conf.count("{") == conf.count("}")


def test_config_choices(render):
    conf = render(keepalived_preempt=True, keepalived_track_ports=[], keepalived_virtual_router_id=7)
    assert "nopreempt" not in conf
    assert "track_script" not in conf
    assert "    virtual_router_id 7\n" in conf
    conf = render(keepalived_track_ports=[443, 5000], keepalived_check_fall=3)
    assert ' 10.0.0.11 443 5000"' in conf and "    fall 3\n" in conf


def test_marker_is_what_the_disabled_role_looks_for():
    vars_text = (ROOT / "roles" / "keepalived" / "vars" / "main.yml").read_text()
    assert 'keepalived__marker: "Managed by condaswarm.cluster.keepalived"' in vars_text
    assert SCRIPT.read_text().splitlines()[1].startswith("# Managed by condaswarm.cluster.keepalived")
