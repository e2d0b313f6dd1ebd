#!/usr/bin/env bash
# Install test dependencies and run the whole suite (what .ci/run calls).
set -euo pipefail
cd "$(dirname "$0")/.."
# The tests' own kernel cache (never the user's); exported first so that the install's warm-up
# fills it.
export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-$PWD/.numba_cache}"
bash scripts/install.sh test
PY="$(bash scripts/python.sh)"
export HF_HUB_OFFLINE=1
set +e
"$PY" -m pytest -q -p no:cacheprovider "$@"
rc=$?
set -e
if [ "$rc" = "5" ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$rc"
