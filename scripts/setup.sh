#!/usr/bin/env bash
# Prepare this machine for the collection's commands:
#   setup.sh            the virtualenv ($VENV, default .venv) with every Python dependency from
#                       requirements.txt, and what `make lint` needs besides (shellcheck);
#   setup.sh --docker   a Docker daemon that answers: Debian's docker.io and iptables installed and
#                       started when none does, and inotify instances enough for the node containers'
#                       systemd. Only the targets that run containers ask for it.
# System packages are installed only as root on Debian/Ubuntu; anywhere else the script names them.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/condaswarm-dockerd.log}

docker_answers() { command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1; }

start_dockerd() {
  # systemd's own test (sd_booted): procps, and so ps, is not on a minimal Debian.
  if [ -d /run/systemd/system ]; then
    log "starting docker.service"
    systemctl enable --now docker.service
  else
    # No systemd here (a container or a sandbox): run the daemon in the background with a log file.
    # A daemon killed with its machine leaves its pid files behind, and dockerd refuses to start.
    local pidfile
    for pidfile in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
      if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then rm -f "$pidfile"; fi
    done
    log "starting dockerd in the background (log: $DOCKERD_LOG)"
    nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  fi
  for _ in $(seq 1 60); do docker_answers && return 0; sleep 1; done
  tail -n 20 "$DOCKERD_LOG" >&2 2>/dev/null || true
  die "dockerd did not answer within 60 s"
}

ensure_docker() {
  if docker_answers; then
    log "docker answers ($(docker version --format '{{.Server.Version}}'))"
    return 0
  fi
  can_apt || die "no Docker daemon answers, and this script installs one only as root on Debian/Ubuntu.
  Install Docker Engine (https://docs.docker.com/engine/install/), start it, make sure '$(id -un)' may use it
  ('docker info' must answer), then run this again."
  apt_install "the node containers need a Docker Engine" docker.io iptables
  # From Debian 13 on the docker command is its own package, which docker.io only recommends.
  command -v docker >/dev/null || apt_install "the docker command (Debian 13 and later ship it apart)" docker-cli
  start_dockerd
}

# systemd in every node container, and each nested dockerd, hold inotify instances of their own: 128 (the
# kernel's default) runs out once a lab and a multi-node scenario are up together, and new nodes then
# exit at boot. Raised for the running kernel only; a site keeps it with a file in /etc/sysctl.d.
INOTIFY_INSTANCES=${INOTIFY_INSTANCES:-1024}
ensure_inotify() {
  local current
  current=$(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null || echo 0)
  [ "$current" -ge "$INOTIFY_INSTANCES" ] && return 0
  if [ "$(id -u)" -eq 0 ] && sysctl -qw fs.inotify.max_user_instances="$INOTIFY_INSTANCES" 2>/dev/null; then
    log "fs.inotify.max_user_instances raised from $current to $INOTIFY_INSTANCES (node containers run systemd)"
  else
    log "warning: fs.inotify.max_user_instances is $current; several labs/scenarios at once need about $INOTIFY_INSTANCES"
  fi
}

ensure_venv() {
  local stamp="$VENV/.requirements.sha256" want version
  want=$(sha256sum requirements.txt | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    log "virtualenv $VENV is up to date"
    return 0
  fi
  command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install Python 3.11 or newer (README: Prerequisites) or set PYTHON=/path/to/python3"
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "Python 3.11 or newer is needed (found $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.11"
  # `venv --help` answers without ensurepip, but creating a virtualenv with pip needs it; Debian ships
  # it apart, in pythonX.Y-venv.
  if ! "$PYTHON" -c 'import ensurepip' 2>/dev/null; then
    version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    apt_install "$PYTHON has no ensurepip, which a virtualenv needs" "python$version-venv"
  fi
  log "creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt
  echo "$want" >"$stamp"
}

ensure_shellcheck() {
  if command -v shellcheck >/dev/null; then return 0; fi
  if can_apt; then
    apt_install "make lint runs shellcheck" shellcheck
  else
    log "make lint needs shellcheck, which this script installs only as root on Debian/Ubuntu: install the"
    log "shellcheck package of your system (apt, dnf, brew ...); make unit and everything else work without it"
  fi
}

case "${1:-}" in
  "")
    ensure_venv
    ensure_shellcheck
    log "ready: . $VENV/bin/activate"
    ;;
  --docker)
    ensure_docker
    ensure_inotify
    ;;
  *) die "usage: setup.sh [--docker]" ;;
esac
