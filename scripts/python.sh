#!/usr/bin/env bash
# Print the Python interpreter s2s_live was installed into (./.venv if install.sh made one).
cd "$(dirname "$0")/.."
if [ -x .venv/bin/python ]; then echo .venv/bin/python; else echo python3; fi
