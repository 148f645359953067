"""NFS over the protocol (libnfs, user space) against the Ganesha server: who may write, as whom."""

import json
import os
import re
import uuid

import pytest
import testinfra
from conftest import run_playbook

testinfra_hosts = ["ansible://nfs_server-server"]
SERVER_ALLOWED_NET = "10.202.0.10"
SERVER_REFUSED_NET = "10.202.1.10"


def _node(name):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={os.environ['MOLECULE_INVENTORY_FILE']}")


@pytest.fixture(scope="module")
def allowed():
    return _node("nfs_server-client-allowed")


@pytest.fixture(scope="module")
def refused():
    return _node("nfs_server-client-refused")


def _url(server, path, uid=1000, gid=100):
    return f"'nfs://{server}{path}?version=4&uid={uid}&gid={gid}'"


def _put(client, server, path, uid=1000, gid=100):
    data = uuid.uuid4().hex
    client.check_output(f"echo {data} > /tmp/put")
    return client.run(f"nfs-cp /tmp/put {_url(server, path, uid, gid)}"), data


def test_uid_1000_writes_a_file_owned_by_1000(host, allowed):
    name = f"/srv/nfs/notebooks/u1000-{uuid.uuid4().hex[:8]}"
    put, data = _put(allowed, SERVER_ALLOWED_NET, name)
    assert put.rc == 0, put.stderr
    assert host.file(name).uid == 1000
    assert host.file(name).gid == 100
    assert host.file(name).content_string.strip() == data
    assert allowed.check_output(f"nfs-cat {_url(SERVER_ALLOWED_NET, name)}").strip() == data


def test_root_is_squashed(host, allowed):
    name = f"/srv/nfs/notebooks/root-{uuid.uuid4().hex[:8]}"
    put, _ = _put(allowed, SERVER_ALLOWED_NET, name, uid=0, gid=0)
    # Squashed to nobody, root cannot enter the notebook user's 0770 directory at all.
    assert put.rc != 0
    assert "NFS4ERR_ACCESS" in put.stdout + put.stderr
    assert not host.file(name).exists
    assert allowed.run(f"nfs-ls {_url(SERVER_ALLOWED_NET, '/srv/nfs/notebooks', 0, 0)}").rc != 0


def test_all_squash_maps_everyone_to_the_notebook_user(host, allowed):
    name = f"/srv/nfs/shared/root-{uuid.uuid4().hex[:8]}"
    put, _ = _put(allowed, SERVER_ALLOWED_NET, name, uid=0, gid=0)
    assert put.rc == 0, put.stderr
    assert (host.file(name).uid, host.file(name).gid) == (1000, 100)


def test_client_outside_the_network_is_refused(host, refused):
    host.check_output("echo secret > /srv/nfs/notebooks/known && chown 1000:100 /srv/nfs/notebooks/known")
    listing = refused.run(f"nfs-ls {_url(SERVER_REFUSED_NET, '/srv/nfs/notebooks')}")
    assert listing.rc != 0
    assert "NFS4ERR_NOENT" in listing.stdout + listing.stderr  # the export is invisible to it
    assert refused.run(f"nfs-cat {_url(SERVER_REFUSED_NET, '/srv/nfs/notebooks/known')}").rc != 0
    name = f"/srv/nfs/notebooks/intruder-{uuid.uuid4().hex[:8]}"
    put, _ = _put(refused, SERVER_REFUSED_NET, name)
    assert put.rc != 0
    assert not host.file(name).exists


def test_volume_options_fact_points_at_a_working_export(allowed, scenario_dir):
    run = run_playbook(scenario_dir / "volume_options.yml")
    assert run.rc == 0, run.output
    assert run.changed == 0, run.output
    options = json.loads(re.search(r"VOLUME_OPTIONS=(\{.*\})\"", run.output).group(1).replace('\\"', '"'))
    assert options == {
        "notebooks": {"type": "nfs", "o": "addr=10.202.0.10,nfsvers=4.2,rw", "device": ":/srv/nfs/notebooks"},
        "shared": {"type": "nfs", "o": "addr=10.202.0.10,nfsvers=4.2,rw", "device": ":/srv/nfs/shared"},
    }
    addr = options["notebooks"]["o"].split(",")[0].removeprefix("addr=")
    assert allowed.run(f"nfs-ls {_url(addr, options['notebooks']['device'][1:])}").rc == 0
