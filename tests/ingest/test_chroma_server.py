"""The core ingestion behaviours against a real `chroma run` server.

The test bodies are the ``test_core_*`` functions of test_pipeline.py, run here with the
``backend`` fixture switched to "server": one `chroma run` per module, one collection per test.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ingest_helpers import (
    CHIPS,
    ENERGY,
    IngestEnv,
    MakePdf,
    assert_index_consistent,
    env_fixture,  # noqa: F401 - registers the fixture "env"
    write_corpus,
)
from test_pipeline import (  # noqa: F401 - collected here a second time, against the server
    test_core_bad_files_are_reported_and_skipped,
    test_core_missing_manifest_documents_are_a_notice,
    test_core_pages_metadata_and_spans,
    test_core_rerun_change_and_prune,
    test_core_same_bytes_under_two_names_are_two_documents,
)

from core.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture
def backend() -> str:
    return "server"


def test_cli_ingest_into_server_is_seen_by_another_client(
    module_chroma_server: Any,
    make_pdf: MakePdf,
    embedder: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The CLI writes through the server; a separate service (as the API would be) reads it."""
    from policyqa.cli import main

    corpus = tmp_path / "corpus"
    write_corpus(make_pdf, corpus, docs=(ENERGY, CHIPS), manifest=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POLICYQA_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("POLICYQA_CHROMA_URL", module_chroma_server.url)
    monkeypatch.setenv("POLICYQA_COLLECTION", "cli-server")
    monkeypatch.delenv("POLICYQA_EMBEDDER", raising=False)

    result = CliRunner().invoke(main, ["ingest", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["added"] == 2
    assert not (tmp_path / "data" / "chroma").exists()  # nothing went to an embedded index

    reader = IngestEnv(
        Settings(
            data_dir=tmp_path / "other",
            corpus_dir=corpus,
            chroma_url=module_chroma_server.url,
            collection="cli-server",
        ),
        embedder,
    )
    assert set(reader.service.documents()) == {ENERGY, CHIPS}
    hit = reader.search("ラピダスはどこで量産しますか")[0]
    assert (hit.doc_id, hit.page) == (CHIPS, 2)
    assert_index_consistent(reader)

    again = CliRunner().invoke(main, ["ingest", "--json"])
    assert [f["status"] for f in json.loads(again.stdout)["files"]] == ["unchanged", "unchanged"]


def test_cli_ingest_with_server_down_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_pdf: MakePdf, embedder: Any
) -> None:
    from policyqa.cli import main

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    corpus = tmp_path / "corpus"
    write_corpus(make_pdf, corpus, docs=(ENERGY,), manifest=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POLICYQA_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("POLICYQA_CHROMA_URL", f"http://127.0.0.1:{port}")
    result = CliRunner().invoke(main, ["ingest"])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "unreachable" in result.output
