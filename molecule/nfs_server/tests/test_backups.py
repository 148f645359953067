"""restic backups of the share: the timer's service backs up, restore_notebooks.yml brings back one user's directory
and then everything, identical in content, owners and modes; the password shows nowhere; the metric is fresh.

The tests run in file order and build on each other (one data set, one repository).
"""

import os
import re
import time
from pathlib import Path

import pytest
from conftest import run_playbook

testinfra_hosts = ["ansible://nfs_server-server"]
PLAYBOOK = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "playbooks" / "restore_notebooks.yml"
SHARE = "/srv/nfs/notebooks"
UNIT = "condaswarm-backup@notebooks"
PASSWORD = "molecule-restic-passw0rd"  # molecule.yml's backups_password
FILES = 403  # in DATA
PROM = "/var/lib/prometheus/node-exporter/condaswarm_backup_notebooks.prom"
# Two users (non-root owners, specific modes, a symlink, a hidden file) and bulk data to measure with:
# 400 files of 16 KiB and one of 48 MiB, all random (restic cannot compress or deduplicate them away).
DATA = f"""
set -e
install -d -o 1001 -g 100 -m 0750 {SHARE}/alice {SHARE}/alice/project
printf '{{"cells": []}}\\n' > {SHARE}/alice/project/analysis.ipynb
chown 1001:100 {SHARE}/alice/project/analysis.ipynb && chmod 0640 {SHARE}/alice/project/analysis.ipynb
echo secret > {SHARE}/alice/.token && chown 1001:1001 {SHARE}/alice/.token && chmod 0600 {SHARE}/alice/.token
ln -s project/analysis.ipynb {SHARE}/alice/latest && chown -h 1001:100 {SHARE}/alice/latest
install -d -o 1002 -g 100 -m 2770 {SHARE}/bob {SHARE}/bob/bulk
for i in $(seq 1 400); do head -c 16384 /dev/urandom > {SHARE}/bob/bulk/part-$i; done
head -c 50331648 /dev/urandom > {SHARE}/bob/big.bin
chown -R 1002:100 {SHARE}/bob/bulk {SHARE}/bob/big.bin && chmod 0604 {SHARE}/bob/big.bin
"""
# Type, owner, group, mode, size, link target and (for files) mtime and checksum of every entry.
MANIFEST = (
    "cd {root} && find . -printf '%p %y %U %G %m %s %l %T@\\n' | sed -E 's/ ([0-9]+)\\.[0-9]+$/ \\1/' | sort"
    " && find . -type f -print0 | sort -z | xargs -0r sha256sum"
)


def manifest(host, root=SHARE):
    out = host.check_output(MANIFEST.format(root=root))
    # A directory's mtime changes when the restore writes into it: compare it for files and links only.
    return [re.sub(r" \d+$", "", line) if " d " in line else line for line in out.splitlines()]


def restore(**extra):
    return run_playbook(PLAYBOOK, extra_vars={"restore_notebooks_confirm": False, **extra})


@pytest.fixture(scope="module")
def data(host):
    host.check_output(DATA)
    return manifest(host)


def test_timer_enabled_and_scheduled(host):
    assert host.service(f"{UNIT}.timer").is_enabled
    assert host.service(f"{UNIT}.timer").is_running
    assert host.check_output(f"systemctl show -p NextElapseUSecRealtime --value {UNIT}.timer")


def test_backup_runs_without_showing_the_password(host, data, report):
    # Started as the timer starts it; the loop samples every process's command line while the job runs.
    script = (
        f"systemctl start --no-block {UNIT}.service; start=$(date +%s%N); "
        f'while [ "$(systemctl show -p ActiveState --value {UNIT}.service)" != inactive ]; do '
        f'[ "$(systemctl show -p ActiveState --value {UNIT}.service)" != failed ] || exit 1; '
        "ps -eo args; sleep 0.1; done; "
        'echo "ELAPSED_MS $(( ($(date +%s%N) - start) / 1000000 ))"'
    )
    run = host.run(script)
    assert run.rc == 0, run.stdout + run.stderr + host.run(f"journalctl -u {UNIT} --no-pager").stdout
    assert "restic backup" in run.stdout, "the sampling never saw restic running"
    assert PASSWORD not in run.stdout
    seconds = int(run.stdout.split("ELAPSED_MS ")[-1]) / 1000
    report(f"nfs_server backup of the share ({FILES} files, 54 MiB), backup service: {seconds:.1f} s")
    assert host.service(f"{UNIT}.service").systemd_properties["Result"] == "success"
    for path in ("/etc/systemd/system/condaswarm-backup@.service", "/etc/systemd/system/condaswarm-backup@.timer",
                 "/usr/local/sbin/condaswarm-backup", "/usr/local/sbin/condaswarm-restic",
                 "/etc/condaswarm-backups/restic.env"):  # fmt: skip
        assert PASSWORD not in host.file(path).content_string, path
    assert PASSWORD not in host.check_output("journalctl --no-pager -o cat")
    password = host.file("/etc/condaswarm-backups/password")
    assert (password.user, password.group, password.mode) == ("root", "root", 0o600)
    assert host.file("/etc/condaswarm-backups").mode == 0o700


def test_metric_has_a_recent_timestamp(host):
    prom = host.file(PROM)
    assert prom.mode == 0o644
    value = re.search(r'^condaswarm_backup_last_success_timestamp_seconds\{backup="notebooks"\} (\d+)$',
                      prom.content_string, re.M)  # fmt: skip
    assert value, prom.content_string
    assert abs(int(host.check_output("date +%s")) - int(value.group(1))) < 300
    # Written by rename: no temporary file is left beside it.
    assert host.check_output("ls -A /var/lib/prometheus/node-exporter") == "condaswarm_backup_notebooks.prom"


def test_bad_input_changes_nothing(host, data):
    for extra, variable in (({"user": "../etc"}, "user"), ({"user": "alice", "snapshot": "nothex!"}, "snapshot")):
        run = restore(**extra)
        assert run.rc != 0, run.output
        assert f"{variable}: " in run.output, run.output
        assert run.changed == 0, run.output
    assert manifest(host) == data


def test_restore_one_user(host, data, report):
    host.check_output(f"rm -rf {SHARE}/alice/project && echo later > {SHARE}/alice/new.txt && chmod 0777 {SHARE}/alice")
    host.check_output(f"echo untouched > {SHARE}/bob/after-backup")
    start = time.monotonic()
    run = restore(user="alice")
    elapsed = time.monotonic() - start
    assert run.rc == 0, run.output
    assert "PLAY RECAP" in run.output and PASSWORD not in run.output
    report(f"nfs_server restore_notebooks.yml user=alice (playbook, 3 files and a link): {elapsed:.1f} s")
    bob = [line for line in data if line.startswith("./bob")] + ["./bob/after-backup"]
    after = manifest(host)
    assert [line for line in after if "alice" in line] == [line for line in data if "alice" in line]
    # Only alice's directory was replaced: bob's file written after the backup is still there.
    assert any(line.startswith("./bob/after-backup ") for line in after), bob
    host.check_output(f"rm {SHARE}/bob/after-backup")


def test_restore_everything(host, data, report):
    host.check_output(f"rm -rf {SHARE}/alice {SHARE}/bob/bulk && echo new > {SHARE}/carol.txt")
    start = time.monotonic()
    run = restore(everything=True, snapshot="latest")
    elapsed = time.monotonic() - start
    assert run.rc == 0, run.output
    report(f"nfs_server restore_notebooks.yml everything=true (playbook, {FILES} files, 54 MiB): {elapsed:.1f} s")
    assert manifest(host) == data
    # The state just before the restore was kept, under its own tag.
    tags = host.check_output("/usr/local/sbin/condaswarm-restic snapshots --json --tag pre-restore")
    assert tags.count('"pre-restore"') >= 2
