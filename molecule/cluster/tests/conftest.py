"""Fixtures of the cluster scenario: the platform client of molecule/jupyter_stack, pointed at this cluster."""

import importlib.util
from pathlib import Path

import pytest

# The jupyter_stack scenario's client (login, API, kernel websocket), imported rather than copied. Its
# functions read the module's names at call time, so setting them here points it at this scenario.
_spec = importlib.util.spec_from_file_location(
    "cluster_client", Path(__file__).parents[2] / "jupyter_stack" / "tests" / "stack_helpers.py"
)
client = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(client)
client.MANAGER = "cluster-manager"
client.WORKERS = ["cluster-worker1", "cluster-worker2"]
client.MANAGER_IP = "10.207.0.10"
client.BASE = f"https://{client.MANAGER_IP}/"

MANAGER = client.MANAGER
WORKERS = client.WORKERS
NFS = "cluster-nfs"
NODES = [MANAGER, *WORKERS, NFS]
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def manager():
    return client.node(MANAGER)


@pytest.fixture(scope="session")
def cafile(manager, tmp_path_factory):
    """The proxy's self-signed certificate, the only thing the test clients trust."""
    path = tmp_path_factory.mktemp("tls") / "stack.crt"
    path.write_text(manager.check_output(f"cat {client.STACK_DIR}/tls.crt") + "\n")
    return str(path)
