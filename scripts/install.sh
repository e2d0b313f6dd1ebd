#!/usr/bin/env bash
# Install s2s_live and its system libraries on Debian/Ubuntu (as root, or with sudo).
#   bash scripts/install.sh          # runtime: the engine and the demo
#   bash scripts/install.sh test     # plus the real components the tests drive
# Uses the current python3 when pip may install into it; on a distribution Python that is
# "externally managed" (PEP 668, e.g. stock Debian 12) it creates ./.venv instead.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
PKGS="libportaudio2 libsndfile1 python3-venv"
if [ "${1:-}" = "test" ]; then
  PKGS="$PKGS jackd2 liblo-tools puredata-core supercollider-language supercollider-server chromium chromium-driver"
  # the Pd GUI under a virtual display: scripts/pd_screenshot.sh (docs/img/pd-*.png)
  PKGS="$PKGS xvfb puredata-gui x11-utils imagemagick"
fi
$SUDO apt-get update -qq
# With recommends: the tests were verified against Debian's default installs of these
# packages (sclang, chromium and jackd run with what they recommend).
$SUDO apt-get install -y -qq $PKGS >/dev/null
PY="$(bash scripts/python.sh)"
if [ "$PY" = "python3" ] && python3 -c 'import sys, sysconfig, os; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) else 1)'; then
  python3 -m venv .venv
  PY=.venv/bin/python
fi
if [ "${1:-}" = "test" ]; then
  # torch==2.13.0 is pinned: the CPU wheel; a looser requirement pulls GBs of CUDA packages.
  "$PY" -m pip install -q "torch==2.13.0"
  "$PY" -m pip install -q -e ".[test]"
else
  "$PY" -m pip install -q -e .
fi
# Compile every DSP kernel now (~40 s on 2 cores), into NUMBA_CACHE_DIR if set, else the user's
# ~/.cache/s2s_live/numba: otherwise the first start compiles them before its first frame.
# Rerunning this script after an upgrade rebuilds what the upgrade made stale.
"$PY" -m s2s_live warmup
