"""The Swarm doc fragment: each module's documentation, as ansible-doc renders it with the fragment merged
in, documents exactly the options its main() accepts (names, types, defaults, choices, suboptions)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible_collections.condaswarm.cluster.plugins.module_utils.swarm_runner import SWARM_COMMON_ARGS
from ansible_collections.condaswarm.cluster.plugins.modules import (
    swarm_node_drain,
    swarm_service_update,
    swarm_stack_deploy,
)

ROOT = Path(__file__).resolve().parents[4]
ANSIBLE_DOC = str(Path(sys.executable).with_name("ansible-doc"))
MODULES = {
    module.__name__.rsplit(".", 1)[-1]: module
    for module in (swarm_node_drain, swarm_service_update, swarm_stack_deploy)
}


@pytest.fixture(scope="module")
def docs():
    proc = subprocess.run(
        [ANSIBLE_DOC, "-j", *(f"condaswarm.cluster.{name}" for name in MODULES)],
        cwd=ROOT,
        env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr, proc.stderr
    return {name.rsplit(".", 1)[-1]: entry["doc"] for name, entry in json.loads(proc.stdout).items()}


def mismatches(documented, accepted, where=""):
    """Differences between documented options and an argument spec, one line each."""
    found = []
    for name in sorted(set(documented) ^ set(accepted)):
        side = "documented only" if name in documented else "accepted but not documented"
        found.append(f"{where}{name}: {side}")
    for name in sorted(set(documented) & set(accepted)):
        doc, spec = documented[name], accepted[name]
        for key, default in (("type", "str"), ("default", None), ("choices", None), ("elements", None)):
            if doc.get(key, default) != spec.get(key, default):
                found.append(f"{where}{name}.{key}: documented {doc.get(key)!r}, accepted {spec.get(key)!r}")
        if bool(doc.get("required")) != bool(spec.get("required")):
            found.append(f"{where}{name}.required differs")
        if sorted(doc.get("aliases") or []) != sorted(spec.get("aliases") or []):
            found.append(f"{where}{name}.aliases differ")
        if not doc.get("description"):
            found.append(f"{where}{name}: no description")
        found += mismatches(doc.get("suboptions") or {}, spec.get("options") or {}, f"{where}{name}.")
    return found


@pytest.mark.parametrize("name", MODULES)
def test_documentation_matches_argument_spec(docs, name):
    accepted = {**MODULES[name].ARGUMENT_SPEC, **SWARM_COMMON_ARGS}
    assert mismatches(docs[name]["options"], accepted) == []


@pytest.mark.parametrize("name", MODULES)
def test_shared_options_and_requirements_come_from_the_fragment(docs, name):
    doc, own = docs[name], yaml.safe_load(MODULES[name].DOCUMENTATION)
    assert own["extends_documentation_fragment"] == ["condaswarm.cluster.swarm"]
    assert not set(SWARM_COMMON_ARGS) & set(own["options"]), "a module documents a shared option again"
    assert not set(SWARM_COMMON_ARGS) & set(MODULES[name].ARGUMENT_SPEC), "a module redefines a shared option"
    assert any("python3-docker" in line for line in doc["requirements"])
    assert any("Swarm manager" in note for note in doc["notes"])
    for attribute in ("check_mode", "diff_mode"):
        assert doc["attributes"][attribute]["description"], attribute
        assert doc["attributes"][attribute]["support"] in ("full", "partial", "none", "N/A"), attribute
    assert {"EXAMPLES", "RETURN"} <= set(vars(MODULES[name]))


def test_mismatches_finds_what_differs():
    documented = {"a": {"description": "x", "type": "int"}, "b": {"description": "y", "suboptions": {"c": {}}}}
    accepted = {"a": {"type": "str"}, "b": {"type": "str", "options": {"d": {}}}, "e": {}}
    assert mismatches(documented, accepted) == [
        "e: accepted but not documented",
        "a.type: documented 'int', accepted 'str'",
        "b.c: documented only",
        "b.d: accepted but not documented",
    ]
