"""Rolling-update benchmark on the lab (`make lab` first): update the Jupyter image while users poll.

    bench/rolling_update.py --rounds 3

Each round pushes the current image under a new tag (so the service spec changes and every replica
is replaced, start-first, one at a time) and runs playbooks/update_service.yml, which waits until the
update converges, while clients poll the proxy every 0.1 s: logged-in clients (GET /api/contents
with their cookies: anything but 200 counts as a failure, a 403 would mean a lost login) and an
anonymous one (GET /api). Reported per round: requests, failed requests, the update's duration.
Raw results go to bench/results/rolling_update.json.
"""

import argparse
import json
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

import requests
from failover import ROOT, SERVICE, Client, on

RESULTS = ROOT / "bench" / "results"


class Poller(threading.Thread):
    def __init__(self, call):
        super().__init__(daemon=True)
        self.call, self.ok, self.failed, self.errors = call, 0, 0, []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                status = self.call()
            except requests.RequestException as exc:
                status = type(exc).__name__
            if status == 200:
                self.ok += 1
            else:
                self.failed += 1
                self.errors.append(status)
            time.sleep(0.1)


def anonymous(url):
    s = requests.Session()
    s.verify, s.trust_env = False, False
    return lambda: s.get(url + "api", timeout=5).status_code


def one_round(args, n):
    image = on(
        args.manager, "docker", "service", "inspect", SERVICE, "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}"
    )
    image = image.split("@")[0]
    new = f"{image.rsplit(':', 1)[0]}:bench-{int(time.time())}"
    on(args.manager, "docker", "tag", image, new)
    on(args.manager, "docker", "push", new)
    pollers = [Poller(Client(args.url, args.password).served_status) for _ in range(args.clients)]
    pollers.append(Poller(anonymous(args.url)))
    for p in pollers:
        p.start()
    time.sleep(2)
    started = time.monotonic()
    subprocess.run(
        [
            "ansible-playbook",
            "playbooks/update_service.yml",
            "-i",
            "lab",
            "-e",
            f"service={SERVICE}",
            "-e",
            f"image={new}",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    duration = time.monotonic() - started
    time.sleep(2)
    for p in pollers:
        p.stop.set()
        p.join()
    result = {
        "round": n,
        "image": new,
        "update_s": round(duration, 1),
        "requests": sum(p.ok + p.failed for p in pollers),
        "failed": sum(p.failed for p in pollers),
        "errors": [e for p in pollers for e in p.errors][:20],
    }
    print(
        f"round {n}: update {result['update_s']} s, {result['requests']} requests, {result['failed']} failed",
        flush=True,
    )
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=3, help="logged-in clients polling (plus one anonymous)")
    parser.add_argument("--url", default="https://127.0.0.1:8443/")
    parser.add_argument("--password-file", default=str(ROOT / ".lab" / "jupyter_password"))
    parser.add_argument("--manager", default="lab-manager1")
    args = parser.parse_args()
    args.password = Path(args.password_file).read_text().strip()
    results = [one_round(args, n + 1) for n in range(args.rounds)]
    summary = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "rounds": results,
        "failed_total": sum(r["failed"] for r in results),
        "requests_total": sum(r["requests"] for r in results),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "rolling_update.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "rounds"}, indent=2))


if __name__ == "__main__":
    main()
