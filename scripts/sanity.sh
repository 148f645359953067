#!/usr/bin/env bash
# ansible-test sanity, as Galaxy and Automation Hub reviewers run it, reaching no network:
#   - from a real ansible_collections/condaswarm/cluster directory: a copy of the tree in a temporary
#     directory (ansible-test resolves the checkout's .collections link back to the repository root);
#   - against the packages of this virtualenv: ansible-test would make a virtualenv per test and
#     download pip's bootstrap for it from a host that is not reachable here. The import test still gets
#     what it needs to be meaningful, an environment with nothing but its own requirements (PyYAML for
#     modules; Jinja2, MarkupSafe and PyYAML for plugins), linked from this virtualenv.
# Usage: scripts/sanity.sh [ansible-test sanity options], e.g. --test validate-modules
# Skipped by default: pylint (ruff lints the Python; ansible-test's pylint settings forbid `_` as a name,
# which the tests use throughout) and pslint (no PowerShell here).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

python=$(command -v python)
[[ $python == "$(cd "${VENV:-.venv}" && pwd)"/* ]] || die "run from make (make sanity), so that the virtualenv's python comes first in PATH"

work=$(mktemp -d "${TMPDIR:-/tmp}/condaswarm-sanity.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest=$work/ansible_collections/condaswarm/cluster
mkdir -p "$dest" "$work/venvs"

# The collection's files: what git knows (tracked, or new and not ignored) in a checkout; elsewhere the
# tree without the caches and outputs of the tools.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi; done
else
  find . \( -name .git -o -name .venv -o -name .ansible -o -name .cache -o -name .lab -o -name .molecule \
    -o -name __pycache__ -o -name .pytest_cache -o -name .ruff_cache -o -path ./tests/output \
    -o -path ./bench/results \) -prune -o \( -type f -o -type l \) ! -name '*.tar.gz' -print0
fi | grep -zv '^\(\./\)\?\.collections/' | tar -c --null -T - -f - | tar -x -C "$dest"

version=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
default_skips=()
if [ $# -eq 0 ]; then default_skips=(--skip-test pylint --skip-test pslint); fi
log "ansible-test sanity --python $version in $dest"
cd "$dest"
# ansible-test's own entry point, with its two virtualenv functions replaced: every test runs on this
# python, except import, which gets a bare virtualenv with links to its requirements.
SANITY_VENVS=$work/venvs python - --python "$version" --color no "${default_skips[@]}" "$@" <<'PY'
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from ansible_test._internal.commands import sanity
from ansible_test._internal.host_configs import VirtualPythonConfig

SITE = Path(sysconfig.get_paths()["purelib"])
# ansible-test's sanity.import*.txt requirements, as the module names they install.
IMPORT_REQUIREMENTS = {
    "import.module": ["yaml", "_yaml"],
    "import.plugin": ["yaml", "_yaml", "jinja2", "markupsafe"],
    "import.empty": [],
}


def installed_python(args, python, name, coverage=False, minimize=False):
    if name not in IMPORT_REQUIREMENTS:
        return VirtualPythonConfig(version=python.version, path=sys.executable)
    root = Path(os.environ["SANITY_VENVS"]) / name
    if not root.exists():
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
        purelib = subprocess.run(
            [root / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        for module in IMPORT_REQUIREMENTS[name]:
            Path(purelib, module).symlink_to(SITE / module)
    return VirtualPythonConfig(version=python.version, path=str(root / "bin" / "python"))


def libyaml(python):
    import yaml

    return hasattr(yaml, "CSafeLoader")


sanity.create_sanity_virtualenv = installed_python
sanity.check_sanity_virtualenv_yaml = libyaml

from ansible_test._util.target.cli.ansible_test_cli_stub import main

sys.argv = ["ansible-test", "sanity", *sys.argv[1:]]
main()
PY
