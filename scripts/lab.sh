#!/usr/bin/env bash
# make lab: create the lab nodes on this machine and run site.yml against them over SSH.
# Extra arguments go to playbooks/lab.yml, e.g. scripts/lab.sh -e lab_workers=4
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
start=$SECONDS
ansible-playbook playbooks/lab.yml "$@"
created=$SECONDS
ansible-playbook site.yml -i lab
log "lab nodes created in $((created - start)) s, site.yml converged in $((SECONDS - created)) s"
log "nodes: $(ansible-inventory -i lab --graph 2>/dev/null | grep -c -- '--lab-') (ssh -i .lab/id_ed25519 -p 22201 root@127.0.0.1 for the first manager)"
if [ -f .lab/jupyter_password ]; then
  log "Jupyter: https://127.0.0.1:8443/  password in .lab/jupyter_password"
fi
