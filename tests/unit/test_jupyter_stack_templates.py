"""The stack file and HAProxy configuration, rendered by Ansible from the role's defaults; the certificate's
names and the NFS options from the inventory groups the role is told about."""

import hashlib
import json

import pytest
import yaml
from ansible_play import ROOT, render_cases, render_templates, run_play

OBJECTS = {k: f"jupyter_{k}_v3" for k in ("password_hash", "cookie_secret", "tls_cert", "tls_key", "haproxy_cfg")}


def _case_vars(**overrides):
    """The variables of one rendering: what the role's earlier tasks would have set, then `overrides`."""
    case = {
        "jupyter_image_ref": "registry.lab:5000/condaswarm/jupyter:abc",
        "jupyter_stack_nfs_volume_options": {"type": "nfs", "o": "addr=10.0.0.5,nfsvers=4.2,rw", "device": ":/nb"},
        "_jupyter_stack_objects": OBJECTS,
        **overrides,
    }
    if "_jupyter_stack_read" not in case:
        case["_jupyter_stack_cookie_key"] = "k" * 32
    return case


def _render(tmp_path, inventory="localhost,", **overrides):
    """One rendering in a run of its own: for the cases that need an inventory of their own."""
    compose, cfg = render_templates(
        tmp_path,
        "jupyter_stack",
        ["compose.yml.j2", "haproxy.cfg.j2"],
        vars_files=["defaults/main.yml", "vars/main.yml"],
        extra=_case_vars(**overrides),
        inventory=inventory,
    )
    return yaml.safe_load(compose.read_text()), cfg.read_text()


def _cookie_read(checksum):
    """What main.yml's read of the stack directory returns for a cookie secret with this checksum."""
    cookie_secret = {"exists": True, "type": "file", "mode": "0600", "checksum": checksum}
    return {"files": {"/etc/condaswarm/jupyter_stack/cookie_secret": cookie_secret}}


BASE_URLS = [("/", "GET /api"), ("lab", "GET /lab/api"), ("/a/b/", "GET /a/b/api")]
CHECKSUMS = ["0" * 40, "f" * 40]
# Every rendering that needs only the role's files, made in one run (the `rendered` fixture).
CASES = {
    "defaults": {},
    "bind_ssh": {
        "jupyter_stack_storage": "bind",
        "jupyter_stack_ssh": True,
        "_jupyter_stack_objects": OBJECTS | {"ssh_authorized_keys": "k_v1"},
    },
    "pids_zero": {"jupyter_stack_pids_limits": {"jupyter": 0, "proxy": 0, "ssh": 0}},
    "encrypted": {"jupyter_stack_network_encrypted": True},
    "unencrypted": {"jupyter_stack_network_encrypted": False},
    **{f"base_url {url}": {"jupyter_stack_base_url": url, "jupyter_stack_name": "science"} for url, _ in BASE_URLS},
    **{f"cookie {checksum}": {"_jupyter_stack_read": _cookie_read(checksum)} for checksum in CHECKSUMS},
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """{case: (compose as data, HAProxy configuration as text)} for every case of CASES."""
    outputs = render_cases(
        tmp_path_factory.mktemp("stack"),
        "jupyter_stack",
        ["compose.yml.j2", "haproxy.cfg.j2"],
        {case: _case_vars(**overrides) for case, overrides in CASES.items()},
        vars_files=["defaults/main.yml", "vars/main.yml"],
    )
    return {case: (yaml.safe_load(compose.read_text()), cfg.read_text()) for case, (compose, cfg) in outputs.items()}


def test_jupyter_service(rendered):
    compose, _ = rendered["defaults"]
    svc = compose["services"]["jupyter"]
    assert svc["image"] == "registry.lab:5000/condaswarm/jupyter:abc"
    deploy = svc["deploy"]
    assert deploy["replicas"] == 3 and deploy["endpoint_mode"] == "dnsrr"
    assert deploy["placement"]["constraints"] == ["node.role == worker"]
    assert deploy["update_config"]["order"] == "start-first"
    assert deploy["update_config"]["failure_action"] == "rollback"
    assert deploy["resources"]["limits"] == {"cpus": "2", "memory": "2G", "pids": 4096}
    assert svc["ulimits"] == {"nofile": {"soft": 4096, "hard": 8192}}
    assert "--ServerApp.cookie_secret_file=/run/secrets/jupyter_cookie_secret" in svc["command"]
    assert compose["volumes"]["notebooks"]["driver_opts"]["device"] == ":/nb"
    assert compose["secrets"]["password_hash"] == {"external": True, "name": "jupyter_password_hash_v3"}


def _inventory(tmp_path, groups):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {}}, "children": groups}}))
    return str(inventory)


@pytest.mark.parametrize(
    ("group", "role_vars"), [("nfs_servers", {}), ("storage", {"jupyter_stack_nfs_group": "storage"})]
)
def test_nfs_options_from_the_nfs_server_fact(tmp_path, group, role_vars):
    """Without options given, the stack mounts the export the nfs_server role published (first host of the group)."""
    published = {"type": "nfs", "o": "addr=10.9.0.2,nfsvers=4.2,rw", "device": ":/notebooks"}
    other = {"type": "nfs", "o": "addr=10.9.0.3,nfsvers=4.2,rw", "device": ":/elsewhere"}
    groups = {
        group: {"hosts": {"nfs1": {"nfs_server_volume_options": {"notebooks": published}}}},
        "decoy": {"hosts": {"nfs0": {"nfs_server_volume_options": {"notebooks": other}}}},
    }
    inventory = _inventory(tmp_path, groups)
    compose, _ = _render(tmp_path, inventory=inventory, jupyter_stack_nfs_volume_options={}, **role_vars)
    assert compose["volumes"]["notebooks"] == {"driver": "local", "driver_opts": published}


@pytest.mark.parametrize(
    ("group", "role_vars"), [("swarm_managers", {}), ("managers", {"jupyter_stack_manager_group": "managers"})]
)
def test_certificate_names_are_the_manager_groups_addresses(tmp_path, group, role_vars):
    addresses = {"m1": "10.0.0.1", "m2": "10.0.0.2", "w1": "10.0.0.9", "old": "10.0.0.8"}
    groups = {group: {"hosts": {"m1": {}, "m2": {}}}, "swarm_workers": {"hosts": {"w1": {}}}}
    if group != "swarm_managers":  # the default group is not the one the role is told about
        groups["swarm_managers"] = {"hosts": {"old": {}}}
    out = tmp_path / "recipe.json"
    run_play(
        tmp_path,
        [
            # Gathered facts, as site.yml's first play leaves them (cacheable: hostvars[h].ansible_facts).
            {
                "ansible.builtin.set_fact": {"default_ipv4": {"address": "{{ item.value }}"}, "cacheable": True},
                "delegate_to": "{{ item.key }}",
                "delegate_facts": True,
                "loop": "{{ addresses | dict2items }}",
            },
            {"ansible.builtin.copy": {"content": "{{ _jupyter_stack_tls_recipe | to_json }}", "dest": str(out)}},
        ],
        vars_files=[ROOT / "roles" / "jupyter_stack" / p for p in ("defaults/main.yml", "vars/main.yml")],
        extra={"addresses": addresses, **role_vars},
        inventory=_inventory(tmp_path, groups),
    )
    recipe = json.loads(out.read_text())["tls"]
    assert recipe["common_name"] == "localhost"
    assert recipe["subject_alt_name"] == ["IP:10.0.0.1", "IP:10.0.0.2", "DNS:localhost"]


def test_proxy_service_on_managers_with_host_ports(rendered):
    compose, _ = rendered["defaults"]
    proxy = compose["services"]["proxy"]
    assert proxy["deploy"]["mode"] == "global"
    assert proxy["deploy"]["placement"]["constraints"] == ["node.role == manager"]
    assert {(p["published"], p["target"], p["mode"]) for p in proxy["ports"]} == {
        (80, 8080, "host"),
        (443, 8443, "host"),
    }


def test_bind_storage_and_ssh_door(rendered):
    compose, _ = rendered["bind_ssh"]
    assert compose["volumes"] == {"ssh_host_keys": {}}
    assert compose["services"]["jupyter"]["volumes"][0]["type"] == "bind"
    assert compose["services"]["ssh"]["ports"][0]["mode"] == "host"
    assert compose["secrets"]["ssh_authorized_keys"]["name"] == "k_v1"


def test_cis_5_29_every_service_has_a_pids_limit(rendered):
    compose, _ = rendered["bind_ssh"]
    # deploy.resources.limits.pids is in the compose schema from 3.9 on (the 20.10 CLI refuses it in 3.8).
    assert compose["version"] == "3.9"
    limits = {name: svc["deploy"]["resources"]["limits"].get("pids") for name, svc in compose["services"].items()}
    assert limits == {"jupyter": 4096, "proxy": 512, "ssh": 4096}


def test_pids_limit_zero_sets_none(rendered):
    compose, _ = rendered["pids_zero"]
    assert compose["services"]["jupyter"]["deploy"]["resources"]["limits"] == {"cpus": "2", "memory": "2G"}
    assert "resources" not in compose["services"]["proxy"]["deploy"]


@pytest.mark.parametrize(("case", "driver_opts"), [("unencrypted", None), ("encrypted", {"encrypted": ""})])
def test_cis_7_3_encrypted_overlay_is_an_option(rendered, case, driver_opts):
    compose, _ = rendered[case]
    assert compose["networks"]["backend"]["driver"] == "overlay"
    assert compose["networks"]["backend"].get("driver_opts") == driver_opts


@pytest.mark.parametrize(("base_url", "check"), BASE_URLS)
def test_haproxy_follows_base_url_and_stack_name(rendered, base_url, check):
    _, cfg = rendered[f"base_url {base_url}"]
    assert f"option httpchk {check}\n" in cfg
    assert "tasks.science_jupyter:8888" in cfg
    assert "cookie SCIENCE_REPLICA insert indirect nocache dynamic" in cfg
    assert "option redispatch" in cfg


@pytest.mark.parametrize("checksum", CHECKSUMS)
def test_haproxy_cookie_key_follows_the_cookie_secrets_checksum(rendered, checksum):
    """The secret stays on the manager; the proxy's cookie key is derived from its checksum."""
    _, cfg = rendered[f"cookie {checksum}"]
    key = hashlib.sha256(f"haproxy {checksum}".encode()).hexdigest()[:32]
    assert f'dynamic-cookie-key "{key}"\n' in cfg
