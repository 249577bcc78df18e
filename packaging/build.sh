#!/usr/bin/env bash
# Build the one-folder app dist/kdocs-viewer (kdocs-viewer + kdocs-pics) with PyInstaller, then smoke-test it.
#   packaging/build.sh               install PyInstaller into the venv if missing, build, smoke-test
#   packaging/build.sh --smoke-only  only smoke-test an existing dist/kdocs-viewer
# The venv is $KDOCS_VENV, else ./.venv (the project installed in it, as scripts/demo.sh makes it).
# Smoke test: both programs' --version, and the viewer's --demo on the offscreen platform, which quits with
# status 0 once its first pictures are painted (--quit-after-first-screen), 1 if they never come.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${KDOCS_VENV:-$ROOT/.venv}"
DIST="$ROOT/dist/kdocs-viewer"
log() { printf '==> %s\n' "$*" >&2; }

smoke() {
    [[ -x "$DIST/kdocs-viewer" && -x "$DIST/kdocs-pics" ]] || { echo "no built bundle in $DIST" >&2; exit 2; }
    local version tmp
    version="$("$VENV/bin/python" -c 'import kdocs_viewer; print(kdocs_viewer.__version__)')"
    log "smoke: kdocs-viewer --version"
    [[ "$("$DIST/kdocs-viewer" --version)" == "kdocs-viewer $version" ]] || { echo "wrong version" >&2; exit 1; }
    log "smoke: kdocs-pics --version"
    [[ "$("$DIST/kdocs-pics" --version)" == "kdocs-pics $version" ]] || { echo "wrong version" >&2; exit 1; }
    log "smoke: kdocs-viewer --demo --quit-after-first-screen (offscreen)"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' RETURN
    # Its own settings file and no keyring: the smoke test leaves nothing behind on this machine.
    env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=offscreen KDOCS_VIEWER_SETTINGS="$tmp/settings.ini" \
        PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring \
        "$DIST/kdocs-viewer" --demo --quit-after-first-screen "${SMOKE_TIMEOUT:-120}"
    log "smoke: passed"
}

if [[ "${1:-}" == "--smoke-only" ]]; then
    smoke
    exit 0
fi

[[ -x "$VENV/bin/python" ]] || { echo "no venv at $VENV (run scripts/demo.sh once, or set KDOCS_VENV)" >&2; exit 2; }
if ! "$VENV/bin/python" -c 'import PyInstaller' 2>/dev/null; then
    log "installing PyInstaller into $VENV"
    "$VENV/bin/python" -m pip install --quiet pyinstaller
fi
log "building $DIST"
start=$SECONDS
cd "$ROOT"
"$VENV/bin/python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$ROOT/dist" --workpath "$ROOT/build/pyinstaller" packaging/kdocs-viewer.spec
log "built in $((SECONDS - start)) s: $(du -sh "$DIST" | cut -f1) in $DIST"
smoke
