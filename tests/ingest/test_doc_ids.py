"""The one document-id rule, for files the CLI ingests and for uploads."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.doc_ids import doc_id_of, is_safe_doc_id


@pytest.mark.parametrize("value", ["deck", "経済安全保障-2025.03", "a_b", "x" * 128])
def test_plain_names_are_ids(value: str) -> None:
    assert is_safe_doc_id(value)


@pytest.mark.parametrize("value", ["", "..", ".hidden", "a/b", "a b", "x" * 129, "-lead"])
def test_names_that_would_break_a_url_or_a_path_are_not(value: str) -> None:
    assert not is_safe_doc_id(value)


def test_the_id_of_a_file_is_its_stem() -> None:
    assert doc_id_of(Path("/x/報告書.PDF")) == ("報告書", None, None)


def test_a_file_name_that_is_no_id_is_reported_not_raised() -> None:
    doc_id, code, message = doc_id_of(Path("/x/...pdf"))
    assert doc_id is None and code == "invalid_doc_id" and "rename the file" in (message or "")


def test_a_shift_jis_file_name_is_reported_with_its_bytes_escaped() -> None:
    name = "報告".encode("shift_jis").decode("utf-8", "surrogateescape") + ".pdf"
    doc_id, code, message = doc_id_of(Path(name))
    assert doc_id is None and code == "undecodable_file_name" and "\\x" in (message or "")
