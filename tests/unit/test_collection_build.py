"""`ansible-galaxy collection build` produces an installable tarball with the collection's content."""

import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GALAXY = str(Path(sys.executable).with_name("ansible-galaxy"))


def test_collection_builds(tmp_path):
    proc = subprocess.run(
        [GALAXY, "collection", "build", "--output-path", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (tarball,) = tmp_path.glob("condaswarm-cluster-*.tar.gz")
    names = set(tarfile.open(tarball).getnames())
    assert {"MANIFEST.json", "meta/runtime.yml", "roles/docker_engine/meta/argument_specs.yml"} <= names
    # Local state must never be packed (the .collections link points back at the checkout).
    assert not any(n.startswith((".collections", ".ansible/", ".venv", ".lab")) for n in names)
