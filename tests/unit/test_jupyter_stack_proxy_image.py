"""The HAProxy stand-in's Dockerfile (jupyter_stack_proxy_build_from_debian), rendered by Ansible."""

from ansible_play import render_templates


def _render(tmp_path, **overrides):
    (dockerfile,) = render_templates(tmp_path, "jupyter_stack", ["proxy_image/Dockerfile.j2"], extra=overrides)
    return dockerfile.read_text()


def test_laid_out_like_the_official_image(tmp_path):
    dockerfile = _render(tmp_path, jupyter_stack_proxy_build_base="condaswarm/debian:debian12")
    lines = [line for line in dockerfile.splitlines() if line and not line.startswith("#")]
    assert lines[0] == "FROM condaswarm/debian:debian12"
    assert "install -y --no-install-recommends haproxy" in dockerfile
    assert "Acquire::Retries=3" in dockerfile
    # Non-root, and the configuration where haproxy:2.8 reads it (the stack mounts its config there).
    assert "USER haproxy" in lines
    assert lines[-1] == 'CMD ["-f", "/usr/local/etc/haproxy/haproxy.cfg"]'
    assert "STOPSIGNAL SIGUSR1" in lines


def test_default_base_is_debian_slim(tmp_path):
    assert "FROM debian:bookworm-slim\n" in _render(tmp_path)
