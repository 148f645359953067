#!/usr/bin/env bash
# make lint's shell check: shellcheck on every shell script of the tree (*.sh, and files whose first line
# is a sh/bash shebang), found by looking rather than listed, so a new or removed script needs no edit
# here; then on the scripts the roles render from templates, rendered by Ansible first
# (tests/unit/test_shell_templates.py).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

command -v shellcheck >/dev/null \
  || die "shellcheck is not installed: 'make setup' installs it as root on Debian/Ubuntu; elsewhere install the shellcheck package"

# Caches, virtualenvs, outputs and the checkout's link back to itself are not ours to check; templates
# (*.j2) are checked once rendered.
mapfile -d '' files < <(
  find . \( -name .git -o -name .venv -o -name .ansible -o -name .cache -o -name .collections -o -name .lab \
    -o -name .molecule -o -path ./tests/output -o -path ./bench/results -o -name node_modules \) -prune \
    -o -type f ! -name '*.j2' -print0 \
    | while IFS= read -r -d '' f; do
        case $f in
          *.sh) printf '%s\0' "$f" ;;
          *) if head -n1 "$f" | grep -qE '^#! ?(/usr/bin/env +)?(/usr)?(/bin/)?(ba|da)?sh( |$)'; then printf '%s\0' "$f"; fi ;;
        esac
      done | sort -z
)
log "shellcheck: ${#files[@]} scripts (${files[*]#./})"
shellcheck -x "${files[@]}"
log "shellcheck: the scripts the roles render"
pytest -q -p no:cacheprovider tests/unit/test_shell_templates.py
