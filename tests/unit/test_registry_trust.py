"""The registry's CA as the engine trusts it (roles/registry/tasks/trust.yml), run on this machine into a
directory of the test's own: CIS Docker Benchmark 3.7 (owned by root) and 3.8 (mode 0444 or stricter)."""

import os
import re
import stat

import pytest
from ansible_play import ROOT, run_play

CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the tasks make root own the file: run as root")


def _trust(tmp_path, run):
    certs = tmp_path / "certs.d" / "registry.lab:5000"
    proc = run_play(
        tmp_path / run,
        [{"ansible.builtin.include_tasks": str(ROOT / "roles" / "registry" / "tasks" / "trust.yml")}],
        extra={"registry_deploy_host": "localhost", "_registry_ca_pem": CA, "registry__certs_dir": str(certs)},
    )
    changed = int(re.search(r"localhost\s*:.*changed=(\d+)", proc.stdout).group(1))
    return certs / "ca.crt", changed


def test_cis_3_7_and_3_8_ca_owned_by_root_and_read_only(tmp_path):
    ca, changed = _trust(tmp_path, "first")
    assert changed == 2, changed  # the directory and the file
    info = ca.stat()
    assert ca.read_text() == CA
    assert stat.S_IMODE(info.st_mode) == 0o444
    assert info.st_uid == 0 and info.st_gid == 0

    assert _trust(tmp_path, "again")[1] == 0

    # A CA an earlier release wrote 0644 (docker-bench-security's 3.8 warning) is put back to 0444.
    ca.chmod(0o644)
    assert _trust(tmp_path, "loosened")[1] == 1
    assert stat.S_IMODE(ca.stat().st_mode) == 0o444
