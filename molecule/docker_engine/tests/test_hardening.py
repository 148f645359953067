"""The CIS Docker Benchmark's daemon settings the role adopts, as the live daemon applies them (by check ID).
The rendered daemon.json is unit-tested (tests/unit/test_docker_engine_templates.py); here, the behaviour."""

import json

testinfra_hosts = ["ansible://all"]

IMAGE = "condaswarm/busybox:latest"


def _loaded(host):
    host.check_output(f"docker image inspect {IMAGE} >/dev/null 2>&1 || docker load -i /opt/busybox.tar")


def _httpd(host, *args):
    """A busybox web server on port 8080 of a new container; returns its ID."""
    _loaded(host)
    return host.check_output(
        f"docker run -d {' '.join(args)} {IMAGE} sh -c 'mkdir -p /www && echo ok > /www/index.html && "
        "httpd -f -p 8080 -h /www'"
    )


def test_cis_2_14_no_new_privileges(host):
    _loaded(host)
    status = host.check_output(f"docker run --rm {IMAGE} grep NoNewPrivs /proc/self/status")
    assert status.split() == ["NoNewPrivs:", "1"]
    info = json.loads(host.check_output("docker info --format '{{json .SecurityOptions}}'"))
    # Engine 26 lists it; 20.10 applies it without saying so in docker info.
    if not host.check_output("docker version --format '{{.Server.Version}}'").startswith("20."):
        assert "name=no-new-privileges" in info


def test_cis_2_2_no_traffic_between_containers_on_the_default_bridge(host):
    options = json.loads(host.check_output("docker network inspect bridge --format '{{json .Options}}'"))
    assert options["com.docker.network.bridge.enable_icc"] == "false"
    server = _httpd(host)
    try:
        addr = host.check_output(f"docker inspect -f '{{{{.NetworkSettings.IPAddress}}}}' {server}")
        # The node itself still reaches the container (icc is about container-to-container traffic).
        node = host.run(f"python3 -c \"import urllib.request as u; print(u.urlopen('http://{addr}:8080/').read())\"")
        assert node.rc == 0 and "ok" in node.stdout, node.stderr
        get = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3"
        # The same client inside the server's network namespace: it works, so a failure below is the bridge's.
        control = host.run(f'docker run --rm --network container:{server} {IMAGE} sh -c "{get} 127.0.0.1 8080"')
        assert control.rc == 0 and "200 OK" in control.stdout, control.stdout + control.stderr
        peer = host.run(f'docker run --rm {IMAGE} sh -c "{get} {addr} 8080"')
        assert peer.rc != 0 and "200 OK" not in peer.stdout, peer.stdout
    finally:
        host.run(f"docker rm -f {server}")


def test_cis_2_16_ports_published_without_the_userland_proxy(host):
    server = _httpd(host, "-p", "127.0.0.1:18080:8080")
    try:
        assert host.run("pgrep -x docker-proxy").rc == 1  # no proxy process for the published port
        # The loopback address still answers (hairpin NAT through route_localnet).
        out = host.check_output(
            'python3 -c "import urllib.request as u, time; time.sleep(1); '
            "print(u.urlopen('http://127.0.0.1:18080/', timeout=5).read())\""
        )
        assert "ok" in out
    finally:
        host.run(f"docker rm -f {server}")
