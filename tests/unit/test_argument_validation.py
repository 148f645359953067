"""Bad variables stop a role in argument validation, before any task touches a host.

Cases live in argument_cases/<role>.yml. Each applies one role in check mode (so even a broken validation
could not change this machine) and runs only the tasks tagged `validate` (argument validation is always
tagged `always`, and each role's own cross-variable checks carry `validate`). A bad case must fail naming
its variable; a good case must pass. A bad case with `variables` (a list) gives several bad values at once
and must fail naming every one of them (each role's checks report every problem, one message per variable).

One ansible-playbook run per role holds all of that role's cases: one play per case, each on a host of its
own (a local connection), so that a run_once check or a group lookup sees only that case, as it would
alone. A play's `ignore_errors` keeps the run going past a failing case (without it, a play whose every host
fails ends the playbook); what a user would have seen is that host's first failed task, read from the JSON
callback. Starting Ansible once per role instead of once per case is what keeps `make unit` short.
"""

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = Path(__file__).parent / "argument_cases"
# The ansible-playbook of the interpreter running the tests (the venv), whatever PATH says.
ANSIBLE_PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))
VALIDATION_TASK = "Validating arguments against arg spec"


def _load(role):
    return yaml.safe_load((CASES_DIR / f"{role}.yml").read_text())


def _cases(kind):
    for path in sorted(CASES_DIR.glob("*.yml")):
        for i, case in enumerate(_load(path.stem).get(kind, [])):
            name = case.get("variable") or "+".join(case.get("variables", [])) or "good"
            yield pytest.param(path.stem, i, case, id=f"{path.stem}-{name}-{i}")


def _run_role(role, work):
    """Run every case of `role` in one playbook; returns {(kind, index): [task results of that case's host]}."""
    cases = [(kind, i, case) for kind in ("bad", "good") for i, case in enumerate(_load(role).get(kind, []))]
    hosts = {f"{kind}_{i}": (kind, i) for kind, i, _ in cases}
    inventory = {
        "all": {
            "hosts": dict.fromkeys(hosts),
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        }
    }
    plays = [
        {
            "name": f"{kind}_{i}",
            "hosts": f"{kind}_{i}",
            "gather_facts": False,
            "ignore_errors": True,
            "roles": [{"role": f"condaswarm.cluster.{role}", "vars": case["vars"]}],
        }
        for kind, i, case in cases
    ]
    (work / "inventory.json").write_text(json.dumps(inventory))
    (work / "play.yml").write_text(json.dumps(plays))
    # profile_tasks (ansible.cfg) would print into the JSON; callbacks_enabled cannot be empty.
    json_callback = "ansible.posix.json"
    env = {**os.environ, "ANSIBLE_STDOUT_CALLBACK": json_callback, "ANSIBLE_CALLBACKS_ENABLED": json_callback}
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, "--check", "--tags", "validate", "-i", str(work / "inventory.json"), str(work / "play.yml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        # Returned, not raised, so that the cache keeps it: every case of the role reports it without a rerun.
        return f"ansible-playbook for {role} gave no JSON report:\n{proc.stdout}\n{proc.stderr}"
    results = {key: [] for key in hosts.values()}
    for play in report["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                results[hosts[host]].append({"task": task["task"]["name"], **result})
    return results


@pytest.fixture(scope="session")
def role_results(tmp_path_factory):
    @functools.cache
    def run(role):
        return _run_role(role, tmp_path_factory.mktemp(role))

    def results(role, kind, index):
        outcome = run(role)
        if isinstance(outcome, str):
            pytest.fail(outcome)
        return outcome[(kind, index)]

    return results


@pytest.mark.parametrize(("role", "index", "case"), list(_cases("bad")))
def test_bad_variable_fails_before_changes(role_results, role, index, case):
    results = role_results(role, "bad", index)
    failed = [result for result in results if result.get("failed")]
    assert failed, json.dumps(results, indent=1)
    # The first failure is where a real run stops: it must name every bad variable.
    failure = json.dumps(failed[0])
    named = case.get("variables") or [case["variable"]]
    assert [variable for variable in named if variable not in failure] == [], json.dumps(failed[0], indent=1)


@pytest.mark.parametrize(("role", "index", "case"), list(_cases("good")))
def test_good_variables_pass_validation(role_results, role, index, case):
    results = role_results(role, "good", index)
    assert [result for result in results if result.get("failed")] == [], json.dumps(results, indent=1)
    assert any(VALIDATION_TASK in result["task"] for result in results), json.dumps(results, indent=1)
