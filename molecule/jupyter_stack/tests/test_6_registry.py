"""The registry: one replica on the labelled manager, TLS only, trusted (and used) by a worker.

The worker pulls an image pushed for this test: the Jupyter image is in use there (the stack's replicas), so it
cannot be removed and pulled again."""

import json

import pytest
from stack_helpers import MANAGER, REGISTRY, WORKERS

testinfra_hosts = [f"ansible://{WORKERS[0]}"]

CA = f"/etc/docker/certs.d/{REGISTRY}/ca.crt"
FETCH = 'python3 -c "import ssl, sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], context={ctx}).status)"'
PUSHED = f"{REGISTRY}/condaswarm/pull-test:1"


def test_registry_runs_on_the_labelled_manager(manager):
    labels = json.loads(manager.check_output(f"docker node inspect {MANAGER} -f '{{{{json .Spec.Labels}}}}'"))
    assert labels.get("registry") == "true"
    tasks = manager.check_output("docker service ps registry --filter desired-state=running --format '{{.Node}}'")
    assert tasks.split() == [MANAGER]


def test_tls_with_the_distributed_ca(host):
    ok = host.run(FETCH.format(ctx=f"ssl.create_default_context(cafile='{CA}')") + f" https://{REGISTRY}/v2/")
    assert ok.rc == 0 and ok.stdout.strip() == "200", ok.stderr
    # The system's trust store does not know the registry's CA.
    untrusted = host.run(FETCH.format(ctx="ssl.create_default_context()") + f" https://{REGISTRY}/v2/")
    assert untrusted.rc != 0 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
    # No plain HTTP.
    plain = host.run(FETCH.format(ctx="None") + f" http://{REGISTRY}/v2/")
    assert plain.rc != 0


@pytest.fixture
def pulled(host, manager):
    """A small image pushed from the manager (the Debian base prepare.yml loaded there), absent on the worker."""
    manager.check_output(f"docker tag condaswarm/debian:debian12 {PUSHED} && docker push -q {PUSHED}")
    host.run(f"docker rmi {PUSHED}")
    yield
    host.run(f"docker rmi {PUSHED}")


def test_worker_pulls_over_tls(host, pulled):
    assert host.run(f"docker image inspect {PUSHED}").rc != 0
    pull = host.run(f"docker pull {PUSHED}")
    assert pull.rc == 0, pull.stderr
    assert host.check_output(f"docker run --rm {PUSHED} echo pulled").strip() == "pulled"


def test_pull_needs_the_ca(host, pulled):
    host.check_output(f"mv {CA} {CA}.away")
    try:
        pull = host.run(f"docker pull {PUSHED}")
    finally:
        host.check_output(f"mv {CA}.away {CA}")
    assert pull.rc != 0
    assert "x509" in pull.stderr or "certificate" in pull.stderr
