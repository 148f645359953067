#!/usr/bin/env bash
# Run Molecule scenarios (the ones named, or all) one after the other, with a timing line per scenario.
# A scenario that fails is destroyed (by label) before the script exits non-zero.
set -uo pipefail
cd "$(dirname "$0")/.." || exit
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
if [ $# -eq 0 ] || [ "$*" = all ]; then
  # Every scenario; docker_engine first: when the engine install breaks, nothing later is meaningful.
  all=()
  for file in molecule/*/molecule.yml; do
    name=${file#molecule/}
    name=${name%/molecule.yml}
    [ "$name" = docker_engine ] || all+=("$name")
  done
  set -- docker_engine "${all[@]}"
fi
failed=()
for scenario in "$@"; do
  start=$SECONDS
  log "molecule test -s $scenario (MOLECULE_DISTRO=${MOLECULE_DISTRO:-debian12})"
  if molecule test -s "$scenario"; then
    log "scenario $scenario passed in $((SECONDS - start)) s"
  else
    log "scenario $scenario FAILED after $((SECONDS - start)) s"
    failed+=("$scenario")
    bash scripts/clean.sh --scenario "$scenario" >/dev/null || true
  fi
done
[ ${#failed[@]} -eq 0 ] || die "failed scenarios: ${failed[*]}"
