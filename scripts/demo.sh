#!/usr/bin/env bash
# Install s2s_live and run the embedded demo: synthetic music, OSC to 127.0.0.1:9000,
# procedural visuals in the browser at http://127.0.0.1:8765/ . No sound card, GPU or download.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec "$(bash scripts/python.sh)" -m s2s_live demo "$@"
