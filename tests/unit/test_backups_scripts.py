"""The backups role's scripts, run against a fake restic: what they ask restic, when they write the metric."""

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

FILES = Path(__file__).resolve().parents[2] / "roles" / "backups" / "files"
SCRIPTS = sorted(FILES.iterdir())
# Records each call, one line of arguments; fails the subcommand named in FAIL with FAIL_RC.
FAKE_RESTIC = """#!/bin/bash
echo "$*" >> "$CALLS"
[ "${FAIL:-}" != "$1" ] || exit "${FAIL_RC:-1}"
"""


@pytest.fixture
def setup(tmp_path):
    conf, textfile = tmp_path / "conf", tmp_path / "textfile"
    conf.mkdir()
    textfile.mkdir()
    (conf / "backup.conf").write_text(f"KEEP_DAILY=7\nKEEP_WEEKLY=4\nKEEP_MONTHLY=0\nTEXTFILE_DIR={textfile}\n")
    (tmp_path / "data").mkdir()
    (conf / "notebooks.paths").write_text(f"{tmp_path / 'data'}\n{tmp_path / 'missing'}\n")
    (conf / "notebooks.exclude").write_text("")
    restic = tmp_path / "restic"
    restic.write_text(FAKE_RESTIC)
    restic.chmod(0o755)
    env = {
        **os.environ,
        "CONDASWARM_BACKUP_CONF": str(conf),
        "CONDASWARM_RESTIC": str(restic),
        "CONDASWARM_BACKUP_LOCK": str(tmp_path / "lock"),
        "CALLS": str(tmp_path / "calls"),
    }
    return tmp_path, env


def backup(env, *args, **extra):
    return subprocess.run(
        ["bash", str(FILES / "condaswarm-backup"), *args],
        check=False,
        env={**env, **extra},
        capture_output=True,
        text=True,
    )


def calls(tmp_path):
    path = tmp_path / "calls"
    return path.read_text().splitlines() if path.exists() else []


def test_backs_up_existing_paths_applies_retention_and_writes_the_metric(setup):
    tmp_path, env = setup
    run = backup(env, "notebooks")
    assert run.returncode == 0, run.stderr
    assert f"{tmp_path / 'missing'} does not exist, skipped" in run.stdout
    host = subprocess.run(["hostname"], capture_output=True, text=True, check=True).stdout.strip()
    assert calls(tmp_path) == [
        f"backup --host {host} --tag notebooks {tmp_path / 'data'}",
        f"forget --prune --host {host} --tag notebooks --group-by host,tags"
        " --keep-daily 7 --keep-weekly 4 --keep-monthly 0",
    ]
    prom = tmp_path / "textfile" / "condaswarm_backup_notebooks.prom"
    assert re.search(r'^condaswarm_backup_last_success_timestamp_seconds\{backup="notebooks"\} \d{10}$',
                     prom.read_text(), re.M)  # fmt: skip
    assert stat.S_IMODE(prom.stat().st_mode) == 0o644
    assert sorted(p.name for p in (tmp_path / "textfile").iterdir()) == [prom.name]  # no temporary file left


def test_paths_on_the_command_line_and_excludes(setup):
    tmp_path, env = setup
    (tmp_path / "conf" / "swarm.exclude").write_text("*.tmp\n")
    run = backup(env, "swarm", str(tmp_path / "data"))
    assert run.returncode == 0, run.stderr
    first = calls(tmp_path)[0]
    assert f"--tag swarm --exclude-file {tmp_path / 'conf' / 'swarm.exclude'} {tmp_path / 'data'}" in first
    assert (tmp_path / "textfile" / "condaswarm_backup_swarm.prom").exists()


@pytest.mark.parametrize("failing", ["backup", "forget"])
def test_a_failed_run_leaves_the_last_success_time(setup, failing):
    tmp_path, env = setup
    prom = tmp_path / "textfile" / "condaswarm_backup_notebooks.prom"
    prom.write_text("old\n")
    # restic exits 3 when a file could not be read: the snapshot is incomplete, the run a failure.
    run = backup(env, "notebooks", FAIL=failing, FAIL_RC="3")
    assert run.returncode == 3
    assert prom.read_text() == "old\n"
    assert [c.split()[0] for c in calls(tmp_path)] == ["backup", "forget"][: 1 + (failing == "forget")]


def test_no_existing_path_fails_without_calling_restic(setup):
    tmp_path, env = setup
    (tmp_path / "data").rmdir()
    run = backup(env, "notebooks")
    assert run.returncode == 1
    assert "none of its paths exists" in run.stderr
    assert calls(tmp_path) == []


def test_condaswarm_restic_reads_the_settings_and_passes_arguments(tmp_path):
    (tmp_path / "restic.env").write_text("RESTIC_REPOSITORY='/srv/restic repo'\nRESTIC_PASSWORD_FILE=/etc/pw\n")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "restic").write_text('#!/bin/bash\necho "$RESTIC_REPOSITORY|$RESTIC_PASSWORD_FILE|$*"\n')
    (bindir / "restic").chmod(0o755)
    env = {**os.environ, "CONDASWARM_BACKUP_CONF": str(tmp_path), "PATH": f"{bindir}:{os.environ['PATH']}"}
    run = subprocess.run(["bash", str(FILES / "condaswarm-restic"), "snapshots", "--json"], env=env,
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert run.stdout == "/srv/restic repo|/etc/pw|snapshots --json\n"


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_scripts_pass_shellcheck(script):
    proc = subprocess.run(["shellcheck", "--format=gcc", str(script)], capture_output=True, text=True, check=False)
    assert proc.stdout == ""
