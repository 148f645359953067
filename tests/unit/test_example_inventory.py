"""The production example inventory parses, has the groups site.yml needs, and site.yml passes --syntax-check."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(*args):
    proc = subprocess.run([str(BIN / args[0]), *args[1:]], cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_example_inventory_graph():
    graph = _run("ansible-inventory", "-i", "inventories/example", "--graph")
    for group in ("@swarm:", "@swarm_managers:", "@swarm_workers:", "@nfs_servers:"):
        assert group in graph
    managers = graph.split("@swarm_managers:")[1].split("@swarm_workers:")[0]
    assert managers.count("--mgr") == 3  # an odd number: quorum survives one manager lost


def test_site_syntax_with_example_inventory():
    _run("ansible-playbook", "-i", "inventories/example", "site.yml", "--syntax-check")
