#!/usr/bin/env bash
# Set up everything the test suite needs, then run all of it.
#   bash scripts/test.sh            # the whole suite (what CI runs)
#   bash scripts/test.sh -m "not slow and not browser" -n 2   # the fast part (< 60 s); any pytest arguments work
set -euo pipefail
cd "$(dirname "$0")/.."

# Headless Chromium and a Japanese font for the browser tests (Debian packages).
if ! command -v chromium >/dev/null 2>&1 || [ ! -e /usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-ipaexfont >/dev/null
fi
if ! command -v npm >/dev/null 2>&1; then  # Node.js for installing PDF.js (the page viewer)
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# The st extra pins torch==2.13.0 (CPU); an unpinned torch would pull a multi-GB CUDA build.
.venv/bin/python -m pip install -q -e ".[dev,st]"
# Browser assets the app serves itself (PDF.js, Swagger UI, ReDoc; browser tests need them), pinned by ui/web/package-lock.json.
npm ci --prefix ui/web --omit=optional --no-audit --no-fund --silent

# Habits first (seconds): lint, formatting, the layer contracts, types.
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports
.venv/bin/mypy

export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/python -m pytest "$@"
