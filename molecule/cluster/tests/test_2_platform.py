"""The platform as its users meet it: HTTPS through the proxy on the manager, login, kernels, shared notebooks."""

import time
import uuid

import pytest
from conftest import MANAGER, WORKERS, client

testinfra_hosts = [f"ansible://{MANAGER}"]


def notebook(source):
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
    content = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}
    return {"type": "notebook", "format": "json", "content": content}


def logged_in(cafile):
    s = client.session(cafile)
    assert client.login(s) == 302
    return s


def replica_hostname(s):
    """The container hostname of the replica that serves this session, asked of its kernel."""
    status, stdout, ename = client.run_in_new_kernel(s, "import socket; print(socket.gethostname())")
    assert (status, ename) == ("ok", None), stdout
    return stdout.strip()


@pytest.fixture(scope="module")
def two_replicas(cafile):
    """Two logged-in sessions that the proxy's sticky cookie sends to different replicas."""
    first = logged_in(cafile)
    for _ in range(10):
        other = logged_in(cafile)
        if other.cookies.get(client.STICKY) != first.cookies.get(client.STICKY):
            return first, other
        time.sleep(1)
    pytest.fail("ten logins all landed on the replica of the first")


def test_api_answers_over_https(cafile):
    r = client.session(cafile).get(client.BASE + "api", timeout=10)
    assert r.status_code == 200 and "version" in r.json()


def test_plain_http_redirects_to_https():
    r = client.session(None).get(f"http://{client.MANAGER_IP}/api", allow_redirects=False, timeout=10)
    assert r.status_code == 301 and r.headers["Location"].startswith("https://")


def test_unauthenticated_contents_refused(cafile):
    assert client.api(client.session(cafile), "GET", "api/contents").status_code == 403


def test_wrong_password_refused(cafile):
    s = client.session(cafile)
    assert client.login(s, "wrong-" + client.PASSWORD) != 302
    assert client.api(s, "GET", "api/contents").status_code == 403


def test_login_with_the_configured_password(cafile):
    s = logged_in(cafile)
    assert client.api(s, "GET", "api/contents").status_code == 200


def test_kernel_runs_code_as_the_notebook_user(cafile):
    status, stdout, ename = client.run_in_new_kernel(logged_in(cafile), "import os; print(os.getuid(), os.getgid())")
    assert (status, ename) == ("ok", None), stdout
    assert stdout.split() == ["1000", "100"]


def test_notebook_saved_through_one_replica_is_listed_through_another(two_replicas, report):
    first, other = two_replicas
    # Different containers behind the two sessions, not only different cookies.
    hostnames = replica_hostname(first), replica_hostname(other)
    assert hostnames[0] != hostnames[1], hostnames
    workers = [client.replica_of(h)[0] for h in hostnames]
    report(f"cluster replicas serving the two sessions: {hostnames[0]} on {workers[0]}, {hostnames[1]} on {workers[1]}")
    name = f"cluster-{uuid.uuid4().hex[:8]}.ipynb"
    try:
        assert client.api(first, "PUT", f"api/contents/{name}", notebook("print('shared')")).status_code == 201
        listed = client.api(other, "GET", "api/contents").json()["content"]
        assert name in [item["name"] for item in listed]
        saved = client.api(other, "GET", f"api/contents/{name}").json()
        assert saved["content"]["cells"][0]["source"] == "print('shared')"
        # On the shared storage every Swarm node mounts, owned by the notebook user.
        for worker in WORKERS:
            f = client.node(worker).file(f"/srv/notebooks/{name}")
            assert f.exists and (f.uid, f.gid) == (1000, 100)
    finally:
        client.api(first, "DELETE", f"api/contents/{name}")
