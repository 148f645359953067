"""Run SwarmClient's writes through a real docker.APIClient (whichever `docker` this Python imports) and
print, as JSON, the HTTP requests the SDK built and the errors SwarmClient raised.

test_swarm.py runs it in a subprocess with PYTHONPATH pointing at another SDK version (5.0.3, what the
nodes run), since one interpreter cannot import two versions of `docker`. Nothing reaches a network: the
client's requests.Session.post is replaced.
"""

import json
import sys
from pathlib import Path

import docker
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / ".collections"))

from ansible_collections.condaswarm.cluster.plugins.module_utils import swarm

SPEC = {
    "Name": "web",
    "Labels": {"team": "lab"},
    "TaskTemplate": {"ContainerSpec": {"Image": "condaswarm/busybox:2"}, "ForceUpdate": 0},
    "Mode": {"Replicated": {"Replicas": 2}},
    "UpdateConfig": {"Parallelism": 1, "Order": "stop-first"},
    "RollbackConfig": {"Parallelism": 1, "Order": "stop-first"},
    "EndpointSpec": {"Mode": "vip"},
}
SERVICE = {"ID": "svc1", "Version": {"Index": 7}, "Spec": SPEC}
OUT_OF_SEQUENCE = {"message": "rpc error: code = Unknown desc = update out of sequence"}


class PinnedVersion(docker.APIClient):
    """version="auto" would ask a daemon; a fixed API version asks nobody."""

    def __init__(self, **kwargs):
        super().__init__(**{**kwargs, "version": "1.41"})


def response(url, status, body):
    resp = requests.Response()
    resp.status_code = status
    resp.reason = "OK" if status < 400 else "Internal Server Error"
    resp.url = url
    resp.headers["Content-Type"] = "application/json"
    resp._content = json.dumps(body).encode()
    return resp


def main():
    docker.APIClient = PinnedVersion
    client = swarm.SwarmClient("tcp://127.0.0.1:2375")
    requests_seen, answers = [], []

    def post(url, data=None, **kwargs):
        requests_seen.append({"url": url, "params": kwargs.get("params"), "body": json.loads(data)})
        status, body = answers.pop(0)
        return response(url, status, body)

    client.api.post = post
    outcomes = {}
    for name, call in (
        ("rollback", lambda: client.rollback_service(SERVICE)),
        ("update", lambda: client.update_service(SERVICE, SPEC)),
    ):
        answers[:] = [(200, {"Warnings": None}), (500, OUT_OF_SEQUENCE)]
        outcomes[name] = {"result": call()}
        try:
            call()
            outcomes[name]["stale"] = "no error"
        except swarm.SwarmError as exc:
            outcomes[name]["stale"] = {"class": type(exc).__name__, "msg": exc.msg}
    print(json.dumps({"version": docker.__version__, "requests": requests_seen, "outcomes": outcomes}))


if __name__ == "__main__":
    main()
