#!/usr/bin/env bash
# Remove containers, volumes and networks this project created, found by label (never by name):
#   clean.sh                   everything labelled by Molecule scenarios and the lab
#   clean.sh --scenario NAME   one Molecule scenario
#   clean.sh --lab             the lab only
# Prints what it removed; a missing daemon is not an error (nothing to clean).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

case "${1:-}" in
  --scenario) filters=(--filter "label=io.condaswarm.scenario=${2:?scenario name}") ;;
  --lab) filters=(--filter "label=$PROJECT_LABEL=lab") ;;
  "") filters=(--filter "label=$PROJECT_LABEL") ;;
  *) die "usage: clean.sh [--scenario NAME | --lab]" ;;
esac
# `label=io.condaswarm.project` without a value would match images too: images are kept (cache).
docker info >/dev/null 2>&1 || exit 0
mapfile -t containers < <(docker ps -aq "${filters[@]}")
[ ${#containers[@]} -eq 0 ] || docker rm -f -v "${containers[@]}"
mapfile -t volumes < <(docker volume ls -q "${filters[@]}")
[ ${#volumes[@]} -eq 0 ] || docker volume rm "${volumes[@]}"
mapfile -t networks < <(docker network ls -q "${filters[@]}")
[ ${#networks[@]} -eq 0 ] || docker network rm "${networks[@]}"
