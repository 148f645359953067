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


def render_cases(tmp_path, role, templates, cases, *, vars_files=("defaults/main.yml",)):
    """Render the templates once per case, all in ONE task of one run: {case: [paths]} (as render_templates).

    `cases` maps a case name to its variables, given to the template lookup as template_vars (above the role
    files in `vars_files`, as render_templates' extra vars are). Each start of ansible-playbook, and each
    template task, costs about a second; a module of template tests has a dozen cases."""
    role_dir = ROOT / "roles" / role
    names = list(cases)

    def lookup(template, index):
        src = json.dumps(str(role_dir / "templates" / template))
        return f"lookup('ansible.builtin.template', {src}, template_vars=cases[{index}])"

    renders = ", ".join("[" + ", ".join(lookup(t, i) for t in templates) + "]" for i in range(len(names)))
    out = tmp_path / "rendered.json"
    task = {"ansible.builtin.copy": {"content": "{{ [" + renders + "] | to_json }}", "dest": str(out), "mode": "0600"}}
    run_play(
        tmp_path, [task], vars_files=[role_dir / path for path in vars_files], extra={"cases": list(cases.values())}
    )
    outputs = {}
    for name, texts in zip(names, json.loads(out.read_text()), strict=True):
        (tmp_path / name).mkdir(parents=True, exist_ok=True)
        outputs[name] = [tmp_path / name / Path(t).name.removesuffix(".j2") for t in templates]
        for path, text in zip(outputs[name], texts, strict=True):
            path.write_text(text)
    return outputs
