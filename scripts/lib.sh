# Shared by the scripts: logging, the label that marks everything this project creates (so clean-up
# removes by label and never by name patterns), and installing the Debian packages a script needs.
# shellcheck shell=bash
# shellcheck disable=SC2034  # used by the scripts that source this file
PROJECT_LABEL=io.condaswarm.project
log() { printf '==> %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# True where the scripts may install system packages themselves: as root on Debian/Ubuntu.
can_apt() { [ "$(id -u)" -eq 0 ] && [ -r /etc/debian_version ] && command -v apt-get >/dev/null; }

# missing_packages PKG... prints the packages dpkg does not report as installed.
missing_packages() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -qx 'install ok installed' || echo "$pkg"
  done
}

# apt_install WHY PKG... installs the missing packages as root on Debian/Ubuntu; anywhere else it stops
# and names them, with WHY (what needs them).
apt_install() {
  local why=$1 missing
  shift
  mapfile -t missing < <(missing_packages "$@")
  [ ${#missing[@]} -eq 0 ] && return 0
  can_apt || die "$why: install ${missing[*]} (Debian/Ubuntu package names) with your package manager, then run this again"
  log "installing ${missing[*]} ($why)"
  # Retries: one slow mirror answer must not fail a run.
  DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Retries=5 update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Retries=5 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
