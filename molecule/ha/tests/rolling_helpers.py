"""What the engine tests of the ha scenario watch while a playbook rolls through the nodes: the HTTPS entry (a
client that keeps asking it), the Swarm's node list (a manager that answers, its leader, the nodes out of service),
and each node's dockerd start time."""

import subprocess
import threading
import time
from pathlib import Path

import requests
import yaml
from ha_helpers import IPS, MANAGERS, WORKERS, stack, update

NODES = [*MANAGERS, *WORKERS]  # the inventory's `swarm` group, in its order

# The leader's engine restart forces an election, and swarmkit hands no leadership over when an engine stops: the
# others wait out Raft's election timeout (10 ticks of 1 s, randomised by etcd's raft up to twice that) before one
# of them is elected. Up to 20 s without a leader is therefore an ordinary election, not a lost quorum; a lost quorum
# shows as fewer than 2 reachable managers, which the tests assert separately for every sample.
LEADERLESS_LIMIT = 25


def entry_addresses():
    """The stable entry the scenario configures (keepalived_address, a floating address on a healthy manager), else
    every manager's address, as a DNS name that lists them all: a client tries the next address when one refuses
    the connection (what browsers do with several A records)."""
    config = yaml.safe_load((Path(__file__).resolve().parents[1] / "molecule.yml").read_text())
    group_vars = config["provisioner"]["inventory"].get("group_vars", {})
    for group in ("all", "swarm", "swarm_managers"):
        address = str((group_vars.get(group) or {}).get("keepalived_address") or "")
        if address and "{{" not in address:
            return [address.split("/", maxsplit=1)[0]]
    return [IPS[m] for m in MANAGERS]


def _session(cafile):
    s = requests.Session()
    s.verify = cafile
    s.trust_env = False
    return s


def _login(cafile, address):
    s = _session(cafile)
    base = f"https://{address}/"
    s.get(base + "login", timeout=10)
    r = s.post(
        base + "login",
        data={"password": stack.PASSWORD, "_xsrf": s.cookies.get("_xsrf")},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302, (address, r.status_code)
    return s


def _refused(error):
    """A connection that was never made (refused, or no answer to the SYN), as opposed to a request that failed."""
    return isinstance(error, requests.exceptions.ConnectTimeout) or (
        isinstance(error, requests.exceptions.ConnectionError)
        and "NewConnectionError" in repr(error)
        and "RemoteDisconnected" not in repr(error)
    )


class EntryPoller(update.Poller):
    """The jupyter_stack update test's poller, asking the stable entry: every 0.2 s as a new visitor (GET /api, a new
    connection each time) and as a logged-in user (GET /api/contents, one session and its kept-alive connection
    throughout).

    With several addresses, a refused connection goes to the next one (counted in `moved`). A GET whose kept-alive
    connection was reset before any answer (the address moved to another manager, or the proxy closed it) is sent
    again once on a new connection, as browsers do (counted in `retried`). Any other error, a second failure, or a
    status other than 200 is a failed request."""

    def __init__(self, cafile, addresses):
        super().__init__(cafile, user=None)
        self.addresses = addresses
        self.users = {a: _login(cafile, a) for a in addresses}
        self.moved, self.retried = 0, 0

    def asks(self):
        return (lambda: self._ask("api", False), lambda: self._ask("api/contents", True))

    def _get(self, s, url, headers, user):
        try:
            return s.get(url, headers=headers, timeout=10).status_code
        except requests.exceptions.ConnectionError as e:
            if not user or _refused(e) or isinstance(e, requests.exceptions.ReadTimeout):
                raise
            self.retried += 1
            s.close()  # drops the pooled connection; the cookies stay
            return s.get(url, headers=headers, timeout=10).status_code

    def _ask(self, path, user):
        last = None
        for address in self.addresses:
            s = self.users[address] if user else _session(self.cafile)
            headers = {"X-XSRFToken": s.cookies.get("_xsrf", "")} if user else {}
            try:
                return self._get(s, f"https://{address}/{path}", headers, user)
            except Exception as e:
                last = e
                if not _refused(e):
                    return repr(e)
                self.moved += 1
        return repr(last)


def _exec(container, *cmd, timeout=10):
    try:
        return subprocess.run(
            ["docker", "exec", container, *cmd], check=False, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None


class SwarmWatch(threading.Thread):
    """Every 0.5 s, `docker node ls` on the first manager that answers. A sample records whether a manager answered,
    whether the list shows a leader, how many managers are reachable, which nodes are out of service (not Active,
    or an unreachable manager) and which are not Ready. A new leader shows every node Unknown until its agent
    reports again, so not Ready alone does not mean out of service."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop, self.samples = threading.Event(), []

    def sample(self):
        for manager in MANAGERS:
            proc = _exec(
                manager,
                "docker",
                "node",
                "ls",
                "--format",
                "{{.Hostname}}|{{.Status}}|{{.Availability}}|{{.ManagerStatus}}",
            )
            if proc is None or proc.returncode != 0:
                continue
            rows = [line.split("|") for line in proc.stdout.splitlines() if line.count("|") == 3]
            return {
                "t": time.time(),
                "via": manager,
                "leader": any(r[3] == "Leader" for r in rows),
                "reachable": sum(r[3] in ("Leader", "Reachable") for r in rows),
                "out": sorted(r[0] for r in rows if r[2] != "Active" or r[3] == "Unreachable"),
                "not_ready": sorted(r[0] for r in rows if r[1] != "Ready"),
            }
        return {"t": time.time(), "via": None, "leader": False, "reachable": 0, "out": [], "not_ready": []}

    def run(self):
        while not self.stop.is_set():
            self.samples.append(self.sample())
            time.sleep(0.5)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.join(30)

    def leaderless(self):
        return [s for s in self.samples if not s["leader"]]

    def longest_leaderless(self):
        """Seconds of the longest run of samples without an answer with a leader."""
        longest, since = 0.0, None
        for s in self.samples:
            if not s["leader"]:
                since = since or s["t"]
                longest = max(longest, s["t"] - since)
            else:
                since = None
        return longest

    def out_of_service_order(self):
        """The nodes out of service, in the order they were first seen so, each once per stretch."""
        order = []
        for s in self.samples:
            for name in s["out"]:
                if not order or order[-1] != name:
                    order.append(name)
        return order


def dockerd_starts(names=NODES):
    """dockerd's start per node, in microseconds of the monotonic clock the node containers share."""
    starts = {}
    for name in names:
        proc = _exec(name, "systemctl", "show", "-p", "ExecMainStartTimestampMonotonic", "--value", "docker")
        starts[name] = int(proc.stdout.strip())
    return starts


def dockerd_start_count(name):
    proc = _exec(name, "sh", "-c", "journalctl -u docker -o cat | grep -c 'Daemon has completed initialization'")
    return int(proc.stdout.strip() or 0)
