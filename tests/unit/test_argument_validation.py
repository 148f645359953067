"""Bad variables stop a role in argument validation, before any task touches a host.

Cases live in argument_cases/<role>.yml. Each applies one role to localhost in check mode (so even a
broken validation could not change this machine) and runs only the tasks tagged `validate`
(argument validation is always tagged `always`, and each role's own cross-variable checks carry
`validate`). A bad case must fail naming its variable; a good case must pass. A bad case with
`variables` (a list) gives several bad values at once and must fail naming every one of them (each
role's checks report every problem, one message per variable), which keeps the plays few.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = Path(__file__).parent / "argument_cases"
# The ansible-playbook of the interpreter running the tests (the venv), whatever PATH says.
ANSIBLE_PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))


def _cases(kind):
    for path in sorted(CASES_DIR.glob("*.yml")):
        for i, case in enumerate(yaml.safe_load(path.read_text()).get(kind, [])):
            name = case.get("variable") or "+".join(case.get("variables", [])) or "good"
            yield pytest.param(path.stem, case, id=f"{path.stem}-{name}-{i}")


def _play(tmp_path, role, role_vars):
    playbook = tmp_path / "play.yml"
    play = {
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "roles": [{"role": f"condaswarm.cluster.{role}", "vars": role_vars}],
    }
    playbook.write_text(json.dumps([play]))
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, "--check", "--tags", "validate", "-i", "localhost,", str(playbook)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize(("role", "case"), list(_cases("bad")))
def test_bad_variable_fails_before_changes(tmp_path, role, case):
    rc, out = _play(tmp_path, role, case["vars"])
    assert rc != 0, out
    failure = out[out.index("fatal:") :] if "fatal:" in out else out
    named = case.get("variables") or [case["variable"]]
    assert [variable for variable in named if variable not in failure] == [], out


@pytest.mark.parametrize(("role", "case"), list(_cases("good")))
def test_good_variables_pass_validation(tmp_path, role, case):
    rc, out = _play(tmp_path, role, case["vars"])
    assert rc == 0, out
    assert "Validating arguments against arg spec" in out
