#!/usr/bin/env bash
# Set up policyqa, ingest the corpus folder (the bundled deck plus any PDFs you added), and serve
# the API and the chat UI on http://127.0.0.1:8000 (UI at /ui, API docs at /docs).
#   POLICYQA_* variables configure it (see README); HOST and PORT choose where it listens.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
# Browser assets the app serves itself (PDF.js for the page viewer, Swagger UI and ReDoc for the API docs),
# from the npm registry, pinned by ui/web/package-lock.json.
if command -v npm >/dev/null 2>&1; then
  npm ci --prefix ui/web --omit=optional --no-audit --no-fund --silent
else
  echo "npm not found: the page viewer is disabled (citations still open the PDF itself)" >&2
fi
export GRADIO_ANALYTICS_ENABLED=False
# Exit status 1 means some file could not be ingested (reported above); serve the rest anyway.
.venv/bin/policyqa ingest || [ $? -eq 1 ]
exec .venv/bin/policyqa serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
