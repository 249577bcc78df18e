#!/usr/bin/env bash
# Installs everything the tests need (system packages when missing, the project with its test extra in
# .venv) and runs the whole suite: ruff, mypy, pytest. Extra arguments go to pytest.
source "$(dirname "${BASH_SOURCE[0]}")/_setup.sh"

# shellcheck disable=SC2086
ensure_system_packages $PKGS_QT $PKGS_XCB $PKGS_XVFB $PKGS_TEST
ensure_venv test
cd "$ROOT"

log "ruff"
"$VENV/bin/ruff" check .
log "mypy"
"$VENV/bin/mypy" kdocs_viewer
log "pytest"
export QT_QPA_PLATFORM=offscreen
"$VENV/bin/python" -m pytest "$@"
