"""Run a role's templates (or task files) on localhost through the real ansible-playbook of this venv.

The template tests render through Ansible rather than plain Jinja2 so that Ansible's filters, lookups and
variable precedence apply exactly as on a host; this module is the one place that writes such a play.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))


def run_play(tmp_path, tasks, *, vars_files=(), extra=None, inventory="localhost,"):
    """Run `tasks` in one local play on localhost; extra vars (above vars_files) come from `extra`."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    play = {
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars_files": [str(path) for path in vars_files],
        "tasks": list(tasks),
    }
    (tmp_path / "play.yml").write_text(json.dumps([play]))
    (tmp_path / "extra.json").write_text(json.dumps(extra or {}))
    proc = subprocess.run(
        [
            ANSIBLE_PLAYBOOK,
            "-i",
            inventory,
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
    return proc


def render_templates(
    tmp_path,
    role,
    templates,
    *,
    vars_files=("defaults/main.yml",),
    extra=None,
    inventory="localhost,",
    tasks=(),
    mode="0644",
):
    """Render roles/<role>/templates/<t> (for each t) into tmp_path/<basename of t without .j2>; returns the paths.

    `vars_files` are relative to the role; `tasks` run before the templates (include_vars and the like).
    """
    role_dir = ROOT / "roles" / role
    outputs = [tmp_path / Path(template).name.removesuffix(".j2") for template in templates]
    template_tasks = [
        {"ansible.builtin.template": {"src": str(role_dir / "templates" / template), "dest": str(out), "mode": mode}}
        for template, out in zip(templates, outputs, strict=True)
    ]
    run_play(
        tmp_path,
        [*tasks, *template_tasks],
        vars_files=[role_dir / path for path in vars_files],
        extra=extra,
        inventory=inventory,
    )
    return outputs
