"""Backup and restore benchmark on the lab (`make lab` first): the notebooks share on the storage node.

    python bench/backup_restore.py                # 200 files of 64 KiB and one of 32 MiB beside the notebooks

What it does, timing each step:
  1. saves two notebooks through Jupyter (the proxy, logged in: the replicas write to the storage node's export)
     and writes bulk data straight into the export as the notebook user (uid 1000, gid 100), with a file of mode
     0600 and a symlink;
  2. records a manifest of the export (type, owner, group, mode, size, link target, mtime, sha256 of every file);
  3. backup: starts condaswarm-backup@notebooks.service on the storage node as its timer does, until it ends;
  4. incremental backup: the same again after one notebook changed;
  5. restore one directory: removes the bulk directory, runs playbooks/restore_notebooks.yml -e user=<dir>;
  6. restore everything: removes the notebooks and the bulk data, adds a stray file, runs
     restore_notebooks.yml -e everything=true (the latest snapshot: the role's retention, one a day, has already
     forgotten the first backup of today);
  7. checks the manifest equals the one taken before that snapshot, and Jupyter serves the changed notebook.
Raw results go to bench/results/backup_restore.json; the summary is printed. The data it wrote is removed.
"""

import argparse
import json
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from failover import ROOT, Client, on

RESULTS = ROOT / "bench" / "results"
SHARE = "/srv/nfs/notebooks"
BULK = "bench-bulk"
UNIT = "condaswarm-backup@notebooks"
NOTEBOOKS = ("bench-one.ipynb", "bench-two.ipynb")
MANIFEST = (
    "cd {root} && find . -printf '%p %y %U %G %m %s %l %T@\\n' | sed -E 's/ ([0-9]+)\\.[0-9]+$/ \\1/' | sort"
    " && find . -type f -print0 | sort -z | xargs -0r sha256sum"
)


def notebook(text):
    return {
        "type": "notebook",
        "format": "json",
        "content": {
            "cells": [{"cell_type": "markdown", "metadata": {}, "source": text}],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        },
    }


def manifest(storage):
    lines = on(storage, "bash", "-c", MANIFEST.format(root=SHARE)).splitlines()
    # A directory's mtime changes when the restore writes into it: compared for files and links only.
    return [line.rsplit(" ", 1)[0] if " d " in line else line for line in lines]


def timed(step, results, fn):
    started = time.monotonic()
    value = fn()
    results[step] = round(time.monotonic() - started, 1)
    print(f"{step}: {results[step]} s")
    return value


def backup(storage):
    script = (
        f"systemctl start --no-block {UNIT}.service; "
        f'while [ "$(systemctl show -p ActiveState --value {UNIT}.service)" != inactive ]; do '
        f'[ "$(systemctl show -p ActiveState --value {UNIT}.service)" != failed ] || exit 1; sleep 0.2; done'
    )
    on(storage, "bash", "-c", script)
    if on(storage, "systemctl", "show", "-p", "Result", "--value", f"{UNIT}.service") != "success":
        raise SystemExit(on(storage, "journalctl", "-u", UNIT, "-n", "30", "--no-pager", check=False))
    listing = on(storage, "/usr/local/sbin/condaswarm-restic", "snapshots", "--json", "--tag", "notebooks")
    snapshots = json.loads(listing)
    return snapshots[-1]["short_id"]


def restore(inventory, **extra):
    cmd = ["ansible-playbook", "-i", inventory, str(ROOT / "playbooks" / "restore_notebooks.yml")]
    cmd += ["-e", json.dumps({"restore_notebooks_confirm": False, **extra})]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(proc.stdout[-4000:] + proc.stderr[-2000:])


def main(args):
    storage, results = args.storage, {"started": datetime.now(UTC).isoformat(timespec="seconds")}
    client = Client(args.url, args.password)
    for name in NOTEBOOKS:
        r = client.s.put(
            args.url + f"api/contents/{name}",
            json=notebook(f"written by bench at {results['started']}"),
            headers={"X-XSRFToken": client.s.cookies.get("_xsrf", "")},
            timeout=10,
        )
        r.raise_for_status()
    data = (
        f"set -e; install -d -o 1000 -g 100 -m 0750 {SHARE}/{BULK}; cd {SHARE}/{BULK}; "
        f"for i in $(seq 1 {args.files}); do head -c 65536 /dev/urandom > part-$i; done; "
        f"head -c {args.big_mib * 1048576} /dev/urandom > big.bin; echo token > .token; chmod 0600 .token; "
        "ln -s big.bin latest; chown -h 1000:100 . * .token latest"
    )
    on(storage, "bash", "-c", data)
    results["data"] = on(storage, "du", "-sh", SHARE).split()[0]
    files = int(on(storage, "bash", "-c", f"find {SHARE} -type f | wc -l"))
    results["files"] = files
    first = manifest(storage)
    results["snapshot_first"] = timed("backup_s", results, lambda: backup(storage))

    client.s.put(
        args.url + f"api/contents/{NOTEBOOKS[0]}",
        json=notebook("changed after the first backup"),
        headers={"X-XSRFToken": client.s.cookies.get("_xsrf", "")},
        timeout=10,
    ).raise_for_status()
    second = manifest(storage)
    results["snapshot_second"] = timed("incremental_backup_s", results, lambda: backup(storage))

    on(storage, "rm", "-rf", f"{SHARE}/{BULK}")
    timed("restore_one_dir_s", results, lambda: restore(args.inventory, user=BULK))
    bulk_ok = [line for line in manifest(storage) if BULK in line] == [line for line in first if BULK in line]

    on(storage, "bash", "-c", f"rm -rf {SHARE}/{BULK} {SHARE}/bench-*.ipynb && echo stray > {SHARE}/stray.txt")
    timed(
        "restore_everything_s",
        results,
        lambda: restore(args.inventory, everything=True),
    )
    after = manifest(storage)
    results["identical_one_dir"] = bulk_ok
    results["identical_everything"] = after == second
    served = client.api("GET", f"api/contents/{NOTEBOOKS[0]}").json()["content"]["cells"][0]["source"]
    results["served_after_restore"] = served == "changed after the first backup"
    if not results["identical_everything"]:
        results["diff"] = sorted(set(second) ^ set(after))[:20]

    on(storage, "bash", "-c", f"rm -rf {SHARE}/{BULK} {SHARE}/bench-*.ipynb {SHARE}/.ipynb_checkpoints/bench-*")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "backup_restore.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    if not (bulk_ok and results["identical_everything"] and results["served_after_restore"]):
        raise SystemExit("the restored share differs from the backup")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200, help="bulk files of 64 KiB")
    parser.add_argument("--big-mib", type=int, default=32, help="size of the one big file")
    parser.add_argument("--url", default="https://127.0.0.1:8443/")
    parser.add_argument("--password-file", default=str(ROOT / ".lab" / "jupyter_password"))
    parser.add_argument("--storage", default="lab-nfs1")
    parser.add_argument("--inventory", default=str(ROOT / "lab"))
    args = parser.parse_args()
    args.password = Path(args.password_file).read_text().strip()
    main(args)
