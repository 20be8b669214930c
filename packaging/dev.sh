#!/usr/bin/env bash
# GAN Studio developer entry point: set up (idempotently), then launch the app or run the tests.
#
#   packaging/dev.sh app [ARGS...]    set up, then open the GAN Studio window (ARGS go to it)
#   packaging/dev.sh test [PYTEST...] set up, then run the whole test suite
#   packaging/dev.sh setup            only set up
#
# Setup creates .venv (Python 3.11+), installs the pinned torch/torchvision builds (served from
# local disk on our machines) and the project with its dev extras, and installs the few system
# libraries Qt needs when they are missing and we may (root + apt-get). A stamp file holding a
# hash of pyproject.toml makes a second run skip all of it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${GANSTUDIO_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
STAMP="$VENV/.ganstudio-setup"
TORCH_PINS=(torch==2.14.1 torchvision==0.29.1)
# Qt's xcb (real screen) and offscreen platforms load these at run time.
QT_DEBS=(libegl1 libgl1 libfontconfig1 libxkbcommon0 libxkbcommon-x11-0 libdbus-1-3
         libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
         libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-randr0 fonts-dejavu-core)

log() { printf '\033[1m[ganstudio]\033[0m %s\n' "$*" >&2; }

find_python() {
    for candidate in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
           "$candidate" -c 'import sys; raise SystemExit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"; return 0
        fi
    done
    log "Python 3.11 or newer is required"; return 1
}

system_libraries() {
    command -v dpkg-query >/dev/null 2>&1 || return 0
    local missing=()
    for deb in "${QT_DEBS[@]}"; do
        dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q "install ok installed" || missing+=("$deb")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing system libraries for Qt: ${missing[*]}"
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        log "Qt may need these system packages: sudo apt-get install ${missing[*]}"
    fi
}

setup() {
    local want
    want="$( (cat pyproject.toml; echo "${TORCH_PINS[*]}") | sha256sum | cut -d' ' -f1)"
    if [ -x "$PY" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
        return 0  # already set up for this pyproject.toml
    fi
    system_libraries
    if [ ! -x "$PY" ]; then
        log "creating $VENV"
        "$(find_python)" -m venv "$VENV"
    fi
    log "installing torch and torchvision (${TORCH_PINS[*]})"
    "$PY" -m pip install --quiet --disable-pip-version-check "${TORCH_PINS[@]}"
    log "installing GAN Studio and its development tools"
    "$PY" -m pip install --quiet --disable-pip-version-check -e ".[dev]"
    echo "$want" > "$STAMP"
    log "setup complete"
}

cmd="${1:-app}"
[ $# -gt 0 ] && shift
case "$cmd" in
    setup) setup ;;
    app)
        setup
        exec "$VENV/bin/ganstudio" "$@"
        ;;
    test)
        setup
        export QT_QPA_PLATFORM=offscreen
        exec "$PY" -m pytest "$@"
        ;;
    *) echo "usage: packaging/dev.sh {app|test|setup} [ARGS...]" >&2; exit 2 ;;
esac
