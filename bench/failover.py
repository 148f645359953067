"""Failover benchmark on the lab (`make lab` first): kill the worker that serves a logged-in user.

    python bench/failover.py --trials 10                    # one failure per trial
    python bench/failover.py --two-failures --trials 10     # two failures in a row (3 workers or more)

One failure per trial, from a steady state (full replica count, replicas on every worker):
  1. a client logs in through the proxy and starts a kernel; the kernel's connection file tells
     which worker serves this user (the sticky cookie keeps the user there);
  2. that worker's container is killed (`docker kill`: no clean shutdown, as a power cut);
  3. serve_s: seconds until the proxy serves the same client again, still logged in
     (GET /api/contents with the same cookies answers 200; a 403 would mean logged out);
  4. full_s: seconds until the service runs its full replica count on the surviving nodes;
  5. the worker is started again, rejoins, and the replicas are spread again (scale +1, then back)
     before the next trial.

Two failures in a row (--two-failures): the bench never moves a replica itself. Each trial starts from
the placement the platform left (full count, every worker Ready) and:
  1. kills worker A, the one that serves a logged-in client (serve_s, full_s as above);
  2. starts A again and waits until it is Ready and the placement is spread again, by the platform
     alone: no worker holds every replica (spread_s, from A's start);
  3. kills worker B, the one that holds the most replicas, with a client logged in on it (a new login
     until the sticky cookie lands there): serve_s and full_s of the second failure;
  4. starts B again.
Raw results go to bench/results/failover[-two][-<tag>].json; the summary is printed.
"""

import argparse
import json
import statistics
import subprocess
import time
from datetime import UTC, datetime
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


def node_ready(manager, worker):
    return on(manager, "docker", "node", "inspect", worker, "--format", "{{.Status.State}}", check=False) == "ready"


def placement(manager):
    """Running replicas per node."""
    counts = {}
    for node in running_on(manager):
        counts[node] = counts.get(node, 0) + 1
    return counts


def logged_in_on(args, workers, worker=None, attempts=12):
    """A logged-in client with a kernel, and the worker that serves it (on `worker` if given)."""
    for _ in range(attempts):
        client = Client(args.url, args.password)
        kernel = client.api("POST", "api/kernels").json()["id"]
        serving = serving_worker(workers, kernel)
        if serving is not None and worker in (None, serving):
            return client, serving
        client.api("DELETE", f"api/kernels/{kernel}")
    raise SystemExit(f"could not log a client in on {worker or 'any replica'}")


def swarm_time(text):
    """A Swarm timestamp (2026-12-02 07:35:05.157267761 +0000 UTC) as epoch seconds."""
    day, clock = text.split()[:2]
    whole, _, frac = clock.partition(".")
    stamp = datetime.strptime(f"{day} {whole}", "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()
    return stamp + float("0." + (frac or "0"))


def replacements(manager, killed_at):
    """Where the time of the full count went, for the tasks Swarm created after the kill: seconds from the
    kill until each was created (down detection and the restart delay) and until it ran (scheduling, image,
    container start, first passing healthcheck)."""
    ids = on(manager, "docker", "service", "ps", "-q", "--filter", "desired-state=running", SERVICE).split()
    fmt = "{{.CreatedAt}}|{{.Status.State}}|{{.Status.Timestamp}}"
    out = []
    for line in on(manager, "docker", "inspect", "--format", fmt, *ids).splitlines() if ids else []:
        created, state, stamp = line.split("|")
        if swarm_time(created) >= killed_at:
            out.append(
                {
                    "created_s": round(swarm_time(created) - killed_at, 1),
                    "running_s": round(swarm_time(stamp) - killed_at, 1) if state == "running" else None,
                }
            )
    return out


def kill(args, manager, client, victim, want):
    """Kill the victim; seconds until the client is served again and until the full count."""
    started = time.monotonic()
    args.killed_at = time.time()
    sh("docker", "kill", victim)
    serve = full = None
    while time.monotonic() - started < args.timeout and (serve is None or full is None):
        if serve is None and client.served():
            serve = time.monotonic() - started
        if full is None and len(running_on(manager, exclude=(victim,))) >= want:
            full = time.monotonic() - started
        time.sleep(0.2)
    return round(serve, 1) if serve else None, round(full, 1) if full else None


def restart(victim):
    sh("docker", "start", victim)
    wait(lambda: on(victim, "systemctl", "is-active", "docker", check=False) == "active", 120)


def trial(args, manager, workers, want):
    steady(manager, workers, want)
    client, victim = logged_in_on(args, workers)
    serve, full = kill(args, manager, client, victim, want)
    new_tasks = replacements(manager, args.killed_at)
    restart(victim)
    return {"victim": victim, "serve_s": serve, "full_s": full, "new_tasks": new_tasks}


def spread(counts, want):
    """The platform's promise: no worker holds every replica, so a worker's loss leaves one serving."""
    return sum(counts.values()) >= want and max(counts.values(), default=0) < want


def two_failures(args, manager, workers, want):
    if not wait(lambda: all(node_ready(manager, w) for w in workers), 120):
        raise SystemExit("a worker is not Ready")
    if not wait(lambda: len(running_on(manager)) == want, 120):
        raise SystemExit("the service did not come back to its replica count")
    before = placement(manager)
    client, first = logged_in_on(args, workers)
    serve1, full1 = kill(args, manager, client, first, want)
    new_tasks1 = replacements(manager, args.killed_at)
    after_first = placement(manager)
    back = time.monotonic()
    sh("docker", "start", first)
    if not wait(lambda: node_ready(manager, first) and spread(placement(manager), want), args.timeout):
        raise SystemExit(f"{first} did not come back, or the placement was not spread again: {placement(manager)}")
    spread_s = round(time.monotonic() - back, 1)
    counts = placement(manager)
    # The worst case of a second failure: the worker that holds the most replicas, serving the client.
    second = max(sorted(counts), key=counts.get)
    client, _ = logged_in_on(args, workers, worker=second)
    serve2, full2 = kill(args, manager, client, second, want)
    new_tasks2 = replacements(manager, args.killed_at)
    after_second = placement(manager)
    restart(second)
    return {
        "first": first,
        "placement_before": before,
        "serve_s": serve1,
        "full_s": full1,
        "new_tasks": new_tasks1,
        "placement_after_first": after_first,
        "spread_s": spread_s,
        "placement_before_second": counts,
        "second": second,
        "serve2_s": serve2,
        "full2_s": full2,
        "new_tasks2": new_tasks2,
        "placement_after_second": after_second,
    }


def stats(values):
    values = [v for v in values if v is not None]
    return {
        "n": len(values),
        "median_s": statistics.median(values) if values else None,
        "max_s": max(values) if values else None,
    }


def service_settings(manager):
    """What the failover depends on, as deployed (so a result file says what it measured)."""
    fmt = (
        "{{json .Spec.TaskTemplate.Placement}}|{{json .Spec.TaskTemplate.ContainerSpec.Healthcheck}}"
        "|{{json .Spec.TaskTemplate.RestartPolicy}}"
    )
    place, health, restart_policy = on(manager, "docker", "service", "inspect", SERVICE, "--format", fmt).split("|")
    heartbeat = on(manager, "docker", "info", "--format", "{{.Swarm.Cluster.Spec.Dispatcher.HeartbeatPeriod}}")
    return {
        "placement": json.loads(place),
        "healthcheck": json.loads(health),
        "restart_policy": json.loads(restart_policy),
        "heartbeat_period_ns": int(heartbeat) if heartbeat.isdigit() else heartbeat,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--two-failures", action="store_true", help="kill worker A, wait until spread, kill B")
    parser.add_argument("--tag", default="", help="suffix of the result file (e.g. defaults)")
    parser.add_argument("--url", default="https://127.0.0.1:8443/")
    parser.add_argument("--password-file", default=str(ROOT / ".lab" / "jupyter_password"))
    parser.add_argument("--manager", default="lab-manager1")
    parser.add_argument("--timeout", type=float, default=90)
    args = parser.parse_args()
    args.password = Path(args.password_file).read_text().strip()
    names = on(args.manager, "docker", "node", "ls", "--filter", "role=worker", "--format", "{{.Hostname}}")
    workers = sorted(names.split())
    want = replicas(args.manager)
    if args.two_failures and len(workers) < 3:
        print("note: with 2 workers the survivor of the first failure may hold every replica", flush=True)
    results = []
    for i in range(args.trials):
        if args.two_failures:
            r = two_failures(args, args.manager, workers, want)
            print(
                f"trial {i + 1}: killed {r['first']} {r['placement_before']}: served after {r['serve_s']} s, "
                f"full count after {r['full_s']} s; back and spread {r['spread_s']} s after its start "
                f"{r['placement_before_second']}; killed {r['second']}: served after {r['serve2_s']} s, "
                f"full count after {r['full2_s']} s",
                flush=True,
            )
        else:
            r = trial(args, args.manager, workers, want)
            print(
                f"trial {i + 1}: killed {r['victim']}, served again after {r['serve_s']} s, "
                f"full replica count after {r['full_s']} s",
                flush=True,
            )
        results.append(r)
    summary = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "mode": "two-failures" if args.two_failures else "single",
        "workers": len(workers),
        "replicas": want,
        "settings": service_settings(args.manager),
        "trials": len(results),
        "served_again": sum(r["serve_s"] is not None for r in results),
        "serve": stats([r["serve_s"] for r in results]),
        "full": stats([r["full_s"] for r in results]),
    }
    if args.two_failures:
        summary.update(
            {
                "served_again_second": sum(r["serve2_s"] is not None for r in results),
                "serve_second": stats([r["serve2_s"] for r in results]),
                "full_second": stats([r["full2_s"] for r in results]),
                "serve_both": stats([r[k] for r in results for k in ("serve_s", "serve2_s")]),
                "full_both": stats([r[k] for r in results for k in ("full_s", "full2_s")]),
                "spread": stats([r["spread_s"] for r in results]),
            }
        )
    summary["results"] = results
    name = "failover" + ("-two" if args.two_failures else "") + (f"-{args.tag}" if args.tag else "")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "results"}, indent=2))


if __name__ == "__main__":
    main()
