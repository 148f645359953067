"""Converge benchmark: a fresh lab, site.yml on it, then an idempotent re-run.

    bench/converge.py                    # 1 manager + 2 workers + NFS (3 Swarm nodes + NFS)
    bench/converge.py --workers 4 --managers 1
    bench/converge.py --sizes 3,6,9      # the scale series: Swarm nodes = managers + workers

Each run removes the lab, creates it (playbooks/lab.yml), runs site.yml with the JSON callback and
then once more, and reports the wall time of both runs, the changed count of the re-run, and how the
fresh converge splits between site.yml's plays (one play per role). Raw results go to
bench/results/converge-<nodes>.json.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def run(cmd, env=None, capture=False):
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, env=env, check=True, text=True, capture_output=capture)


def site_yml():
    """Run site.yml on the lab; wall time, changed count, seconds per play."""
    # Only the JSON report on stdout: naming the stdout callback as the one enabled callback replaces
    # ansible.cfg's profile_tasks (an empty list is refused by ansible-core 2.19).
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_CALLBACKS_ENABLED="ansible.posix.json")
    started = time.monotonic()
    out = run(["ansible-playbook", "site.yml", "-i", "lab"], env=env, capture=True).stdout
    wall = time.monotonic() - started
    report = json.loads(out[out.index("{") :])
    per_play = defaultdict(float)
    for play in report["plays"]:
        times = [
            (
                datetime.fromisoformat(task["task"]["duration"]["start"].rstrip("Z")),
                datetime.fromisoformat(task["task"]["duration"]["end"].rstrip("Z")),
            )
            for task in play["tasks"]
            if task["task"].get("duration", {}).get("end")
        ]
        if times:
            per_play[play["play"]["name"]] += (max(e for _, e in times) - min(s for s, _ in times)).total_seconds()
    changed = sum(s["changed"] for s in report["stats"].values())
    failed = sum(s["failures"] + s["unreachable"] for s in report["stats"].values())
    if failed:
        sys.exit(f"site.yml failed on {failed} host(s)")
    return {"wall_s": round(wall, 1), "changed": changed, "plays_s": {k: round(v, 1) for k, v in per_play.items()}}


def one(managers, workers):
    nodes = managers + workers
    run(["bash", "scripts/clean.sh", "--lab"])
    started = time.monotonic()
    run(["ansible-playbook", "playbooks/lab.yml", "-e", f"lab_managers={managers}", "-e", f"lab_workers={workers}"])
    created = time.monotonic() - started
    fresh = site_yml()
    rerun = site_yml()
    result = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "swarm_nodes": nodes,
        "managers": managers,
        "workers": workers,
        "lab_create_s": round(created, 1),
        "fresh": fresh,
        "rerun": rerun,
        "rerun_ratio": round(rerun["wall_s"] / fresh["wall_s"], 3),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"converge-{nodes}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--managers", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sizes", help="comma-separated Swarm node counts (1 manager, the rest workers)")
    args = parser.parse_args()
    if args.sizes:
        results = [one(1, int(n) - 1) for n in args.sizes.split(",")]
        base = results[0]["fresh"]["wall_s"]
        for r in results:
            print(
                f"{r['swarm_nodes']} nodes: fresh {r['fresh']['wall_s']} s ({r['fresh']['wall_s'] / base:.2f}x), "
                f"re-run {r['rerun']['wall_s']} s"
            )
    else:
        one(args.managers, args.workers)


if __name__ == "__main__":
    main()
