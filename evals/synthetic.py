"""Reproducible synthetic corpora for benchmarks: many PDFs derived from the bundled deck's text.

A corpus of ``pages`` pages is made of documents of (at most) 64 pages. Document ``i`` takes
the source pages in order (``corpus/src/*.txt``, cycled) and varies them deterministically
with a random generator seeded by ``(seed, i)``:

* years (``2022年``, ``2030年度``) move by a few years;
* other numbers get new digits of the same length (so the layout barely changes);
* domestic place names and company names are swapped for others from fixed pools;
* the title line names the volume, so every document has its own title.

Pages therefore differ between documents while keeping the deck's vocabulary, length and
layout. Each document is typeset into a real PDF by ``corpus/build_deck.py`` (imported from
its path; the same fonts and the same page drawing as the bundled deck), several documents
at once in worker processes. A finished corpus is recorded in ``corpus.json`` and reused by
the next run with the same size and seed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import random
import re
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
CORPUS_SRC = REPO / "corpus" / "src"
BUILD_DECK = REPO / "corpus" / "build_deck.py"
PAGES_PER_DOC = 64
GENERATOR_VERSION = 1  # bump when the generated text changes, so cached corpora are rebuilt

# Names found in the deck and what they may become. Replacements are drawn per document.
PLACES = ["熊本", "長崎", "福岡", "大分", "佐賀", "千葉", "神奈川", "京都", "東京", "北海道", "九州", "東北"]
PLACE_POOL = [
    "宮城",
    "岩手",
    "秋田",
    "山形",
    "新潟",
    "富山",
    "石川",
    "福井",
    "長野",
    "岐阜",
    "静岡",
    "愛知",
    "三重",
    "滋賀",
    "兵庫",
    "奈良",
    "岡山",
    "広島",
    "山口",
    "徳島",
    "香川",
    "愛媛",
    "高知",
    "宮崎",
    "鹿児島",
    "青森",
    "茨城",
    "栃木",
    "群馬",
    "埼玉",
    "山梨",
    "和歌山",
    "鳥取",
    "島根",
    "四国",
    "北陸",
]
COMPANIES = ["TSMC", "JASM", "ラピダス", "ファーウェイ", "JOGMEC", "Google", "McKinsey", "Omdia", "JETRO"]
COMPANY_POOL = [
    "アオバ精機",
    "ミナト電子",
    "NKX",
    "ホクト化成",
    "サクラ半導体",
    "KRT",
    "ヤマト素材",
    "ツバサ工業",
    "ASTEC",
    "カガミ電機",
    "ヒカリ通信",
    "MJX",
    "シオン製作所",
    "タカネ重工",
    "ORBIS",
    "セイラン物産",
    "ミズホ技研",
    "LUMEX",
    "アサギ化学",
    "コトブキ電装",
]

_NUMBER = re.compile(r"(?<![\d,])\d[\d,]*")


@dataclass(frozen=True)
class SyntheticCorpus:
    path: Path  # folder holding the PDFs
    pages: int
    documents: int
    seed: int
    built: bool  # False when a cached corpus was reused
    seconds: float  # time spent building (0 when reused)


def load_build_deck() -> ModuleType:
    """corpus/build_deck.py is a script, not a package module: load it from its path."""
    spec = importlib.util.spec_from_file_location("policyqa_build_deck", BUILD_DECK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def source_pages() -> list[str]:
    build_deck = load_build_deck()
    pages: list[str] = []
    for src in sorted(CORPUS_SRC.glob("*.txt")):
        pages.extend(p for p in build_deck.split_pages(src.read_text(encoding="utf-8")) if p.strip())
    if not pages:
        raise FileNotFoundError(f"no source pages under {CORPUS_SRC}")
    return pages


def _new_digits(rng: random.Random, number: str) -> str:
    """Same length and the same comma positions, other digits (no leading zero)."""
    out = []
    for i, ch in enumerate(number):
        if ch.isdigit():
            out.append(str(rng.randint(1 if i == 0 and len(number) > 1 else 0, 9)))
        else:
            out.append(ch)
    return "".join(out)


def _vary_number(rng: random.Random, match: re.Match, shift: int) -> str:
    number = match.group(0)
    if len(number) == 4 and number[:2] in ("19", "20") and match.string.startswith("年", match.end()):
        return str(int(number) + shift)  # a year stays a plausible year
    return _new_digits(rng, number)


def vary_pages(pages: list[str], seed: int, doc_index: int) -> list[str]:
    """The document's pages with its own years, numbers and names (deterministic in seed and index)."""
    rng = random.Random(f"policyqa-bench:{seed}:{doc_index}")
    shift = rng.choice([-3, -2, -1, 1, 2, 3])
    names = dict(zip(PLACES, rng.sample(PLACE_POOL, len(PLACES))))
    names.update(zip(COMPANIES, rng.sample(COMPANY_POOL, len(COMPANIES))))
    name_re = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))
    varied = []
    for page in pages:
        page = name_re.sub(lambda m: names[m.group(0)], page)
        page = _NUMBER.sub(lambda m: _vary_number(rng, m, shift), page)
        varied.append(page)
    title, _, rest = varied[0].partition("\n")
    varied[0] = f"{title}（合成資料 第{doc_index + 1}集）" + (f"\n{rest}" if rest else "")
    return varied


def document_plan(pages: int, seed: int) -> list[tuple[str, int, int]]:
    """(doc_id, first source page, page count) for each document of a corpus of ``pages`` pages."""
    documents = math.ceil(pages / PAGES_PER_DOC)
    plan = []
    for i in range(documents):
        count = min(PAGES_PER_DOC, pages - i * PAGES_PER_DOC)
        plan.append((f"synth-s{seed}-{i:05d}", i * PAGES_PER_DOC, count))
    return plan


def _build_one(
    out_dir: str, doc_id: str, doc_index: int, first: int, count: int, seed: int
) -> tuple[str, int]:
    build_deck = load_build_deck()
    pool = source_pages()
    pages = [pool[(first + k) % len(pool)] for k in range(count)]
    # Page 1 of every document is a title page, as in the deck.
    if first % len(pool) != 0:
        pages[0] = pool[0]
    text = "\n\f\n".join(vary_pages(pages, seed, doc_index))
    src = Path(out_dir) / "src" / f"{doc_id}.txt"
    src.write_text(text, encoding="utf-8")
    out = Path(out_dir) / f"{doc_id}.pdf"
    built = build_deck.build(src, out)
    return doc_id, built


def corpus_dir(workdir: Path, pages: int, seed: int) -> Path:
    return Path(workdir) / f"corpus-p{pages}-s{seed}-v{GENERATOR_VERSION}"


def _fingerprint(pages: int, seed: int) -> str:
    digest = hashlib.sha256(f"{GENERATOR_VERSION}|{pages}|{seed}".encode())
    for src in sorted(CORPUS_SRC.glob("*.txt")):
        digest.update(src.read_bytes())
    digest.update(BUILD_DECK.read_bytes())
    return digest.hexdigest()[:16]


def cached_corpus(workdir: Path, pages: int, seed: int) -> SyntheticCorpus | None:
    folder = corpus_dir(workdir, pages, seed)
    stamp = folder / "corpus.json"
    if not stamp.exists():
        return None
    try:
        info = json.loads(stamp.read_text(encoding="utf-8"))
    except ValueError:
        return None
    if info.get("fingerprint") != _fingerprint(pages, seed):
        return None
    if not all((folder / f"{d}.pdf").exists() for d in info.get("documents", [])):
        return None
    return SyntheticCorpus(folder, int(info["pages"]), len(info["documents"]), seed, built=False, seconds=0.0)


def build_corpus(
    workdir: Path, pages: int, seed: int = 0, *, workers: int = 2, timeout_s: float = 3600, log=print
) -> SyntheticCorpus:
    """The corpus for (pages, seed) under ``workdir``: reused when already built, else typeset now.

    Built in a temporary folder and renamed when complete, so an interrupted build is never
    mistaken for a finished one."""
    if pages < 1:
        raise ValueError("pages must be at least 1")
    cached = cached_corpus(workdir, pages, seed)
    if cached is not None:
        log(f"corpus: reusing {cached.path} ({cached.documents} documents, {cached.pages} pages)")
        return cached
    started = time.perf_counter()
    final = corpus_dir(workdir, pages, seed)
    tmp = final.with_name(final.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "src").mkdir(parents=True)
    plan = document_plan(pages, seed)
    log(f"corpus: typesetting {len(plan)} documents ({pages} pages) into {final} with {workers} worker(s)")
    deadline = time.monotonic() + timeout_s
    total = 0
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [
            pool.submit(_build_one, str(tmp), doc_id, i, first, count, seed)
            for i, (doc_id, first, count) in enumerate(plan)
        ]
        done_count = 0
        pending = set(futures)
        while pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                for f in pending:
                    f.cancel()
                raise TimeoutError(f"building the {pages}-page corpus took longer than {timeout_s:.0f} s")
            done, pending = wait(pending, timeout=min(remaining, 30))
            for f in done:
                total += f.result()[1]
                done_count += 1
            if done and (done_count % 20 == 0 or not pending):
                log(
                    f"corpus: {done_count}/{len(plan)} documents typeset "
                    f"({time.perf_counter() - started:.0f} s)"
                )
    if total != pages:
        raise RuntimeError(f"typeset {total} pages, expected {pages}")
    (tmp / "corpus.json").write_text(
        json.dumps(
            {
                "pages": pages,
                "seed": seed,
                "fingerprint": _fingerprint(pages, seed),
                "documents": [d for d, _, _ in plan],
                "generator_version": GENERATOR_VERSION,
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    seconds = time.perf_counter() - started
    log(f"corpus: built in {seconds:.0f} s")
    return SyntheticCorpus(final, pages, len(plan), seed, built=True, seconds=seconds)
