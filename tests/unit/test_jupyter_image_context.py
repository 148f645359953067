"""The jupyter_image build context as the role renders it (on localhost, through ansible-playbook), and the
behaviour of the scripts it puts in the image: kernel launcher, server configuration, healthcheck."""

import http.server
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from ansible_play import run_play


def render(tmp_path, **role_vars):
    """Run the role's context.yml and write its build context into tmp_path/context; returns (context dir, tag).

    The files are written here from the rendered context (one copy of its JSON) rather than by write.yml,
    whose loop of one copy per file made each render take 15 s: write.yml only names the files after the
    context's keys, and the jupyter_stack scenario runs it when it builds the image."""
    context = tmp_path / "context"
    rendered = tmp_path / "context.json"
    tasks = [
        {
            "ansible.builtin.include_role": {"name": "condaswarm.cluster.jupyter_image", "tasks_from": "context.yml"},
            "vars": role_vars,
        },
        {
            "ansible.builtin.copy": {
                "content": "{{ _jupyter_image_context | to_json }}",
                "dest": str(rendered),
                "mode": "0600",
            }
        },
    ]
    proc = run_play(tmp_path, [*tasks, {"ansible.builtin.debug": {"msg": "REF={{ jupyter_image_ref }}"}}])
    context.mkdir()
    for name, text in json.loads(rendered.read_text()).items():
        (context / name).write_text(text)
    return context, re.search(r"REF=(\S+?)\"", proc.stdout).group(1)


@pytest.fixture(scope="module")
def pip_context(tmp_path_factory):
    return render(
        tmp_path_factory.mktemp("pip"),
        jupyter_image_flavour="pip",
        jupyter_image_registry="registry.example:5000",
        jupyter_image_environment={
            "name": "lab",
            "python": "3.11",
            "dependencies": ["python=3.11", "jupyterlab", "numpy=1.26", "scipy>=1.10", "pandas=2.1.*", "pip"],
            "pip": ["rich"],
        },
    )


@pytest.fixture(scope="module")
def conda_context(tmp_path_factory):
    return render(tmp_path_factory.mktemp("conda"), jupyter_image_extra_ca_bundle=str(Path(__file__)))


def test_pip_requirements_from_conda_specs(pip_context):
    context, ref = pip_context
    reqs = [line for line in (context / "requirements.txt").read_text().splitlines() if not line.startswith("#")]
    assert reqs == ["jupyterlab", "numpy==1.26.*", "scipy>=1.10", "pandas==2.1.*", "rich"]
    assert re.fullmatch(r"registry\.example:5000/condaswarm/jupyter:[0-9a-f]{16}", ref)


def test_pip_dockerfile(pip_context):
    dockerfile = (pip_context[0] / "Dockerfile").read_text()
    assert "FROM debian:bookworm-slim" in dockerfile
    assert "python3 python3-venv" in dockerfile
    assert "python3 -m venv /opt/envs/lab" in dockerfile
    assert "conda" not in dockerfile.replace("condaswarm", "")
    assert "PIP_CERT" not in dockerfile  # no extra CA bundle asked for
    assert "openssh-server" not in dockerfile  # the SSH door is off by default


def test_conda_environment_file(conda_context):
    env = yaml.safe_load((conda_context[0] / "environment.yml").read_text())
    assert env["name"] == "jupyter"
    assert env["channels"] == ["conda-forge"]
    assert env["dependencies"][0] == "python=3.10"
    assert {"jupyterlab", "ipykernel", "numpy", "pandas", "matplotlib", "scipy", "pip"} <= set(env["dependencies"])
    condarc = yaml.safe_load((conda_context[0] / "condarc").read_text())
    assert condarc["channel_priority"] == "strict"
    assert condarc["ssl_verify"] == "/usr/local/share/condaswarm/ca-bundle.crt"


def test_conda_dockerfile_layers(conda_context):
    context = conda_context[0]
    lines = (context / "Dockerfile").read_text().splitlines()
    assert lines[3] == "FROM continuumio/miniconda3:latest"
    text = "\n".join(lines)
    assert "conda env update --name jupyter --file /tmp/condaswarm/environment.yml" in text
    assert "conda clean --all --yes" in text
    for var in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CONDA_SSL_VERIFY"):
        assert var + "=/usr/local/share/condaswarm/ca-bundle.crt" in text
    assert (context / "extra-ca-bundle.crt").read_text() == Path(__file__).read_text()
    # Code and configuration come after the environment, so changing them reuses its layer.
    env_at = text.index("conda env update")
    for later in ("jupyter_server_config.py", "kernel.json", "condaswarm-kernel", "HEALTHCHECK"):
        assert text.index(later) > env_at
    assert "USER 1000:100" in text
    assert "allow-root" not in text


def test_tag_follows_the_context(tmp_path, conda_context):
    _, ref = conda_context
    _, same = render(tmp_path / "a", jupyter_image_extra_ca_bundle=str(Path(__file__)))
    _, other = render(tmp_path / "b", jupyter_image_extra_ca_bundle=str(Path(__file__)), jupyter_image_base_url="/x/")
    assert same == ref
    assert other != ref


def test_kernelspec_goes_through_the_launcher(conda_context):
    spec = json.loads((conda_context[0] / "kernel.json").read_text())
    assert spec["argv"] == [
        "/usr/local/bin/condaswarm-kernel",
        "/opt/conda/envs/jupyter/bin/python",
        "-m",
        "ipykernel_launcher",
        "-f",
        "{connection_file}",
    ]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"KERNEL_ULIMIT_AS_KB": "1048576", "KERNEL_ULIMIT_NOFILE": "64", "KERNEL_ULIMIT_STACK_KB": "4096"},
         {"as": 1048576 * 1024, "nofile": 64, "stack": 4096 * 1024}),
        ({"KERNEL_ULIMIT_NOFILE": "32"}, {"nofile": 32}),
    ],
)  # fmt: skip
def test_kernel_launcher_applies_limits_then_execs(conda_context, env, expected):
    launcher = conda_context[0] / "condaswarm-kernel"
    probe = (
        "import json, os, resource; print(json.dumps({'pid': os.getpid(), "
        "'as': resource.getrlimit(resource.RLIMIT_AS), 'nofile': resource.getrlimit(resource.RLIMIT_NOFILE), "
        "'stack': resource.getrlimit(resource.RLIMIT_STACK)}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KERNEL_ULIMIT_")}
    proc = subprocess.Popen(
        ["sh", str(launcher), sys.executable, "-c", probe], env={**clean, **env}, stdout=subprocess.PIPE, text=True
    )
    out = json.loads(proc.communicate()[0])
    assert proc.returncode == 0
    assert out["pid"] == proc.pid  # exec: the kernel is the process the server started
    for key, value in expected.items():
        assert out[key] == [value, value]  # soft and hard: the kernel cannot raise them back


class _Section:
    """c.Section.trait = value, as traitlets' Config allows."""

    def __init__(self, data):
        object.__setattr__(self, "_data", data)

    def __setattr__(self, key, value):
        self._data[key] = value

    def __getattr__(self, key):
        return self._data.get(key)


class _Config:
    """Just enough of traitlets' Config: c.Section.trait = value and c["Section"]["trait"] = value."""

    def __init__(self):
        object.__setattr__(self, "sections", {})

    def __getattr__(self, name):
        return _Section(self.sections.setdefault(name, {}))

    def __getitem__(self, name):
        return self.sections.setdefault(name, {})


def _server_config(context, password_file, monkeypatch):
    config = _Config()
    monkeypatch.setenv("JUPYTER_PASSWORD_FILE", str(password_file))
    exec((context / "jupyter_server_config.py").read_text(), {"get_config": lambda: config})
    return config.sections


def test_server_config_reads_the_hash_and_refuses_without_it(tmp_path, monkeypatch):
    context, _ = render(
        tmp_path,
        jupyter_image_server_options={"ServerApp.trust_xheaders": True, "MappingKernelManager.cull_idle_timeout": 600},
    )
    secret = tmp_path / "hash"
    secret.write_text("argon2:$argon2id$v=19$m=10240,t=10,p=8$abc$def\n")
    config = _server_config(context, secret, monkeypatch)
    assert config["PasswordIdentityProvider"]["hashed_password"] == "argon2:$argon2id$v=19$m=10240,t=10,p=8$abc$def"
    assert config["IdentityProvider"]["token"] == ""
    assert config["ServerApp"]["ip"] == "0.0.0.0"
    assert config["ServerApp"]["allow_root"] is False
    assert config["ServerApp"]["trust_xheaders"] is True
    assert config["MappingKernelManager"]["cull_idle_timeout"] == 600
    with pytest.raises(SystemExit, match="cannot read the password hash"):
        _server_config(context, tmp_path / "missing", monkeypatch)
    secret.write_text("\n")
    with pytest.raises(SystemExit, match="empty"):
        _server_config(context, secret, monkeypatch)


class _Api(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/base/api" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def api_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


@pytest.mark.parametrize(("base_url", "healthy"), [("/base/", True), ("/base", True), ("/", False), ("/other/", False)])
def test_healthcheck_honours_port_and_base_url(conda_context, api_server, base_url, healthy):
    env = {**os.environ, "JUPYTER_PORT": str(api_server), "JUPYTER_BASE_URL": base_url}
    proc = subprocess.run(
        [sys.executable, str(conda_context[0] / "condaswarm-healthcheck")], env=env, capture_output=True, check=False
    )
    assert (proc.returncode == 0) == healthy, proc.stderr
