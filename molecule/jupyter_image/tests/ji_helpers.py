"""Names and helpers of the jupyter_image scenario (imported by its conftest and tests)."""

import importlib.util
import os
import re
from pathlib import Path

import testinfra

# run_playbook() of molecule/conftest.py (shared by the scenarios), under a name of its own.
_spec = importlib.util.spec_from_file_location("molecule_shared_conftest", Path(__file__).parents[2] / "conftest.py")
_shared = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_shared)
run_playbook = _shared.run_playbook

SCENARIO = Path(__file__).resolve().parents[1]
MANAGER = "jupyter-image-manager"
WORKER = "jupyter-image-worker"
REGISTRY = f"{MANAGER}:5000"
PASSWORD = "correct horse battery staple"


def node(name):
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=os.environ["MOLECULE_INVENTORY_FILE"])


def image_ref(extra_vars=None):
    """The reference jupyter_image computes for the scenario's variables plus extra_vars (no changes made)."""
    run = run_playbook(SCENARIO / "image_ref.yml", limit=MANAGER, extra_vars=extra_vars, check=True)
    assert run.rc == 0, run.output
    return re.search(r"IMAGE_REF=(\S+?)\"", run.output).group(1)
