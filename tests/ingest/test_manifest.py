"""The corpus manifest: entries by doc_id, and every mistake in it reported with the file's path."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ManifestError
from ingest.manifest import MANIFEST_NAME, ManifestEntry, load_manifest, missing_documents


def _write(folder: Path, text: str, encoding: str = "utf-8") -> Path:
    path = folder / MANIFEST_NAME
    path.write_bytes(text.encode(encoding))
    return path


def _error(folder: Path) -> ManifestError:
    with pytest.raises(ManifestError) as caught:
        load_manifest(folder)
    assert str(folder / MANIFEST_NAME) in caught.value.message, "the message names the file"
    assert caught.value.code == "invalid_manifest"
    return caught.value


def test_an_absent_manifest_is_empty(tmp_path: Path) -> None:
    assert load_manifest(tmp_path) == {}


def test_a_manifest_without_documents_is_empty(tmp_path: Path) -> None:
    _write(tmp_path, "# nothing listed yet\n")
    assert load_manifest(tmp_path) == {}


def test_valid_entries_by_doc_id_with_defaults(tmp_path: Path) -> None:
    _write(
        tmp_path,
        """
[[document]]
doc_id = "mhlw-model-work-rules-2022"
title = "モデル就業規則"
publisher = "厚生労働省"
date = "2022-11"
landing_page = "https://www.mhlw.go.jp/"
licence = "政府標準利用規約（第2.0版）"
bundled = true
written_by_a_newer_version = "ignored"

[[document]]
doc_id = "cao-ai-regulation-approach-2024-05"
title = "AI制度に関する考え方"
""",
    )
    entries = load_manifest(tmp_path)
    assert list(entries) == ["mhlw-model-work-rules-2022", "cao-ai-regulation-approach-2024-05"]
    assert entries["mhlw-model-work-rules-2022"] == ManifestEntry(
        doc_id="mhlw-model-work-rules-2022",
        title="モデル就業規則",
        publisher="厚生労働省",
        date="2022-11",
        landing_page="https://www.mhlw.go.jp/",
        licence="政府標準利用規約（第2.0版）",
        bundled=True,
    )
    second = entries["cao-ai-regulation-approach-2024-05"]
    assert (second.title, second.publisher, second.date, second.language, second.bundled) == (
        "AI制度に関する考え方",
        "",
        "",
        "ja",
        False,
    )


def test_invalid_toml_is_a_manifest_error(tmp_path: Path) -> None:
    _write(tmp_path, '[[document]]\ndoc_id = "a"\ntitle = "閉じていない\n')
    assert "not valid TOML" in _error(tmp_path).message


@pytest.mark.parametrize(
    "body",
    [
        'doc_id = "a"\n',  # no title
        'doc_id = "a"\ntitle = 3\n',  # a title that is not text
        'title = "表題"\n',  # no doc_id
        'doc_id = ""\ntitle = "表題"\n',  # an empty doc_id
    ],
    ids=["missing-title", "numeric-title", "missing-doc-id", "empty-doc-id"],
)
def test_an_entry_without_a_doc_id_and_a_title_is_a_manifest_error(tmp_path: Path, body: str) -> None:
    _write(tmp_path, f'[[document]]\ndoc_id = "ok"\ntitle = "正しい"\n\n[[document]]\n{body}')
    assert "[[document]] number 2 needs a doc_id and a title" in _error(tmp_path).message


def test_documents_that_are_not_a_table_array_are_a_manifest_error(tmp_path: Path) -> None:
    _write(tmp_path, 'document = "a.pdf"\n')
    assert "[[document]] tables" in _error(tmp_path).message


def test_a_doc_id_listed_twice_is_a_manifest_error(tmp_path: Path) -> None:
    _write(
        tmp_path,
        '[[document]]\ndoc_id = "a"\ntitle = "一"\n\n[[document]]\ndoc_id = "a"\ntitle = "二"\n',
    )
    assert "'a' is listed twice" in _error(tmp_path).message


def test_a_manifest_not_in_utf8_is_a_manifest_error(tmp_path: Path) -> None:
    """Japanese editors still save Shift_JIS; that must be a clear error, not a traceback."""
    _write(tmp_path, '[[document]]\ndoc_id = "a"\ntitle = "経済安全保障"\n', encoding="shift_jis")
    _error(tmp_path)


def test_a_toml_date_is_kept_as_its_text(tmp_path: Path) -> None:
    """``date = 2024-05-01`` (no quotes) is a TOML date; the ingest hashes and stores entries as
    JSON and Chroma metadata, which take text only, so it becomes the text it would be quoted."""
    _write(tmp_path, '[[document]]\ndoc_id = "a"\ntitle = "一"\ndate = 2024-05-01\n')
    assert load_manifest(tmp_path)["a"].date == "2024-05-01"


def test_a_field_of_the_wrong_type_is_reported_with_its_name(tmp_path: Path) -> None:
    _write(tmp_path, '[[document]]\ndoc_id = "a"\ntitle = "一"\npublisher = 5\n')
    assert "publisher" in _error(tmp_path).message


def test_missing_documents_are_the_listed_ones_not_present(tmp_path: Path) -> None:
    _write(
        tmp_path,
        '[[document]]\ndoc_id = "a"\ntitle = "一"\n\n[[document]]\ndoc_id = "b"\ntitle = "二"\n',
    )
    manifest = load_manifest(tmp_path)
    assert [e.doc_id for e in missing_documents(manifest, {"a", "unlisted"})] == ["b"]
    assert missing_documents(manifest, {"a", "b"}) == []
