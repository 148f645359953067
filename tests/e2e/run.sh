#!/usr/bin/env bash
# Browser end-to-end test against a running lab (`make lab`): headless Chromium logs in, creates a
# notebook, runs a cell, saves, takes a screenshot. Extra arguments go to pytest.
#   E2E_URL            the lab's URL (default https://127.0.0.1:8443/)
#   E2E_PASSWORD_FILE  the Jupyter password (default .lab/jupyter_password)
#   E2E_SCREENSHOT     where the screenshot goes (default .lab/e2e-notebook.png)
#   E2E_TIMEOUT        seconds to wait for each step (default 120)
#   E2E_KERNEL         which launcher tile to use, by its kernel name (default Python)
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

VENV=${VENV:-.venv}

# Debian's browser and its matching driver; nothing downloads a browser (no selenium-manager).
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    die "/usr/bin/chromium and /usr/bin/chromedriver are needed: install Debian's chromium and chromium-driver
  packages (apt-get install chromium chromium-driver) as root, then run this again."
  fi
  log "installing chromium and chromium-driver"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o Acquire::Retries=5 update -qq
  apt-get -o Acquire::Retries=5 install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi
[ -x "$VENV/bin/python" ] || die "no virtualenv at $VENV: run 'make setup' first"
"$VENV/bin/python" -c 'import selenium' 2>/dev/null || die "selenium is missing from $VENV: run 'make setup'"

export E2E_SCREENSHOT=${E2E_SCREENSHOT:-.lab/e2e-notebook.png}
start=$SECONDS
status=0
# -s: the test prints the notebook's output and its per-step timings.
"$VENV/bin/python" -m pytest -p no:cacheprovider -s tests/e2e "$@" || status=$?
if [ "$status" -eq 0 ]; then
  log "e2e passed in $((SECONDS - start)) s; screenshot: $E2E_SCREENSHOT"
else
  log "e2e FAILED in $((SECONDS - start)) s (exit $status); screenshot of the failure, if the browser got that far: ${E2E_SCREENSHOT%.png}-failure.png"
fi
exit "$status"
