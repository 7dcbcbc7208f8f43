"""The one configuration object, and the environment it hands to child processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings, child_environment


def test_blank_urls_mean_unset() -> None:
    settings = Settings(_env_file=None, chroma_url="  ", llm_base_url="")
    assert settings.chroma_url is None and settings.llm_base_url is None and not settings.llm_enabled


def test_settings_read_the_environment_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("POLICYQA_TOP_K", "3")
    settings = Settings(_env_file=None)
    monkeypatch.setenv("POLICYQA_TOP_K", "9")
    assert settings.top_k == 3 and settings.chroma_path == tmp_path / "chroma"


def test_settings_round_trip_through_a_child_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("POLICYQA_TOP_K", "7")  # the parent's own setting must not leak past the given ones
    monkeypatch.setenv("UNRELATED", "kept")
    given = Settings(_env_file=None, data_dir=tmp_path, top_k=4, admin_token="secret")
    env = child_environment(given, POLICYQA_CHUNK_CHARS="200")
    assert (
        env["UNRELATED"] == "kept"
        and env["POLICYQA_TOP_K"] == "4"
        and env["POLICYQA_ADMIN_TOKEN"] == "secret"
    )
    for name, value in env.items():
        if name.startswith("POLICYQA_"):
            monkeypatch.setenv(name, value)
    child = Settings(_env_file=None)
    assert (child.data_dir, child.top_k, child.chunk_chars) == (tmp_path, 4, 200)
    assert "POLICYQA_LLM_MODEL" not in env  # unset settings stay unset
