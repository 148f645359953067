#!/usr/bin/env bash
# Remove containers, volumes and networks this project created, found by label (never by name):
#   clean.sh                   what Molecule scenarios left behind (io.condaswarm.project=molecule)
#   clean.sh --scenario NAME   one Molecule scenario (io.condaswarm.scenario=NAME)
#   clean.sh --lab             the lab (io.condaswarm.project=lab)
# Each mode removes only its own: the lab survives `make test`, a scenario survives `make lab-down`, and
# images (io.condaswarm.project=image) are never removed (they are the build cache).
# Prints what it removed on stdout (nothing when there was nothing: Molecule's destroy counts on it);
# a missing daemon is not an error (nothing to clean).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

case "${1:-}" in
  --scenario) label="io.condaswarm.scenario=${2:?scenario name}" what="Molecule scenario $2" ;;
  --lab) label="$PROJECT_LABEL=lab" what="the lab" ;;
  "") label="$PROJECT_LABEL=molecule" what="Molecule scenarios" ;;
  *) die "usage: clean.sh [--scenario NAME | --lab]" ;;
esac
docker info >/dev/null 2>&1 || { log "no Docker daemon answers: nothing of $what to remove"; exit 0; }

# remove KIND NAME...: prints one line naming what went.
remove() {
  local kind=$1
  shift
  [ $# -gt 0 ] || return 0
  case $kind in
    containers) docker rm -f -v "$@" >/dev/null ;;
    volumes) docker volume rm "$@" >/dev/null ;;
    networks) docker network rm "$@" >/dev/null ;;
  esac
  echo "removed $kind of $what: $*"
}
mapfile -t containers < <(docker ps -a --filter "label=$label" --format '{{.Names}}')
remove containers "${containers[@]}"
mapfile -t volumes < <(docker volume ls -q --filter "label=$label")
remove volumes "${volumes[@]}"
mapfile -t networks < <(docker network ls --filter "label=$label" --format '{{.Name}}')
remove networks "${networks[@]}"
[ ${#containers[@]} -gt 0 ] || [ ${#volumes[@]} -gt 0 ] || [ ${#networks[@]} -gt 0 ] \
  || log "nothing of $what to remove ($label)"
if [ -z "${1:-}" ]; then
  lab=$(docker ps -aq --filter "label=$PROJECT_LABEL=lab" | wc -l)
  [ "$lab" -eq 0 ] || log "the lab ($lab containers) is kept: make lab-down removes it"
fi
