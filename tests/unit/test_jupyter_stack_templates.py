"""The stack file and HAProxy configuration, rendered by Ansible from the role's defaults; the certificate's
names and the NFS options from the inventory groups the role is told about."""

import hashlib
import json

import pytest
import yaml
from ansible_play import ROOT, render_templates, run_play

OBJECTS = {k: f"jupyter_{k}_v3" for k in ("password_hash", "cookie_secret", "tls_cert", "tls_key", "haproxy_cfg")}


def _render(tmp_path, inventory="localhost,", **overrides):
    # Extra vars: above the role's defaults loaded as vars_files.
    extra = {
        "jupyter_image_ref": "registry.lab:5000/condaswarm/jupyter:abc",
        "jupyter_stack_nfs_volume_options": {"type": "nfs", "o": "addr=10.0.0.5,nfsvers=4.2,rw", "device": ":/nb"},
        "_jupyter_stack_objects": OBJECTS,
        **overrides,
    }
    if "_jupyter_stack_read" not in extra:
        extra["_jupyter_stack_cookie_key"] = "k" * 32
    compose, cfg = render_templates(
        tmp_path,
        "jupyter_stack",
        ["compose.yml.j2", "haproxy.cfg.j2"],
        vars_files=["defaults/main.yml", "vars/main.yml"],
        extra=extra,
        inventory=inventory,
    )
    return yaml.safe_load(compose.read_text()), cfg.read_text()


def test_jupyter_service(tmp_path):
    compose, _ = _render(tmp_path)
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


def test_proxy_service_on_managers_with_host_ports(tmp_path):
    compose, _ = _render(tmp_path)
    proxy = compose["services"]["proxy"]
    assert proxy["deploy"]["mode"] == "global"
    assert proxy["deploy"]["placement"]["constraints"] == ["node.role == manager"]
    assert {(p["published"], p["target"], p["mode"]) for p in proxy["ports"]} == {
        (80, 8080, "host"),
        (443, 8443, "host"),
    }


def test_bind_storage_and_ssh_door(tmp_path):
    compose, _ = _render(
        tmp_path,
        jupyter_stack_storage="bind",
        jupyter_stack_ssh=True,
        _jupyter_stack_objects=OBJECTS | {"ssh_authorized_keys": "k_v1"},
    )
    assert compose["volumes"] == {"ssh_host_keys": {}}
    assert compose["services"]["jupyter"]["volumes"][0]["type"] == "bind"
    assert compose["services"]["ssh"]["ports"][0]["mode"] == "host"
    assert compose["secrets"]["ssh_authorized_keys"]["name"] == "k_v1"


def test_cis_5_29_every_service_has_a_pids_limit(tmp_path):
    compose, _ = _render(
        tmp_path,
        jupyter_stack_storage="bind",
        jupyter_stack_ssh=True,
        _jupyter_stack_objects=OBJECTS | {"ssh_authorized_keys": "k_v1"},
    )
    # deploy.resources.limits.pids is in the compose schema from 3.9 on (the 20.10 CLI refuses it in 3.8).
    assert compose["version"] == "3.9"
    limits = {name: svc["deploy"]["resources"]["limits"].get("pids") for name, svc in compose["services"].items()}
    assert limits == {"jupyter": 4096, "proxy": 512, "ssh": 4096}


def test_pids_limit_zero_sets_none(tmp_path):
    compose, _ = _render(tmp_path, jupyter_stack_pids_limits={"jupyter": 0, "proxy": 0, "ssh": 0})
    assert compose["services"]["jupyter"]["deploy"]["resources"]["limits"] == {"cpus": "2", "memory": "2G"}
    assert "resources" not in compose["services"]["proxy"]["deploy"]


@pytest.mark.parametrize(("encrypted", "driver_opts"), [(False, None), (True, {"encrypted": ""})])
def test_cis_7_3_encrypted_overlay_is_an_option(tmp_path, encrypted, driver_opts):
    compose, _ = _render(tmp_path, jupyter_stack_network_encrypted=encrypted)
    assert compose["networks"]["backend"]["driver"] == "overlay"
    assert compose["networks"]["backend"].get("driver_opts") == driver_opts


@pytest.mark.parametrize(("base_url", "check"), [("/", "GET /api"), ("lab", "GET /lab/api"), ("/a/b/", "GET /a/b/api")])
def test_haproxy_follows_base_url_and_stack_name(tmp_path, base_url, check):
    _, cfg = _render(tmp_path, jupyter_stack_base_url=base_url, jupyter_stack_name="science")
    assert f"option httpchk {check}\n" in cfg
    assert "tasks.science_jupyter:8888" in cfg
    assert "cookie SCIENCE_REPLICA insert indirect nocache dynamic" in cfg
    assert "option redispatch" in cfg


@pytest.mark.parametrize("checksum", ["0" * 40, "f" * 40])
def test_haproxy_cookie_key_follows_the_cookie_secrets_checksum(tmp_path, checksum):
    """The secret stays on the manager; the proxy's cookie key is derived from its checksum."""
    cookie_secret = {"exists": True, "type": "file", "mode": "0600", "checksum": checksum}
    read = {"files": {"/etc/condaswarm/jupyter_stack/cookie_secret": cookie_secret}}
    _, cfg = _render(tmp_path, _jupyter_stack_read=read)
    key = hashlib.sha256(f"haproxy {checksum}".encode()).hexdigest()[:32]
    assert f'dynamic-cookie-key "{key}"\n' in cfg
