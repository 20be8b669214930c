#!/usr/bin/env bash
# Re-take the README screenshots on a virtual screen (needs ../shared/scripts/xshot.sh).
#   docs/screenshots/take.sh [idle|training|points ...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
XSHOT="${XSHOT:-$ROOT/../shared/scripts/xshot.sh}"
declare -A WAIT=([idle]=15 [training]=${TRAIN_WAIT:-150} [points]=45 [dark]=15)
scenes=("$@")
[ ${#scenes[@]} -gt 0 ] || scenes=(idle training points)
for scene in "${scenes[@]}"; do
    out="docs/screenshots/$scene.png"
    "$XSHOT" "$out.tmp.png" "${WAIT[$scene]}" .venv/bin/python docs/screenshots/drive.py "$scene" \
        -qwindowgeometry 1600x1000+0+0
    # An adaptive 256-colour palette keeps each picture small enough for the README.
    .venv/bin/python -c "
from PIL import Image; import sys
Image.open(sys.argv[1]).convert('RGB').quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(sys.argv[2], optimize=True)
" "$out.tmp.png" "$out"
    rm -f "$out.tmp.png"
    echo "$out: $(du -k "$out" | cut -f1) KB"
done
