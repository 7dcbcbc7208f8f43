"""A read-only data folder: `policyqa ask`, `policyqa search` and `serve`'s `/v1/answer` answer from
the existing index; feedback, uploads and deletes answer 503 with a message that names no server
path; nothing is a 500 or a traceback, and the folder is left exactly as it was.

The real thing needs a folder this process cannot write. Without root that is `chmod -R a-w`;
root ignores permission bits, so as root the command runs in a private mount namespace where the
folder is bind-mounted read-only (`unshare -m`). Where neither works the real tests are skipped,
and the in-process test (writes made to fail as a read-only file system fails them) still runs.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import DECK_ID, free_port
from fastapi.testclient import TestClient
from serving import wait_until_serving

from core.settings import Settings
from policyqa.api import create_app
from rag.service import PolicyQA

QUESTION = "特定重要物資はいくつ指定されていますか"
TOKEN = "read-only-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
VOTE = {"question": QUESTION, "answer": "12", "vote": "up"}


def _state(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _no_paths(message: str, *folders: Path) -> None:
    for folder in folders:
        assert str(folder) not in message, message
    assert "Traceback" not in message


@pytest.fixture
def deck_copy(deck_settings, tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    shutil.copytree(deck_settings.data_dir, data)
    return data, deck_settings.corpus_dir


@pytest.fixture
def read_only(deck_copy: tuple[Path, Path]) -> Iterator[list[str]]:
    """A command prefix under which the copied data folder cannot be written."""
    data, _ = deck_copy
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [data, *data.rglob("*")]}
        for path in modes:
            path.chmod(modes[path] & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        try:
            yield []
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
        return
    prefix = ["unshare", "-m", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"', str(data)]
    try:
        probe = subprocess.run([*prefix, "touch", str(data / "probe")], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"running as root, which chmod does not stop, and no mount namespace here: {exc}")
    if probe.returncode == 0 or b"Read-only" not in probe.stderr:
        (data / "probe").unlink(missing_ok=True)
        pytest.skip(
            "running as root, which chmod does not stop, and a read-only bind mount is not possible "
            f"here: {probe.stderr.decode(errors='replace').strip()}"
        )
    yield prefix


def _env(data: Path, corpus: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYQA_")}
    env.update(POLICYQA_DATA_DIR=str(data), POLICYQA_CORPUS_DIR=str(corpus), NO_PROXY="127.0.0.1", **extra)
    return env


@pytest.mark.slow
def test_cli_asks_and_searches_a_read_only_index(deck_copy, read_only, tmp_path: Path) -> None:
    data, corpus = deck_copy
    before = _state(data)
    cli = [*read_only, sys.executable, "-m", "policyqa.cli"]
    for args in (["ask", QUESTION, "--json"], ["search", QUESTION, "--json", "-k", "3"]):
        done = subprocess.run(
            [*cli, *args], env=_env(data, corpus), cwd=tmp_path, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        result = json.loads(done.stdout)
        if args[0] == "ask":
            assert not result["abstained"] and {c["page"] for c in result["citations"]} & {16, 19}
        else:
            assert result["sources"] and result["sources"][0]["doc_id"] == DECK_ID
    ingest = subprocess.run(
        [*cli, "ingest"], env=_env(data, corpus), cwd=tmp_path, capture_output=True, text=True, timeout=180
    )
    assert ingest.returncode == 2 and ingest.stderr.startswith("error: cannot write the data folder")
    assert _state(data) == before


@pytest.mark.slow
def test_serve_answers_from_a_read_only_index(deck_copy, read_only, tmp_path: Path) -> None:
    data, corpus = deck_copy
    before = _state(data)
    port = free_port()
    log = open(tmp_path / "serve.log", "wb")
    server = subprocess.Popen(
        [*read_only, sys.executable, "-m", "policyqa.cli", "serve", "--port", str(port)],
        env=_env(data, corpus, POLICYQA_ADMIN_TOKEN=TOKEN, GRADIO_ANALYTICS_ENABLED="False"),
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(server, f"{url}/readyz", tmp_path / "serve.log")
        answer = httpx.post(f"{url}/v1/answer", json={"question": QUESTION}, timeout=60)
        assert answer.status_code == 200, answer.text
        assert {c["page"] for c in answer.json()["citations"]} & {16, 19}
        refused = [
            httpx.post(f"{url}/v1/feedback", json=VOTE, timeout=30),
            httpx.post(
                f"{url}/v1/documents",
                files={"file": ("x.pdf", b"%PDF-1.4 x", "application/pdf")},
                headers=AUTH,
                timeout=30,
            ),
            httpx.delete(f"{url}/v1/documents/{DECK_ID}", headers=AUTH, timeout=30),
        ]
        codes = [(r.status_code, r.json()["error"]["code"]) for r in refused]
        assert codes == [(503, "feedback_unavailable"), (503, "storage_failure"), (503, "storage_failure")]
        for r in refused:
            _no_paths(r.json()["error"]["message"], data, tmp_path)
        assert httpx.get(f"{url}/v1/documents/{DECK_ID}", timeout=30).status_code == 200
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    assert "Traceback" not in (tmp_path / "serve.log").read_text(errors="replace")
    assert _state(data) == before


def test_api_on_a_folder_that_refuses_writes(deck_copy, embedder, monkeypatch) -> None:
    """In process: every write under the data folder fails as on a read-only file system."""
    import core.store.chroma

    data, corpus = deck_copy
    before = _state(data)
    real_mkdir, real_open = Path.mkdir, open

    def refuse(path: os.PathLike[str] | str) -> None:
        if Path(path).resolve().is_relative_to(data.resolve()):
            raise OSError(errno.EROFS, "Read-only file system", str(path))

    def mkdir(self: Path, *args, **kwargs) -> None:
        refuse(self)
        real_mkdir(self, *args, **kwargs)

    def open_(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+"):
            refuse(file)
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(core.store.chroma, "writable", lambda folder: False)
    monkeypatch.setattr(Path, "mkdir", mkdir)
    monkeypatch.setattr("rag.feedback.open", open_, raising=False)
    monkeypatch.setattr("core.store.locks.open", open_, raising=False)

    # A copy left by a server that a signal ended (atexit does not run then) goes with the next one.
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = Path(tempfile.gettempdir()) / f"policyqa-read-only-index-{dead.pid}-test"
    (orphan / "chroma").mkdir(parents=True)
    settings = Settings(data_dir=data, corpus_dir=corpus, admin_token=TOKEN)
    service = PolicyQA(settings, embedder=embedder)
    with TestClient(create_app(settings, service, with_ui=False)) as client:
        assert client.get("/readyz").status_code == 200
        answer = client.post("/v1/answer", json={"question": QUESTION})
        assert answer.status_code == 200 and answer.json()["citations"]
        feedback = client.post("/v1/feedback", json=VOTE)
        upload = client.post(
            "/v1/documents", files={"file": ("x.pdf", b"%PDF-1.4 x", "application/pdf")}, headers=AUTH
        )
        delete = client.delete(f"/v1/documents/{DECK_ID}", headers=AUTH)
        for response, code in (
            (feedback, "feedback_unavailable"),
            (upload, "storage_failure"),
            (delete, "storage_failure"),
        ):
            assert (response.status_code, response.json()["error"]["code"]) == (503, code), response.text
            _no_paths(response.json()["error"]["message"], data)
        assert client.get(f"/v1/documents/{DECK_ID}").status_code == 200
        assert not orphan.exists()
        copy = service.store.db.copy
        assert copy is not None and copy.is_dir() and f"-{os.getpid()}-" in copy.parent.name
    service.close()
    assert not copy.parent.exists()
    assert _state(data) == before
