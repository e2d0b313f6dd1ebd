#!/usr/bin/env bash
# Screenshots of a Pd patch as the real Pd GUI draws it: the main window and every sub-patch
# window, one PNG each. Needs xvfb, puredata-gui, x11-utils and imagemagick (scripts/install.sh
# test installs them). No display or sound card needed.
#   bash scripts/pd_screenshot.sh [PATCH] [OUTDIR]     # defaults: patches/s2s.pd docs/img
# writes OUTDIR/pd-main.png and OUTDIR/pd-<subpatch>.png (sub-patches named in the patch; graphs
# of arrays are drawn on the main window). It opens a temporary copy in which each sub-patch is
# visible at load and its window placed so that no two windows overlap on a large virtual screen;
# nothing in the copy's objects or wires changes.
set -euo pipefail
[ -n "${PD_SHOT_DEBUG:-}" ] && set -x
cd "$(dirname "$0")/.."
PATCH="${1:-patches/s2s.pd}"
OUT="${2:-docs/img}"
for cmd in Xvfb pd import xwininfo; do
  command -v "$cmd" >/dev/null || { echo "pd_screenshot: $cmd is missing (apt-get install xvfb puredata-gui x11-utils imagemagick)" >&2; exit 1; }
done
mkdir -p "$OUT"
TMP="$(mktemp -d)"
XPID=""
PDPID=""
cleanup() {
  if [ -n "$PDPID" ]; then kill "$PDPID" 2>/dev/null || true; fi
  if [ -n "$XPID" ]; then kill "$XPID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
NAME="$(basename "$PATCH")"
# The copy: every sub-patch window visible at load, windows tiled in columns without overlap.
# Prints the virtual screen size, then each window's name (main, or the sub-patch's).
python3 - "$PATCH" "$TMP/$NAME" >"$TMP/windows" <<'EOF'
import re, sys

src, dst = sys.argv[1], sys.argv[2]
pieces = re.split(r"((?<!\\);[ \t]*(?:\r?\n|$))", open(src).read())
COLUMN = 2400  # px: windows stack in columns at most this tall
x = y = col_w = screen_w = screen_h = 0
names, depth = [], 0
for k, p in enumerate(pieces):
    a = p.split()
    if a[:2] == ["#X", "restore"]:
        depth -= 1
    if a[:2] != ["#N", "canvas"]:
        continue
    depth += 1
    name = "main" if depth == 1 else " ".join(a[6:-1])
    if name == "(subpatch)":  # an array's graph: drawn on its parent
        continue
    w, h = int(a[4]), int(a[5]) + 40  # + Pd's menu bar
    if y and y + h > COLUMN:
        x, y, col_w = x + col_w + 10, 0, 0
    rest = a[4:] if depth == 1 else a[4:6] + [name, "1"]  # sub-patches: visible at load
    pieces[k] = " ".join(["#N", "canvas", str(x), str(y)] + rest)
    names.append(name)
    screen_w, screen_h = max(screen_w, x + w), max(screen_h, y + h)
    col_w, y = max(col_w, w), y + h
open(dst, "w").write("".join(pieces))
print(screen_w + 20, screen_h + 20)
print("\n".join(names))
EOF
read -r SW SH < "$TMP/windows"
# a free display number
D=90
while [ -e "/tmp/.X11-unix/X$D" ] || [ -e "/tmp/.X$D-lock" ]; do D=$((D + 1)); done
Xvfb ":$D" -screen 0 "${SW}x${SH}x24" -nolisten tcp >"$TMP/xvfb.log" 2>&1 &
XPID=$!
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$D" ] && break; sleep 0.1; done
export DISPLAY=":$D"
# -noprefs: the user's saved Pd settings change neither fonts nor zoom
pd -noprefs -nosound -nomidi -open "$TMP/$NAME" >"$TMP/pd.log" 2>&1 &
PDPID=$!
N=$(($(wc -l < "$TMP/windows") - 1))
# wait until every window is mapped (Pd draws its boxes right after), then a little longer
for _ in $(seq 100); do
  up=$(xwininfo -root -tree 2>/dev/null | grep -c '"[^"]* - '"$TMP"'' || true)
  [ "$up" -ge "$N" ] && break
  sleep 0.2
done
sleep 2
tail -n +2 "$TMP/windows" | while read -r name; do
  if [ "$name" = "main" ]; then title="$NAME  - $TMP"; file="$OUT/pd-main.png"
  else title="$name  - $TMP"; file="$OUT/pd-$name.png"; fi
  id=$(xwininfo -root -tree | grep -F "\"$title\"" | head -1 | awk '{print $1}')
  if [ -z "$id" ]; then echo "pd_screenshot: no window '$title' (pd log: $TMP/pd.log)" >&2; cat "$TMP/pd.log" >&2; exit 1; fi
  # 8-bit palette PNG: a Pd window has a handful of colours, so the files stay small
  import -window "$id" -colors 16 "PNG8:$file"
  echo "$file"
done
