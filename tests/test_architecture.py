"""The layering and the habits that keep the code base readable, checked on every run.

Layers, bottom to top: core (foundations) → ingest → rag (the answering service) → ui →
policyqa (CLI, HTTP API) → evals. Each may import only from the layers below it; the contract is
written for import-linter in pyproject.toml and enforced here.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import Settings

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "ingest", "rag", "ui", "policyqa", "evals")
MAX_MODULE_LINES = 400
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (REPO / package).rglob("*.py"))


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_layer_contracts_hold() -> None:
    done = _lint_imports(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 1 kept, 0 broken." in done.stdout


@pytest.mark.parametrize(
    ("module", "bad_import", "complaint"),
    [
        ("core/settings.py", "import rag.answer", "core is not allowed to import rag"),
        ("rag/answer.py", "import policyqa.cli", "rag is not allowed to import policyqa"),
        ("policyqa/cli.py", "import evals.run", "policyqa is not allowed to import evals"),
    ],
)
def test_an_import_against_the_layers_fails_the_check(
    tmp_path: Path, module: str, bad_import: str, complaint: str
) -> None:
    """The contract is not vacuous: the same tree with one upward import breaks it."""
    for package in PACKAGES:
        shutil.copytree(
            REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "node_modules")
        )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{bad_import}  # noqa\n", encoding="utf-8")
    done = _lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout
    assert "BROKEN" in done.stdout and complaint in done.stdout, done.stdout


def test_no_module_is_longer_than_the_limit() -> None:
    long = {
        str(p.relative_to(REPO)): n
        for p in _modules()
        if (n := len(p.read_text("utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these modules by job (over {MAX_MODULE_LINES} lines): {long}"


def _environment_uses(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
        and node.attr in ("environ", "getenv", "putenv", "unsetenv")
    ]


def test_only_the_settings_module_reads_the_environment() -> None:
    uses = {str(p.relative_to(REPO)): lines for p in _modules() if (lines := _environment_uses(p))}
    assert set(uses) == {"core/settings.py"}, uses


def test_every_setting_says_what_it_is_for() -> None:
    undocumented = [
        name for name, field in Settings.model_fields.items() if not (field.description or "").strip()
    ]
    assert not undocumented
