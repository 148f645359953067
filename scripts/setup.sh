#!/usr/bin/env bash
# Prepare this machine to run the collection's tests and the lab:
#   1. a virtualenv (.venv) with every Python dependency from requirements.txt;
#   2. a Docker daemon that answers (Debian's docker.io installed and started when none does),
#      plus iptables and debootstrap (node images are built with it when no registry answers).
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/condaswarm-dockerd.log}

say() { printf '==> %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

is_debian() { [ -r /etc/debian_version ] && command -v apt-get >/dev/null; }
docker_answers() { command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1; }

need_root_or_explain() {
  # Outside Debian-as-root we do not install system packages: say exactly what is missing.
  [ "$(id -u)" -eq 0 ] && is_debian && return 0
  die "a running Docker Engine (with iptables) and debootstrap are needed, and this script only installs them as root on Debian/Ubuntu.
  Install Docker Engine (https://docs.docker.com/engine/install/) and debootstrap with your package manager,
  start the daemon, make sure '$(id -un)' may use it ('docker info' must answer), then run 'make setup' again."
}

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o Acquire::Retries=5 update -qq
  apt-get -o Acquire::Retries=5 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

start_dockerd() {
  if [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; then
    say "starting docker.service"
    systemctl enable --now docker.service
  else
    # No systemd here (a container or a sandbox): run the daemon in the background with a log file.
    # A daemon killed with its machine leaves its pid files behind, and dockerd refuses to start.
    local pidfile
    for pidfile in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
      if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then rm -f "$pidfile"; fi
    done
    say "starting dockerd in the background (log: $DOCKERD_LOG)"
    nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  fi
  for _ in $(seq 1 60); do docker_answers && return 0; sleep 1; done
  tail -n 20 "$DOCKERD_LOG" >&2 2>/dev/null || true
  die "dockerd did not answer within 60 s"
}

ensure_docker() {
  if docker_answers; then
    say "docker answers ($(docker version --format '{{.Server.Version}}'))"
  else
    need_root_or_explain
    apt_install docker.io iptables
    start_dockerd
  fi
  if ! command -v debootstrap >/dev/null; then
    need_root_or_explain
    apt_install debootstrap
  fi
}

ensure_venv() {
  local stamp="$VENV/.requirements.sha256"
  local want; want=$(sha256sum requirements.txt | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    say "virtualenv $VENV is up to date"
    return 0
  fi
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "Python 3.11 or newer is needed (found $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.11"
  if ! "$PYTHON" -m venv --help >/dev/null 2>&1; then
    need_root_or_explain
    apt_install python3-venv
  fi
  say "creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt
  echo "$want" >"$stamp"
}

ensure_docker
ensure_venv
say "ready: . $VENV/bin/activate"
