"""Where the browser assets installed from npm (``ui/web/package.json``) live.

The app serves them itself so every page works offline: PDF.js for the page viewer, Swagger UI
and ReDoc for the API docs. ``npm ci --prefix ui/web --omit=optional`` installs them (the setup
scripts do); a page whose assets are missing says so instead of reaching for a CDN.
"""

from __future__ import annotations

from pathlib import Path

WEB = Path(__file__).resolve().parent / "web"
MODULES = WEB / "node_modules"


def package_dir(name: str) -> Path:
    return MODULES / name


def installed(name: str, file: str) -> bool:
    """Whether ``file`` of the npm package ``name`` is installed."""
    return (package_dir(name) / file).is_file()
