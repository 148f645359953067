# Shared by the scripts: logging and the label that marks everything this project creates,
# so clean-up removes by label and never by name patterns.
# shellcheck shell=bash
PROJECT_LABEL=io.condaswarm.project
log() { printf '==> %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }
