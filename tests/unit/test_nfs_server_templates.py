"""The kernel exports file and Ganesha's EXPORT blocks, rendered by Ansible from the role's own vars and templates.

The kernel backend cannot run on this machine (no nfsd), so its file is checked here, line for line.
"""

from ansible_play import ROOT, render_templates

EXPORTS = [
    {"path": "/srv/nfs/notebooks/"},
    {
        "path": "/srv/nfs/shared",
        "pseudo": "/shared",
        "clients": [
            {"host": "10.202.0.0/24", "options": ["rw", "sync", "all_squash", "anonuid=1000", "anongid=100"]},
            {"host": "192.0.2.7", "options": ["ro", "insecure", "sec=krb5:sys"]},
        ],
    },
]


NORMALISED = (
    "{{ nfs_server_exports | condaswarm.cluster.nfs_exports_normalised(nfs_server_default_clients,"
    " nfs_server_default_options, nfs_server__export_defaults) }}"
)


def _render(tmp_path, template):
    extra = {"nfs_server_exports": EXPORTS, "nfs_server_default_clients": ["10.202.0.0/24", "10.202.5.0/24"]}
    (path,) = render_templates(
        tmp_path,
        "nfs_server",
        [template],
        vars_files=["defaults/main.yml", "vars/Debian.yml"],
        extra=extra,
        tasks=[
            {"ansible.builtin.include_vars": str(ROOT / "roles" / "nfs_server" / "vars" / "main.yml")},
            # What the role's main.yml does before it writes a file.
            {"ansible.builtin.set_fact": {"_nfs_server_exports": NORMALISED}},
        ],
    )
    return [line for line in path.read_text().splitlines() if not line.startswith("#")]


def test_ganesha_conf_includes_the_exports_and_turns_krb5_on_for_a_krb5_client(tmp_path):
    text = "\n".join(_render(tmp_path, "ganesha.conf.j2"))
    assert "Protocols = 4;" in text
    assert "Active_krb5 = true;" in text  # 192.0.2.7 has sec=krb5:sys
    assert '%include "/etc/ganesha/exports.d/condaswarm.conf"' in text


def test_kernel_exports_file(tmp_path):
    assert _render(tmp_path, "condaswarm.exports.j2") == [
        "/srv/nfs/notebooks 10.202.0.0/24(rw,sync,root_squash,no_subtree_check)"
        " 10.202.5.0/24(rw,sync,root_squash,no_subtree_check)",
        "/srv/nfs/shared 10.202.0.0/24(rw,sync,all_squash,anonuid=1000,anongid=100)"
        " 192.0.2.7(ro,insecure,sec=krb5:sys)",
    ]


def test_ganesha_export_blocks(tmp_path):
    text = "\n".join(_render(tmp_path, "ganesha-exports.conf.j2"))
    blocks = text.split("EXPORT {")[1:]
    assert len(blocks) == 2
    notebooks, shared = blocks
    assert 'Path = "/srv/nfs/notebooks";' in notebooks
    assert 'Pseudo = "/srv/nfs/notebooks";' in notebooks
    assert notebooks.count("CLIENT {") == 2
    assert "Access_Type = None;" in notebooks  # hosts outside the CLIENT blocks get nothing
    assert "Clients = 10.202.5.0/24;" in notebooks
    assert 'Pseudo = "/shared";' in shared
    first, second = shared.split("CLIENT {")[1:]
    assert "Access_Type = RW;" in first
    assert "Squash = All_Squash;" in first
    assert "Anonymous_Uid = 1000;" in first
    assert "Anonymous_Gid = 100;" in first
    assert "PrivilegedPort = true;" in first
    assert "Access_Type = RO;" in second
    assert "Squash = Root_Squash;" in second
    assert "SecType = krb5, sys;" in second
    assert "PrivilegedPort = false;" in second
    ids = [int(b.split("Export_Id = ")[1].split(";")[0]) for b in blocks]
    assert len(set(ids)) == 2
    assert all(0 < i < 65536 for i in ids)
