"""`policyqa ingest` and `policyqa search --json` on the bundled corpus, as a user runs them,
and the clear error a data folder that cannot be written gives.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from policyqa.cli import main

REPO = Path(__file__).resolve().parents[2]
MakePdf = Callable[..., Path]
DECK_ID = "econsec-public-private-action-2025-03-16"
DECK_TITLE = "経済安全保障に関する官民連携アクション"
SUMMARY_RE = re.compile(
    r"^(\d+) documents \((\d+) added, (\d+) updated, (\d+) unchanged\), (\d+) pages, (\d+) chunks; "
    r"(\d+) failed, (\d+) pruned; [\d.]+ s$",
    re.MULTILINE,
)


def _isolate(monkeypatch: pytest.MonkeyPatch, home: Path, data: Path, corpus: Path) -> None:
    """Only these settings reach the CLI: no stray environment, no .env from the working folder."""
    monkeypatch.chdir(home)
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(data))
    monkeypatch.setenv("POLICYQA_CORPUS_DIR", str(corpus))
    for name in ("POLICYQA_CHROMA_URL", "POLICYQA_EMBEDDER", "POLICYQA_COLLECTION"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Result]]:
    """The bundled corpus copied to a temporary folder and ingested once by the CLI (~15 s)."""
    home = tmp_path_factory.mktemp("cli-ingest")
    corpus = home / "corpus"
    corpus.mkdir()
    for pdf in (REPO / "corpus").glob("*.pdf"):
        shutil.copy(pdf, corpus / pdf.name)
    shutil.copy(REPO / "corpus" / "manifest.toml", corpus / "manifest.toml")
    with pytest.MonkeyPatch.context() as mp:
        _isolate(mp, home, home / "data", corpus)
        result = CliRunner().invoke(main, ["ingest"])
        yield home, result


@pytest.fixture
def in_bundled(bundled: tuple[Path, Result], monkeypatch: pytest.MonkeyPatch) -> Path:
    home, _ = bundled
    _isolate(monkeypatch, home, home / "data", home / "corpus")
    return home


@pytest.mark.slow
def test_ingest_summary_line_reports_the_deck(bundled: tuple[Path, Result]) -> None:
    _, result = bundled
    assert result.exit_code == 0, result.output
    assert f"added      {DECK_ID} (64 pages, " in result.output
    found = SUMMARY_RE.search(result.output)
    assert found, result.output
    documents, added, updated, unchanged, pages, chunks, failed, pruned = map(int, found.groups())
    assert (documents, added, updated, unchanged, pages, failed, pruned) == (1, 1, 0, 0, 64, 0, 0)
    assert chunks >= 64
    # The manifest lists two documents that are not bundled: a notice each, not a failure.
    assert result.output.count("notice: listed document not found") == 2
    assert "econsec-industrial-technology-action-plan.pdf" in result.output


@pytest.mark.slow
def test_ingest_json_reports_the_deck(in_bundled: Path) -> None:
    result = CliRunner().invoke(main, ["ingest", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    summary = report["summary"]
    assert (summary["documents"], summary["pages"], summary["unchanged"], summary["failed"]) == (1, 64, 1, 0)
    [deck] = report["files"]
    assert (deck["doc_id"], deck["status"], deck["pages"]) == (DECK_ID, "unchanged", 64)
    assert deck["chunks"] == summary["chunks"]
    assert {m["doc_id"] for m in report["missing"]} == {
        "econsec-industrial-technology-action-plan",
        "econsec-private-best-practices-v2",
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    ("query", "page", "phrase"),
    [
        ("積水化学工業のペロブスカイト太陽電池の発電効率は", 42, "発電効率15%"),
        ("2030年のベースメタルの自給率の目標は", 51, "80%以上"),
    ],
)
def test_search_json_lists_sources_best_first(in_bundled: Path, query: str, page: int, phrase: str) -> None:
    result = CliRunner().invoke(main, ["search", query, "--json", "-k", "5"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["query"] == query
    sources = data["sources"]
    assert 1 <= len(sources) <= 5
    for source in sources:
        assert set(source) == {"doc_id", "doc_title", "page", "score", "text", "chunk_id"}
        assert (source["doc_id"], source["doc_title"]) == (DECK_ID, DECK_TITLE)
        assert 1 <= source["page"] <= 64 and source["text"]
        assert source["chunk_id"].startswith(f"{DECK_ID}:")
    scores = [s["score"] for s in sources]
    assert scores == sorted(scores, reverse=True)
    assert len({s["chunk_id"] for s in sources}) == len(sources)
    assert (sources[0]["page"], phrase in sources[0]["text"]) == (page, True)


# ---------------------------------------------------------------------------- unwritable data folder


def _blocked_data_dirs(tmp_path: Path) -> list[Path]:
    """Data folders no process can create, even as root (root ignores chmod): one under a regular
    file, and one that is itself a regular file."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be\n", encoding="utf-8")
    return [blocker / "data", blocker]


@pytest.mark.parametrize("case", [0, 1], ids=["parent-is-a-file", "data-dir-is-a-file"])
@pytest.mark.parametrize("args", [["ingest"], ["ingest", "--json"], ["ingest", "--reset"]])
def test_unwritable_data_folder_is_a_clear_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    embedder: Any,
    make_pdf: MakePdf,
    case: int,
    args: list[str],
) -> None:
    corpus = tmp_path / "corpus"
    make_pdf(corpus / "memo.pdf", ["メモ\n\n本文がある。"])
    data = _blocked_data_dirs(tmp_path)[case]
    _isolate(monkeypatch, tmp_path, data, corpus)
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), f"a traceback instead of a message: {result.exception!r}"
    assert "Traceback" not in result.output
    assert result.output.startswith("error: ")
    assert str(data) in result.output
    assert "cannot write" in result.output


# ---------------------------------------------------------------------------- duplicates


def test_ingest_reports_a_copy_as_a_duplicate_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_pdf: MakePdf
) -> None:
    corpus = tmp_path / "corpus"
    original = make_pdf(corpus / "a-memo.pdf", ["港湾メモ\n\n荷役能力を点検した。"])
    (corpus / "b-memo-copy.pdf").write_bytes(original.read_bytes())
    make_pdf(corpus / "c-other.pdf", ["別の資料\n\n備蓄を九十日分とする。"])
    _isolate(monkeypatch, tmp_path, tmp_path / "data", corpus)

    result = CliRunner().invoke(main, ["ingest"])
    assert result.exit_code == 0, result.output
    assert "duplicate  " in result.output and "already indexed as 'a-memo'" in result.output
    assert "2 added" in result.output and "1 duplicates skipped, 0 failed" in result.output

    report = json.loads(CliRunner().invoke(main, ["ingest", "--json"]).stdout)
    assert [(f["doc_id"], f["status"], f["duplicate_of"]) for f in report["files"]] == [
        ("a-memo", "unchanged", None),
        ("b-memo-copy", "duplicate", "a-memo"),
        ("c-other", "unchanged", None),
    ]

    forced = CliRunner().invoke(main, ["ingest", "--allow-duplicate", "--json"])
    assert forced.exit_code == 0, forced.output
    assert {f["doc_id"]: f["status"] for f in json.loads(forced.stdout)["files"]}["b-memo-copy"] == "added"
