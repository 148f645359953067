"""The host baseline and the infrastructure site.yml set up, node by node."""

import json
import time

import pytest
from conftest import MANAGER, NFS, NODES, WORKERS

testinfra_hosts = [f"ansible://{name}" for name in NODES]

# The limits role's defaults for the jupyter group (limits_entries).
JUPYTER_LIMITS = {"ulimit -Sn": "4096", "ulimit -Hn": "8192", "ulimit -Ss": "8192", "ulimit -Sv": "4194304"}


def test_sshd_refuses_passwords(host):
    effective = dict(line.split(" ", 1) for line in host.check_output("sshd -T").splitlines() if " " in line)
    assert effective["passwordauthentication"] == "no"
    assert effective["kbdinteractiveauthentication"] == "no"


@pytest.mark.parametrize(("command", "value"), JUPYTER_LIMITS.items())
def test_login_of_a_jupyter_user_gets_the_limits(host, command, value):
    # su -l runs the su PAM stack, where the role put pam_limits.
    assert host.check_output(f"su -l alice -c {command!r}").strip() == value


def test_root_login_keeps_its_limits(host):
    # Only the jupyter group's users are limited: root's soft nofile is not the group's 4096.
    assert host.check_output("su -l root -c 'ulimit -Sv'").strip() == "unlimited"


def test_ganesha_serves_nfs_on_the_nfs_node_only(host):
    name = host.backend.get_hostname()
    ganesha = host.service("nfs-ganesha")
    if name == NFS:
        assert ganesha.is_running
        assert host.socket("tcp://0.0.0.0:2049").is_listening or host.socket("tcp://:::2049").is_listening
        assert "/srv/nfs/notebooks" in host.file("/etc/ganesha/exports.d/condaswarm.conf").content_string
    else:
        assert not ganesha.is_running
        assert host.run("docker info --format '{{.Swarm.LocalNodeState}}'").stdout.strip() == "active"


def test_registry_answers_over_tls_from_a_worker(host):
    if host.backend.get_hostname() != WORKERS[0]:
        pytest.skip("checked from one worker")
    address = f"{MANAGER}:5000"
    # Verified against the CA the registry role installed for the engine, nothing else.
    script = (
        "import json, ssl, urllib.request; "
        f"ctx = ssl.create_default_context(cafile='/etc/docker/certs.d/{address}/ca.crt'); "
        f"print(urllib.request.urlopen('https://{address}/v2/_catalog', context=ctx, timeout=10).read().decode())"
    )
    catalog = json.loads(host.check_output(f'python3 -c "{script}"'))
    assert "condaswarm/haproxy" in catalog["repositories"]
    assert any("jupyter" in name for name in catalog["repositories"] if name != "condaswarm/haproxy")
    # Plain HTTP is not served.
    plain = host.run(
        f"python3 -c \"import urllib.request; urllib.request.urlopen('http://{address}/v2/', timeout=10)\""
    )
    assert plain.rc != 0


def test_services_at_full_count(host):
    if host.backend.get_hostname() != MANAGER:
        pytest.skip("the Swarm is asked on the manager")
    deadline, services = time.time() + 120, {}
    while time.time() < deadline:
        lines = host.check_output("docker service ls --format '{{json .}}'").splitlines()
        services = {s["Name"]: s["Replicas"] for s in map(json.loads, lines)}
        if services and all(r.split()[0].split("/")[0] == r.split()[0].split("/")[1] for r in services.values()):
            break
        time.sleep(3)
    assert {"jupyter_jupyter", "jupyter_proxy"} <= services.keys(), services
    assert any("registry" in name for name in services), services
    for name, replicas in services.items():
        running, wanted = replicas.split()[0].split("/")
        assert running == wanted and int(wanted) > 0, (name, replicas)
    assert services["jupyter_jupyter"].startswith("2/2")
