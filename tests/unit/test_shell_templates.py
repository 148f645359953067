"""The scripts the roles render from templates, checked as the hosts get them: rendered by Ansible first.

Every template that renders a shell script (a `#!/bin/sh`-style first line, or a name ending in `.sh.j2`)
passes shellcheck; the Python healthcheck compiles and passes ruff. `make lint` runs this file
(scripts/shellcheck.sh) as its check of the rendered scripts.
"""

import json
import py_compile
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_play import ROOT, render_templates

SHEBANG = re.compile(rb"^#!\s*(/usr/bin/env\s+)?(/bin/|/usr/bin/)?(sh|bash|dash)\b")

# Every shell template, with the variable sets it is rendered from: the role's defaults and vars
# first ({}), then the values that change the script's text.
SHELL_TEMPLATES = {
    "roles/limits/templates/condaswarm-ulimit.j2": [
        {},
        {"limits_runner_limits": {"address_space_kb": None, "open_files": None, "stack_kb": None}},
    ],
    "roles/jupyter_image/templates/condaswarm-kernel.j2": [{}],
    # role_path: the door reads the sshd role's defaults beside its own role (rendered here outside a role).
    "roles/jupyter_image/templates/condaswarm-sshd.j2": [
        {"role_path": str(ROOT / "roles" / "jupyter_image")},
        {"role_path": str(ROOT / "roles" / "jupyter_image"), "sshd_host_key_types": ["ed25519", "rsa"]},
    ],
    "roles/jupyter_image/templates/condaswarm-env.sh.j2": [{}, {"jupyter_image_flavour": "conda"}],
}
PYTHON_TEMPLATES = ["roles/jupyter_image/templates/condaswarm-healthcheck.j2"]
# What the fixture renders: each template with each of its variable sets.
VARIANTS = {**SHELL_TEMPLATES, **{template: [{}] for template in PYTHON_TEMPLATES}}
CASES = [(template, extra) for template, variants in SHELL_TEMPLATES.items() for extra in variants]
needs_shellcheck = pytest.mark.skipif(
    shutil.which("shellcheck") is None,
    reason="shellcheck is not installed (make setup installs it as root on Debian; else your package manager)",
)


def _is_shell_template(path):
    with path.open("rb") as f:
        return path.name.endswith(".sh.j2") or bool(SHEBANG.match(f.readline()))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """render(template, extra) -> the rendered file; one ansible-playbook run per role and variable set."""
    cache = {}

    def render(template, extra):
        role = Path(template).parts[1]
        key = (role, json.dumps(extra, sort_keys=True))
        if key not in cache:
            templates = sorted(
                Path(t).name for t, variants in VARIANTS.items() if Path(t).parts[1] == role and extra in variants
            )
            vars_files = ["defaults/main.yml"]
            if (ROOT / "roles" / role / "vars" / "main.yml").exists():
                vars_files.append("vars/main.yml")
            paths = render_templates(
                tmp_path_factory.mktemp(role), role, templates, vars_files=vars_files, extra=extra, mode="0755"
            )
            cache[key] = dict(zip(templates, paths, strict=True))
        return cache[key][Path(template).name]

    return render


def _shellcheck(path, shell=None):
    """shellcheck's findings for `path` (empty when clean); `shell` for a file without a shebang."""
    cmd = ["shellcheck", "--format=gcc", *(["--shell", shell] if shell else []), str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout.strip()


def test_every_shell_template_is_checked():
    found = {
        str(path.relative_to(ROOT))
        for path in ROOT.glob("roles/*/templates/**/*")
        if path.is_file() and _is_shell_template(path)
    }
    assert found == set(SHELL_TEMPLATES), "add the new shell template to SHELL_TEMPLATES (and the gone ones out)"


@needs_shellcheck
@pytest.mark.parametrize(
    ("template", "extra"), CASES, ids=[f"{Path(case[0]).name}-{i}" for i, case in enumerate(CASES)]
)
def test_rendered_script_passes_shellcheck(rendered, template, extra):
    path = rendered(template, extra)
    shell = None if path.read_bytes().startswith(b"#!") else "sh"
    assert _shellcheck(path, shell) == ""


@needs_shellcheck
def test_shellcheck_reports_a_broken_script(tmp_path):
    """The check above can fail: an unquoted expansion is a finding."""
    script = tmp_path / "broken"
    script.write_text('#!/bin/sh\nkey=$1/ssh_host_ed25519_key\n[ -s $key ] || echo "missing"\n')
    assert "SC2086" in _shellcheck(script)


@pytest.mark.parametrize("template", PYTHON_TEMPLATES, ids=[Path(t).name for t in PYTHON_TEMPLATES])
def test_rendered_python_compiles_and_passes_ruff(rendered, tmp_path, template):
    path = rendered(template, {})
    py_compile.compile(str(path), cfile=str(tmp_path / "compiled.pyc"), doraise=True)
    ruff = Path(sys.executable).with_name("ruff")
    proc = subprocess.run(
        [str(ruff), "check", "--no-cache", "--stdin-filename", f"{path.name}.py", "-"],
        input=path.read_text(),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
