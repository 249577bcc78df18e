# shellcheck shell=bash
# Shared set-up for scripts/demo.sh and scripts/test.sh: system packages (Debian/Ubuntu, only those missing)
# and a project virtualenv in .venv. Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${KDOCS_VENV:-$ROOT/.venv}"

# Qt (offscreen and xcb), a CJK font so Chinese is not boxes, curl for the seed example test.
PKGS_QT="libglib2.0-0 libegl1 libgl1 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6 libxkbcommon0
 libbrotli1 libgssapi-krb5-2 fonts-wqy-microhei"
PKGS_XCB="libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0
 libxcb-xkb1 libxkbcommon-x11-0"
PKGS_XVFB="xvfb xauth"
PKGS_TEST="dbus-daemon dbus-bin gnome-keyring curl"

log() { printf '[kdocs-viewer] %s\n' "$*" >&2; }

# ensure_system_packages PKG... — installs the missing ones with apt when we can (root or passwordless sudo).
ensure_system_packages() {
    command -v dpkg-query >/dev/null 2>&1 || { log "not a Debian-like system: skipping system packages"; return 0; }
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo="sudo -n"
        else
            log "missing system packages (install them, then re-run): ${missing[*]}"
            return 0
        fi
    fi
    log "installing system packages: ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# find_python — a Python >= 3.11 interpreter.
find_python() {
    local c
    for c in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$c" ] || continue
        if command -v "$c" >/dev/null 2>&1 &&
            "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            echo "$c"
            return 0
        fi
    done
    log "Python >= 3.11 is required"
    return 1
}

# ensure_venv EXTRAS — creates .venv if needed and installs the project (editable) with the given extras.
ensure_venv() {
    local extras="${1:-}"
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating virtualenv $VENV"
        "$(find_python)" -m venv "$VENV"
    fi
    local spec="$ROOT"
    [ -n "$extras" ] && spec="$ROOT[$extras]"
    log "installing kdocs-viewer${extras:+ [$extras]} into $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$spec"
}

has_display() { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }
