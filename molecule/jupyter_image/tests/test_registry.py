"""The registry: one replica on the labelled manager, TLS only, trusted (and used) by the other node."""

import json

import pytest
from ji_helpers import MANAGER, REGISTRY, WORKER

testinfra_hosts = [f"ansible://{WORKER}"]

CA = f"/etc/docker/certs.d/{REGISTRY}/ca.crt"
FETCH = 'python3 -c "import ssl, sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], context={ctx}).status)"'


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
def pulled(host, ref):
    host.run(f"docker rmi {ref}")
    yield
    host.run(f"docker rmi {ref}")


def test_worker_pulls_the_image_over_tls(host, ref, pulled):
    assert host.run(f"docker image inspect {ref}").rc != 0
    pull = host.run(f"docker pull {ref}")
    assert pull.rc == 0, pull.stderr
    assert host.check_output(f"docker run --rm --entrypoint id {ref} -u").strip() == "1000"


def test_pull_needs_the_ca(host, ref, pulled):
    host.check_output(f"mv {CA} {CA}.away")
    try:
        pull = host.run(f"docker pull {ref}")
    finally:
        host.check_output(f"mv {CA}.away {CA}")
    assert pull.rc != 0
    assert "x509" in pull.stderr or "certificate" in pull.stderr
