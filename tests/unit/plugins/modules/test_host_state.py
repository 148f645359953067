"""main() of condaswarm.cluster.host_state end to end, with run_command and get_bin_path faked at the boundary."""

import hashlib
import json
import os
import sys
from pathlib import Path

import pytest
import yaml

COLLECTIONS = Path(__file__).resolve().parents[4] / ".collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

from ansible.module_utils import basic  # noqa: E402
from ansible.module_utils.testing import patch_module_args  # noqa: E402
from ansible_collections.condaswarm.cluster.plugins.module_utils import host_state as hs  # noqa: E402
from ansible_collections.condaswarm.cluster.plugins.modules import host_state  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "host_state"
TOOLS = ("dpkg-query", "getent", "id", "systemctl", "ssh", "ssh-keygen")


def recorded(name):
    return json.loads((FIXTURES / f"{name}.json").read_text())


class Exited(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


class FakeSystem:
    """What AnsibleModule.run_command and get_bin_path see: answers keyed by tool base name and arguments."""

    def __init__(self, tools=TOOLS):
        self.tools = {name: f"/usr/bin/{name}" for name in tools}
        self.answers = {}
        self.calls = []

    @staticmethod
    def key(argv):
        return (os.path.basename(argv[0]), *argv[1:])

    def answer(self, argv, rc=0, stdout="", stderr=""):
        self.answers[self.key(argv)] = (rc, stdout, stderr)

    def replay(self, name, argv=None):
        fixture = recorded(name)
        self.answer(argv or fixture["argv"], fixture["rc"], fixture["stdout"], fixture["stderr"])


@pytest.fixture
def system(monkeypatch):
    fake = FakeSystem()

    def run_command(module, args, environ_update=None, **kwargs):
        assert isinstance(args, list), "the module must pass argv lists, never a shell string"
        assert environ_update == {"LC_ALL": "C", "LANG": "C", "LC_MESSAGES": "C"}
        assert not kwargs.get("use_unsafe_shell")
        fake.calls.append(list(args))
        try:
            return fake.answers[fake.key(args)]
        except KeyError:
            raise AssertionError(f"unexpected command {args}") from None

    def get_bin_path(module, arg, required=False, opt_dirs=None):
        return fake.tools.get(arg)

    def exit_json(module, **kwargs):
        raise Exited(kwargs)

    def fail_json(module, msg, **kwargs):
        raise Exited({"failed": True, "msg": msg, **kwargs})

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", get_bin_path)
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    return fake


def run_main(args, check_mode=False):
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    with patch_module_args(args):
        try:
            host_state.main()
        except Exited as exc:
            # What Ansible would send back must be JSON.
            json.dumps(exc.result)
            return exc.result
    raise AssertionError("main() returned without exit_json or fail_json")


@pytest.fixture
def host(tmp_path, system):
    """A host: a few files, a PAM directory, an sshd binary and alice's keys, the tools answering from recordings."""
    (tmp_path / "etc").mkdir()
    conf = tmp_path / "etc" / "limits.conf"
    conf.write_text("* soft nofile 4096\n")
    conf.chmod(0o644)
    (tmp_path / "etc" / "link.conf").symlink_to(conf)
    pam = tmp_path / "pam.d"
    pam.mkdir()
    (pam / "sshd").write_text("@include common-session\n")
    (pam / "common-session").write_text("session [default=1] pam_permit.so\n-session optional pam_limits.so\n")
    (pam / "login").write_text("# session required pam_limits.so\nsession required pam_unix.so\n")
    sshd = tmp_path / "sshd"
    sshd.write_text("#!/bin/sh\n")
    sshd.chmod(0o755)
    home = tmp_path / "home" / "alice"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "authorized_keys").write_text("ssh-ed25519 AAAA alice@one\n")

    system.replay("dpkg_query")
    system.replay("getent_group")
    system.answer(
        ["getent", "passwd", "root", "nobody", "alice", "no-such-user"],
        2,
        f"root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        f"alice:x:1000:1001::{home}:/bin/bash\n",
    )
    system.answer(["id", "-Gn", "root"], 0, "root\n")
    system.replay("id_nobody")
    system.replay("id_alice")
    system.replay("ssh_v")
    for query in ("kex", "cipher", "mac"):
        system.replay(f"ssh_q_{query}")
    system.answer([str(sshd), "-T"], 0, recorded("sshd_t")["stdout"])
    alice_t = recorded("sshd_t_alice")["stdout"].replace("/etc/ssh/keys/", f"{tmp_path}/keys/")
    system.answer([str(sshd), "-T", "-C", "user=alice,host=localhost,addr=127.0.0.1"], 0, alice_t)
    system.answer(
        ["ssh-keygen", "-lf", str(home / ".ssh" / "authorized_keys")], 0, recorded("ssh_keygen_alice")["stdout"]
    )
    system.replay("systemctl_show")
    return {"root": tmp_path, "conf": conf, "pam": pam, "sshd": str(sshd), "home": home}


def all_options(host):
    return {
        "files": [
            str(host["conf"]),
            {"path": str(host["root"] / "etc" / "link.conf"), "contents": True},
            str(host["root"] / "etc"),
            str(host["root"] / "nothing"),
        ],
        "packages": recorded("dpkg_query")["argv"][3:],
        "groups": recorded("getent_group")["argv"][2:],
        "users": ["root", "nobody", "alice", "no-such-user"],
        "pam": {"dir": str(host["pam"]), "services": ["sshd", "login", "su"]},
        "sshd": {"binary": host["sshd"], "users": ["alice", "no-such-user"]},
        "services": recorded("systemctl_show")["argv"][4:],
    }


def test_everything_in_one_call(host, system):
    result = run_main(all_options(host))
    assert result["changed"] is False
    assert "failed" not in result
    assert set(result) >= {"files", "packages", "groups", "users", "pam", "sshd", "services"}

    conf = host["conf"]
    digest = hashlib.sha1(conf.read_bytes()).hexdigest()
    assert result["files"][str(conf)]["checksum"] == digest
    assert result["files"][str(conf)]["mode"] == "0644"
    assert "text" not in result["files"][str(conf)]
    link = result["files"][str(host["root"] / "etc" / "link.conf")]
    assert (link["type"], link["checksum"], link["text"]) == ("file", digest, "* soft nofile 4096\n")
    assert result["files"][str(host["root"] / "etc")]["type"] == "directory"
    assert result["files"][str(host["root"] / "nothing")] == {"exists": False}

    assert result["packages"]["openssh-client"]["selection"] == "hold"
    assert result["packages"]["no-such-package"] == {
        "installed": False,
        "version": "",
        "selection": "unknown",
        "status": "not-installed",
    }
    assert result["groups"]["ssh-users"] == {"exists": True, "gid": 1000, "members": ["alice", "bob"]}
    assert result["groups"]["no-such-group"] == {"exists": False}
    assert result["users"]["nobody"]["groups"] == ["nogroup"]
    assert result["users"]["no-such-user"] == {"exists": False}
    assert result["pam"] == {
        "sshd": {"exists": True, "has_module": True},
        "login": {"exists": True, "has_module": False},
        "su": {"exists": False, "has_module": False},
    }
    sshd = result["sshd"]
    assert (sshd["present"], sshd["version"]) == (True, "9.2p1")
    assert sshd["effective"]["allowgroups"] == ["ssh-users", "admins"]
    assert sshd["users"]["alice"]["keyfiles"] == [
        f"{host['home']}/.ssh/authorized_keys",
        f"{host['root']}/keys/1000/alice.pub",
    ]
    assert sshd["users"]["alice"]["valid_keys"] == 2
    assert sshd["users"]["no-such-user"] == {"exists": False}
    assert result["services"]["no-such.service"]["exists"] is False
    assert result["services"]["ssh.service"]["enabled"] == "enabled"

    # One getent passwd for users and sshd together: the second section reuses the first's answer.
    assert sum(1 for c in system.calls if c[:2] == ["/usr/bin/getent", "passwd"]) == 1


def test_check_mode_reads_the_same(host, system):
    assert run_main(all_options(host), check_mode=True) == run_main(all_options(host))


def test_only_the_sections_asked(system):
    assert run_main({}) == {"changed": False}
    assert system.calls == []


def test_sshd_absent(host, system):
    system.tools.pop("ssh-keygen")
    result = run_main({"sshd": {"binary": host["sshd"]}})
    assert result["sshd"] == {"present": False}
    assert system.calls == []


def test_sshd_defaults(host, system, monkeypatch):
    result = run_main({"sshd": {"binary": host["sshd"]}})
    assert set(result["sshd"]["supported"]) == {"kex", "cipher", "mac"}
    assert result["sshd"]["users"] == {}


def test_broken_sshd_config_fails_with_sshd_stderr(host, system):
    broken = recorded("sshd_t_broken")
    system.answer([host["sshd"], "-T", "-o", "NoSuchKeyword=yes"], broken["rc"], broken["stdout"], broken["stderr"])
    result = run_main({"sshd": {"binary": host["sshd"], "options": {"NoSuchKeyword": "yes"}}})
    assert result["failed"] is True
    assert "Bad configuration option: NoSuchKeyword" in result["msg"]
    assert result["rc"] == 1
    assert result["cmd"] == [host["sshd"], "-T", "-o", "NoSuchKeyword=yes"]


def test_unreadable_file_fails_naming_it(host, system, monkeypatch):
    secret = host["root"] / "etc" / "tls.key"
    secret.write_text("KEY\n")
    secret.chmod(0)
    real_open = open

    def guarded_open(file, *args, **kwargs):
        # Root reads a mode-0 file anyway: refuse it as the kernel would for anyone else.
        if os.fspath(file) == str(secret):
            raise PermissionError(13, "Permission denied", str(secret))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(hs, "open", guarded_open, raising=False)
    result = run_main({"files": [str(host["conf"]), str(secret)]})
    assert result["failed"] is True
    assert result["msg"].startswith(f"{secret}: exists but cannot be read (Permission denied)")
    assert result["file"] == str(secret)
    # Not "path": AnsibleModule would add that path's stat to the failure.
    assert "files" not in result


def test_non_utf8_contents_fail(host, system):
    path = host["root"] / "etc" / "latin1"
    path.write_bytes(b"caf\xe9\n")
    result = run_main({"files": [{"path": str(path), "contents": True}]})
    assert result["failed"] is True
    assert f"{path}: its contents are not UTF-8" in result["msg"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"packages": ["openssh-server"]}, "dpkg-query was not found on the host"),
        ({"services": ["ssh.service"]}, "systemctl was not found on the host"),
        ({"users": ["root"]}, "getent was not found on the host"),
    ],
)
def test_missing_tools_fail_saying_so(system, args, message):
    system.tools.clear()
    result = run_main(args)
    assert result["failed"] is True
    assert message in result["msg"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"files": ["etc/relative"]}, "is not an absolute path"),
        ({"files": [{"path": "/etc/x", "mode": "0644"}]}, "unknown key(s) mode"),
        ({"pam": {"services": ["sshd"], "type": "sesion"}}, "value of type must be one of"),
        ({"sshd": {"unknown": 1}}, "Unsupported parameters"),
        ({"nonsense": True}, "Unsupported parameters"),
    ],
)
def test_bad_options_fail(system, args, message):
    result = run_main(args)
    assert result["failed"] is True
    assert message in result["msg"]


def test_dpkg_query_error_fails(system):
    system.answer(
        ["dpkg-query", "--show", f"--showformat={hs.DPKG_FORMAT}", "x"], 2, "", "dpkg-query: error: database locked\n"
    )
    result = run_main({"packages": ["x"]})
    assert result["failed"] is True
    assert "database locked" in result["msg"]
    assert result["rc"] == 2


def test_systemctl_without_systemd_fails(system):
    system.answer(
        ["systemctl", "show", f"--property={hs.SYSTEMCTL_PROPERTIES}", "--", "ssh.service"],
        1,
        "",
        "System has not been booted with systemd as init system (PID 1). Can't operate.\n",
    )
    result = run_main({"services": ["ssh.service"]})
    assert result["failed"] is True
    assert "System has not been booted with systemd" in result["msg"]


def test_documentation_is_yaml():
    assert yaml.safe_load(host_state.DOCUMENTATION)["module"] == "host_state"
    assert isinstance(yaml.safe_load(host_state.EXAMPLES), list)
    assert set(yaml.safe_load(host_state.RETURN)) == {"files", "packages", "groups", "users", "pam", "sshd", "services"}


def test_argument_spec_matches_documentation():
    """The options documented are those accepted, same types and defaults (what validate-modules checks)."""
    doc = yaml.safe_load(host_state.DOCUMENTATION)["options"]

    def compare(documented, spec, where):
        assert set(documented) == set(spec), where
        for name, entry in spec.items():
            d = documented[name]
            assert d.get("type", "str") == entry.get("type", "str"), f"{where}.{name}"
            assert d.get("elements") == entry.get("elements"), f"{where}.{name}"
            assert d.get("default") == entry.get("default"), f"{where}.{name}"
            assert d.get("choices") == entry.get("choices"), f"{where}.{name}"
            if "options" in entry:
                compare(d["suboptions"], entry["options"], f"{where}.{name}")

    compare(doc, host_state.ARGUMENT_SPEC, "options")
