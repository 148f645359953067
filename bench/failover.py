"""Failover benchmark on the lab (`make lab` first): kill the worker that serves a logged-in user.

    bench/failover.py --trials 10

Each trial, from a steady state (full replica count, replicas on every worker):
  1. a client logs in through the proxy and starts a kernel; the kernel's connection file tells
     which worker serves this user (the sticky cookie keeps the user there);
  2. that worker's container is killed (`docker kill`: no clean shutdown, as a power cut);
  3. serve_s: seconds until the proxy serves the same client again, still logged in
     (GET /api/contents with the same cookies answers 200; a 403 would mean logged out);
  4. full_s: seconds until the service runs its full replica count on the surviving nodes;
  5. the worker is started again, rejoins, and the replicas are spread again (scale +1, then back)
     before the next trial.
Raw results go to bench/results/failover.json; the summary is printed.
"""

import argparse
import json
import statistics
import subprocess
import time
from datetime import datetime
from pathlib import Path

import requests
import urllib3

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SERVICE = "jupyter_jupyter"
RUNTIME = "/home/jovyan/.local/share/jupyter/runtime"

# The lab's certificate is self-signed and the client does not need to prove anything about TLS here.
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, text=True, capture_output=True).stdout.strip()


def on(node, *cmd, check=True):
    """A command inside a lab node (its own docker CLI talks to its own engine)."""
    return sh("docker", "exec", node, *cmd, check=check)


class Client:
    def __init__(self, url, password):
        self.url = url
        self.s = requests.Session()
        self.s.verify = False
        self.s.trust_env = False
        self.s.get(url + "login", timeout=10)
        r = self.s.post(
            url + "login",
            data={"password": password, "_xsrf": self.s.cookies.get("_xsrf")},
            allow_redirects=False,
            timeout=10,
        )
        if r.status_code != 302:
            raise SystemExit(f"login refused ({r.status_code}): is the password in .lab/jupyter_password current?")

    def api(self, method, path, timeout=10):
        headers = {"X-XSRFToken": self.s.cookies.get("_xsrf", "")}
        return self.s.request(method, self.url + path, headers=headers, timeout=timeout)

    def served_status(self):
        """Status of a logged-in request (200: served and still logged in)."""
        return self.api("GET", "api/contents", timeout=5).status_code

    def served(self):
        try:
            return self.served_status() == 200
        except requests.RequestException:
            return False


def tasks(manager):
    """(node name, current state) of the service's tasks that should run."""
    out = on(
        manager,
        "docker",
        "service",
        "ps",
        SERVICE,
        "--filter",
        "desired-state=running",
        "--format",
        "{{.Node}}|{{.CurrentState}}",
    )
    return [tuple(line.split("|", 1)) for line in out.splitlines() if line]


def replicas(manager):
    return int(on(manager, "docker", "service", "inspect", SERVICE, "--format", "{{.Spec.Mode.Replicated.Replicas}}"))


def running_on(manager, exclude=()):
    return [n for n, state in tasks(manager) if state.startswith("Running") and n not in exclude]


def wait(predicate, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def serving_worker(workers, kernel_id):
    """The worker whose Jupyter replica holds the kernel's connection file."""
    for worker in workers:
        label = f"label=com.docker.swarm.service.name={SERVICE}"
        for cid in on(worker, "docker", "ps", "-q", "--filter", label).split():
            probe = [
                "docker",
                "exec",
                worker,
                "docker",
                "exec",
                cid,
                "test",
                "-e",
                f"{RUNTIME}/kernel-{kernel_id}.json",
            ]
            if subprocess.run(probe, check=False).returncode == 0:
                return worker
    return None


def steady(manager, workers, want):
    """Full count, Ready workers, a replica on every worker (scale +1 then back spreads them)."""
    wait(
        lambda: all(
            on(manager, "docker", "node", "inspect", w, "--format", "{{.Status.State}}") == "ready" for w in workers
        ),
        120,
    )
    if not wait(lambda: len(running_on(manager)) == want, 120):
        raise SystemExit("the service did not come back to its replica count")
    if set(running_on(manager)) != set(workers):
        on(manager, "docker", "service", "scale", "--detach", f"{SERVICE}={want + 1}")
        wait(lambda: len(running_on(manager)) == want + 1, 120)
        on(manager, "docker", "service", "scale", "--detach", f"{SERVICE}={want}")
        wait(lambda: len(running_on(manager)) == want and set(running_on(manager)) == set(workers), 120)


def trial(args, manager, workers, want):
    steady(manager, workers, want)
    client = Client(args.url, args.password)
    kernel = client.api("POST", "api/kernels").json()["id"]
    victim = serving_worker(workers, kernel)
    if victim is None:
        raise SystemExit("could not find the replica that serves the client")
    started = time.monotonic()
    sh("docker", "kill", victim)
    serve = full = None
    while time.monotonic() - started < args.timeout and (serve is None or full is None):
        if serve is None and client.served():
            serve = time.monotonic() - started
        if full is None and len(running_on(manager, exclude=(victim,))) >= want:
            full = time.monotonic() - started
        time.sleep(0.2)
    sh("docker", "start", victim)
    wait(lambda: on(victim, "systemctl", "is-active", "docker", check=False) == "active", 120)
    return {"victim": victim, "serve_s": round(serve, 1) if serve else None, "full_s": round(full, 1) if full else None}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--url", default="https://127.0.0.1:8443/")
    parser.add_argument("--password-file", default=str(ROOT / ".lab" / "jupyter_password"))
    parser.add_argument("--manager", default="lab-manager1")
    parser.add_argument("--timeout", type=float, default=90)
    args = parser.parse_args()
    args.password = Path(args.password_file).read_text().strip()
    names = on(args.manager, "docker", "node", "ls", "--filter", "role=worker", "--format", "{{.Hostname}}")
    workers = sorted(names.split())
    want = replicas(args.manager)
    results = []
    for i in range(args.trials):
        r = trial(args, args.manager, workers, want)
        results.append(r)
        print(
            f"trial {i + 1}: killed {r['victim']}, served again after {r['serve_s']} s, "
            f"full replica count after {r['full_s']} s",
            flush=True,
        )
    serve = [r["serve_s"] for r in results if r["serve_s"] is not None]
    full = [r["full_s"] for r in results if r["full_s"] is not None]
    summary = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "trials": len(results),
        "served_again": len(serve),
        "serve_median_s": statistics.median(serve) if serve else None,
        "serve_max_s": max(serve) if serve else None,
        "full_median_s": statistics.median(full) if full else None,
        "full_max_s": max(full) if full else None,
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "failover.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "results"}, indent=2))


if __name__ == "__main__":
    main()
