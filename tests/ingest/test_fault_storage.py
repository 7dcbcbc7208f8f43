"""`policyqa ingest` on a data folder that is full or read-only.

The data folder is a real file system of its own: a small tmpfs mounted on it (this needs root,
which the CI containers run as; elsewhere the tests skip). chmod would not do: root writes
through any permission bits.

* Full: an index with two documents is built, then a filler file takes the free space, leaving
  none, a little, or some (so writes fail at different points: opening the index, the first
  write, or part-way through a new document). Each failing run must end with exit status 2
  and a one-line message naming the cause (no traceback); after each one a fresh reader sees
  a consistent index with the earlier documents unchanged. Once the filler is gone, the next
  run ingests the new documents and the old ones are still intact.
* Read-only: the same with the file system remounted read-only, then read-write again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ingest_helpers import CHIPS, ENERGY, FACTS, FOOD, write_corpus
from test_pipeline import _check_view, _fresh_view, _long_pages

from core.settings import Settings

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TMPFS_SIZE = "48m"
FACT_QUERIES = [f.query for f in FACTS]


def _mount(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30, check=False)


@pytest.fixture
def small_fs(tmp_path: Path):
    """A 48 MB tmpfs mounted on a fresh folder; unmounted afterwards."""
    mountpoint = tmp_path / "data"
    mountpoint.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small file system")
    mounted = _mount("-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(mountpoint))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        _mount("-o", "remount,rw", str(mountpoint))
        if subprocess.run(
            ["umount", str(mountpoint)], capture_output=True, timeout=30, check=False
        ).returncode:
            subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True, timeout=30, check=False)


def _env(data: Path, corpus: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "POLICYQA_DATA_DIR": str(data),
        "POLICYQA_CORPUS_DIR": str(corpus),
        "PYTHONPATH": str(REPO),
    }
    for name in ("POLICYQA_CHROMA_URL", "POLICYQA_EMBEDDER", "POLICYQA_COLLECTION"):
        env.pop(name, None)
    return env


def _ingest(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "policyqa.cli", "ingest"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _assert_clean_failure(done: subprocess.CompletedProcess, *words: str) -> str:
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    message = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(message) == 1, done.stderr[-3000:]
    assert any(w in message[0] for w in words), message[0]
    return message[0]


def _free_bytes(path: Path) -> int:
    fs = os.statvfs(path)
    return fs.f_bavail * fs.f_frsize


def _fill(folder: Path, leave: int) -> Path:
    """A filler file that leaves about ``leave`` bytes free (tmpfs counts whole pages)."""
    filler = folder / "filler.bin"
    filler.unlink(missing_ok=True)
    size = max(0, _free_bytes(folder) - leave)
    with open(filler, "wb") as fh:
        block = b"\0" * (1 << 20)
        while size > 0:
            try:
                size -= fh.write(block[: min(size, len(block))])
            except OSError:  # full already: that is the point
                break
    return filler


def _live(view: dict) -> dict[str, tuple[str, int]]:
    return {doc_id: (r.gen, r.chunks) for doc_id, r in view["docs"].items()}


def _index_with_two_documents(small_fs: Path, tmp_path: Path, make_pdf, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_corpus(make_pdf, corpus, docs=(ENERGY, CHIPS), manifest=False)
    env = _env(small_fs, corpus)
    first = _ingest(env, tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    settings = Settings(data_dir=small_fs, corpus_dir=corpus)
    view = _fresh_view(settings, embedder, FACT_QUERIES)
    _check_view(view)
    assert set(view["docs"]) == {ENERGY, CHIPS}
    return corpus, env, settings, view


def _assert_intact(settings: Settings, embedder, before: dict) -> dict:
    """A fresh reader sees a consistent index whose earlier documents are exactly as they were."""
    view = _fresh_view(settings, embedder, FACT_QUERIES)
    _check_view(view)
    for doc_id, state in _live(before).items():
        assert _live(view).get(doc_id) == state, f"{doc_id} changed after a failed run"
    for fact in FACTS:
        if fact.doc_id in before["docs"]:
            hit = view["search"][fact.query][0]
            assert (hit.doc_id, hit.page) == (fact.doc_id, fact.page) and fact.phrase in hit.text, fact
    return view


def _assert_recovered(
    env: dict[str, str], cwd: Path, settings: Settings, embedder, before: dict, new_docs: set[str]
) -> None:
    done = _ingest(env, cwd)
    assert done.returncode == 0, done.stderr[-3000:]
    view = _assert_intact(settings, embedder, before)
    assert set(view["docs"]) == set(before["docs"]) | new_docs
    assert not view["hidden"], "markers of failed runs were not cleaned up"
    assert len(view["raw"]) == sum(r.chunks for r in view["docs"].values()), "leftover chunks"
    for fact in FACTS:
        hit = view["search"][fact.query][0]
        assert (hit.doc_id, hit.page) == (fact.doc_id, fact.page), fact


def test_full_disk_fails_cleanly_and_the_index_survives(
    small_fs: Path, tmp_path: Path, make_pdf, embedder
) -> None:
    corpus, env, settings, before = _index_with_two_documents(small_fs, tmp_path, make_pdf, embedder)
    write_corpus(make_pdf, corpus, docs=(FOOD,), manifest=False)
    make_pdf(corpus / "long-plan.pdf", _long_pages("long-plan"))  # big enough to need real space

    failures = []
    filler = None
    for leave in (0, 256 << 10, 1 << 20, 3 << 20):
        filler = _fill(small_fs, leave)
        done = _ingest(env, tmp_path)
        if done.returncode == 0:  # enough room this time: the new documents are in
            break
        failures.append(_assert_clean_failure(done, "free some space", "No space left", "cannot write"))
        filler.unlink()  # room for a reader to open the index (Chroma writes on opening)
        _assert_intact(settings, embedder, before)
    print("\n" + "\n".join(failures))
    assert failures, "the disk never filled up"
    assert "free some space" in failures[0] or "No space left" in failures[0]

    if filler is not None:
        filler.unlink(missing_ok=True)
    _assert_recovered(env, tmp_path, settings, embedder, before, {FOOD, "long-plan"})


def test_read_only_data_folder_fails_cleanly_and_the_index_survives(
    small_fs: Path, tmp_path: Path, make_pdf, embedder
) -> None:
    corpus, env, settings, before = _index_with_two_documents(small_fs, tmp_path, make_pdf, embedder)
    write_corpus(make_pdf, corpus, docs=(FOOD,), manifest=False)

    remount = _mount("-o", "remount,ro", str(small_fs))
    assert remount.returncode == 0, remount.stderr
    try:
        with pytest.raises(OSError):
            (small_fs / "probe").write_text("x")  # really read-only, even for root
        message = _assert_clean_failure(_ingest(env, tmp_path), "Read-only", "read-only")
        print(f"\n{message}")
    finally:
        assert _mount("-o", "remount,rw", str(small_fs)).returncode == 0
    _assert_intact(settings, embedder, before)
    _assert_recovered(env, tmp_path, settings, embedder, before, {FOOD})
