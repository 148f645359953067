"""The HAProxy stand-in's Dockerfile (jupyter_stack_proxy_build_from_debian), rendered by Ansible."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "jupyter_stack"
PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))


def _render(tmp_path, **overrides):
    play = {
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars_files": [str(ROLE / "defaults" / "main.yml")],
        "tasks": [
            {
                "ansible.builtin.template": {
                    "src": str(ROLE / "templates" / "proxy_image" / "Dockerfile.j2"),
                    "dest": str(tmp_path / "Dockerfile"),
                }
            }
        ],
    }
    (tmp_path / "play.yml").write_text(json.dumps([play]))
    (tmp_path / "extra.json").write_text(json.dumps(overrides))
    proc = subprocess.run(
        [
            PLAYBOOK,
            "-i",
            "localhost,",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "-e",
            f"@{tmp_path / 'extra.json'}",
            str(tmp_path / "play.yml"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return (tmp_path / "Dockerfile").read_text()


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
