"""A change of exports reloads Ganesha (same process) and takes effect; the kernel backend refuses this kernel."""

import os
import uuid

import testinfra
from conftest import run_playbook

testinfra_hosts = ["ansible://nfs_server-server"]
NOTEBOOKS_ALSO_READ_BY_REFUSED_NET = {
    "nfs_server_exports": [
        {
            "path": "/srv/nfs/notebooks",
            "clients": [
                {"host": "10.202.0.0/24"},
                {"host": "10.202.1.0/24", "options": ["ro", "sync", "root_squash", "no_subtree_check"]},
            ],
        },
        {
            "path": "/srv/nfs/shared",
            "clients": [
                {"host": "10.202.0.0/24", "options": ["rw", "sync", "all_squash", "anonuid=1000", "anongid=100"]}
            ],
        },
    ]
}
LIST = "nfs-ls 'nfs://10.202.1.10/srv/nfs/notebooks?version=4&uid=1000&gid=100'"


def _refused():
    return testinfra.get_host(
        f"ansible://nfs_server-client-refused?ansible_inventory={os.environ['MOLECULE_INVENTORY_FILE']}"
    )


def _pid(host):
    return host.check_output("systemctl show -p MainPID --value nfs-ganesha")


def test_changed_exports_reload_and_take_effect(host, converge):
    refused = _refused()
    pid = _pid(host)
    assert refused.run(LIST).rc != 0
    try:
        first = converge(extra_vars=NOTEBOOKS_ALSO_READ_BY_REFUSED_NET)
        assert first.rc == 0, first.output
        assert first.changed == 2, first.output  # the EXPORT blocks and the reload handler
        assert "RUNNING HANDLER [condaswarm.cluster.nfs_server : Reload nfs-ganesha]" in first.output
        assert _pid(host) == pid  # reloaded, not restarted: clients keep their sessions
        assert refused.run(LIST).rc == 0
        refused.check_output("echo x > /tmp/ro")
        url = f"nfs://10.202.1.10/srv/nfs/notebooks/ro-{uuid.uuid4().hex}?version=4&uid=1000&gid=100"
        put = refused.run(f"nfs-cp /tmp/ro '{url}'")
        assert put.rc != 0
        assert "NFS4ERR_ROFS" in put.stdout + put.stderr

        again = converge(extra_vars=NOTEBOOKS_ALSO_READ_BY_REFUSED_NET)
        assert again.rc == 0, again.output
        assert again.changed == 0, again.output
    finally:
        restored = converge()
    assert restored.rc == 0, restored.output
    assert restored.changed == 2, restored.output
    assert refused.run(LIST).rc != 0
    assert _pid(host) == pid


def test_kernel_backend_refuses_a_kernel_without_nfsd(scenario_dir):
    refused = _refused()
    for check in (True, False):
        run = run_playbook(scenario_dir / "kernel.yml", check=check)
        assert run.rc != 0, run.output
        assert "nfs_server_backend: kernel needs nfsd" in run.output
        assert "Use nfs_server_backend: ganesha" in run.output
        assert run.changed == 0, run.output
    assert refused.run("dpkg-query -W -f='${Status}' nfs-kernel-server").stdout != "install ok installed"
    assert not refused.file("/etc/exports.d/condaswarm.exports").exists
    assert not refused.file("/srv/nfs/notebooks").exists
