#!/usr/bin/env bash
# Build the lab/Molecule node images, tagged by a hash of their recipe, so a second run is a cache hit:
#   condaswarm/node:<distro>        systemd, python3, sudo, openssh-server ...   (images/node)
#   condaswarm/node-engine:<distro> the same plus docker.io and python3-docker    (images/engine)
#   condaswarm/busybox:latest       a tiny workload image for tests              (images/busybox)
#   condaswarm/debian:<distro>      the plain Debian base (for images built on the nodes)
# The base is the public Debian image when a registry answers, else debootstrap + docker import.
# Usage: scripts/images.sh [debian12 debian13 ...]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
declare -A SUITE=([debian12]=bookworm [debian13]=trixie)

recipe_hash() { cat "$0" "$@" | sha256sum | cut -c1-12; }

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# base_image DISTRO -> prints the name of a Debian base image, pulling or debootstrapping it once.
base_image() {
  local distro=$1 suite=${SUITE[$1]} tag recipe
  recipe=(debootstrap --variant=minbase --include=ca-certificates "$suite")
  tag="condaswarm/debian:${distro}-$(printf '%s ' "${recipe[@]}" | sha256sum | cut -c1-12)"
  if have_image "$tag"; then echo "$tag"; return; fi
  if timeout 60 docker pull -q "debian:${suite}" >/dev/null 2>&1; then
    docker tag "debian:${suite}" "$tag"
  else
    log "no registry answers: debootstrap $suite from $MIRROR"
    command -v debootstrap >/dev/null \
      || apt_install "no registry answers, so the Debian base image is made with debootstrap" debootstrap
    local root; root=$(mktemp -d /tmp/condaswarm-rootfs.XXXXXX)
    trap 'rm -rf "$root"' RETURN
    "${recipe[@]}" "$root" "$MIRROR" >"$root.log" 2>&1 \
      || { tail -n 20 "$root.log" >&2; die "debootstrap $suite failed (log: $root.log)"; }
    rm -f "$root.log"
    tar -C "$root" -c . | docker import --change "LABEL $PROJECT_LABEL=image" - "$tag" >/dev/null
  fi
  echo "$tag"
}

build() { # build NAME DIR BASE TAG
  local name=$1 dir=$2 base=$3 tag=$4
  if have_image "$tag"; then log "$name: cached ($tag)"; else
    log "$name: building $tag"
    DOCKER_BUILDKIT=0 docker build -q --label "$PROJECT_LABEL=image" --build-arg "BASE=$base" -t "$tag" "$dir" >/dev/null
  fi
}

[ $# -gt 0 ] || set -- debian12 debian13
for d in "$@"; do
  [ -n "${SUITE[$d]:-}" ] || die "unknown distro '$d' (known: ${!SUITE[*]})"
  base=$(base_image "$d")
  node="condaswarm/node:${d}-$(recipe_hash images/node/Dockerfile)"
  engine="condaswarm/node-engine:${d}-$(recipe_hash images/node/Dockerfile images/engine/Dockerfile)"
  build "node $d" images/node "$base" "$node"
  build "node-engine $d" images/engine "$node" "$engine"
  # Stable names the scenarios use; they always point at the newest recipe.
  docker tag "$base" "condaswarm/debian:$d"
  docker tag "$node" "condaswarm/node:$d"
  docker tag "$engine" "condaswarm/node-engine:$d"
done
busybox="condaswarm/busybox:$(recipe_hash images/busybox/Dockerfile)"
build busybox images/busybox "$(base_image debian12)" "$busybox"
docker tag "$busybox" condaswarm/busybox:latest
log "images ready: $(docker images --filter "label=$PROJECT_LABEL" --filter dangling=false --format '{{.Repository}}:{{.Tag}}' | grep -v -- '-[0-9a-f]\{12\}$' | sort | tr '\n' ' ')"
