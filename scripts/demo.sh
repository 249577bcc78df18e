#!/usr/bin/env bash
# Installs the viewer (system packages when missing, the project in .venv) and runs it on the embedded
# stand-in server with demo data. Without a display it runs under xvfb-run
# (scripts/screenshot.py captures the window). Extra arguments go to kdocs-viewer, e.g. --lang zh_CN.
source "$(dirname "${BASH_SOURCE[0]}")/_setup.sh"

if has_display; then
    # shellcheck disable=SC2086
    ensure_system_packages $PKGS_QT $PKGS_XCB
else
    # shellcheck disable=SC2086
    ensure_system_packages $PKGS_QT $PKGS_XCB $PKGS_XVFB
fi
ensure_venv ""

if has_display; then
    exec "$VENV/bin/kdocs-viewer" --demo "$@"
fi
log "no display: running under xvfb-run (virtual screen; stop with Ctrl+C)"
exec xvfb-run -a -s "-screen 0 1600x1000x24" "$VENV/bin/kdocs-viewer" --demo "$@"
