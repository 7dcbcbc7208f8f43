"""English words to Japanese index terms: the nearest term of the vocabulary when close enough,
term vectors embedded once and kept in a cache file."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from fakes import FakeEmbedder

from rag.crosslingual import MIN_SIMILARITY, TermTranslator, translatable

# What a multilingual model does for these words: put them on the Japanese term.
ALIASES = {
    "semiconductor": "半導体",
    "storage battery": "蓄電池",
    "hydrogen": "水素",
    "ai": "人工知能",
}
VOCABULARY = ["半導体", "蓄電池", "水素", "人工知能", "経済安全保障", "サプライチェーン"]


def _embedder() -> FakeEmbedder:
    return FakeEmbedder(aliases=ALIASES)


def test_only_japanese_terms_of_two_characters_or_more_are_translatable() -> None:
    assert translatable("半導体") and translatable("ai規制")
    assert not translatable("半"), "one character"
    assert not translatable("semiconductor"), "ASCII"
    assert not translatable("2024")


def test_english_words_and_word_pairs_map_to_their_japanese_terms() -> None:
    translator = TermTranslator(_embedder())
    translator.update(VOCABULARY)
    assert translator.translate("Which SEMICONDUCTOR and storage battery measures exist?") == [
        "半導体",
        "蓄電池",
    ]
    assert translator.translate("How is hydrogen supplied?") == ["水素"]


def test_each_mapped_term_says_which_word_or_pair_it_came_from() -> None:
    translator = TermTranslator(_embedder())
    translator.update(VOCABULARY)
    assert translator.translate_phrases("Which semiconductor and storage battery measures exist?") == [
        ("semiconductor", "半導体"),
        ("storage battery", "蓄電池"),
    ]


def test_words_far_from_every_term_map_to_nothing() -> None:
    translator = TermTranslator(_embedder())
    translator.update(VOCABULARY)
    assert translator.translate("Describe the regulatory landscape") == []
    strict = TermTranslator(_embedder(), min_similarity=1.01)
    strict.update(VOCABULARY)
    assert strict.translate("semiconductor") == [], "nothing reaches a similarity above 1"
    assert MIN_SIMILARITY < 1.0


def test_stop_words_and_short_words_are_not_looked_up() -> None:
    embedder = _embedder()
    translator = TermTranslator(embedder)
    translator.update(VOCABULARY)
    calls = len(embedder.calls)
    assert translator.translate("What is AI for?") == [], "'ai' is too short, the rest are stop words"
    assert len(embedder.calls) == calls, "nothing left to embed"
    assert translator.translate("半導体の供給") == [], "no English words"


def test_translation_is_against_exactly_the_last_vocabulary() -> None:
    translator = TermTranslator(_embedder())
    assert translator.translate("semiconductor") == [], "no vocabulary yet"
    translator.update(VOCABULARY)
    assert translator.translate("semiconductor hydrogen") == ["半導体", "水素"]
    translator.update(["水素", "蓄電池"])
    assert translator.translate("semiconductor hydrogen") == ["水素"], "半導体 left the index"
    translator.update([])
    assert translator.translate("semiconductor hydrogen") == []


def test_untranslatable_vocabulary_terms_are_never_returned() -> None:
    translator = TermTranslator(FakeEmbedder())  # no aliases: only identical texts are close
    translator.update(["semiconductor", "2024", "半", "半導体"])
    assert translator.translate("semiconductor 2024") == []


def test_only_terms_not_seen_before_are_embedded() -> None:
    embedder = _embedder()
    translator = TermTranslator(embedder)
    translator.update(["蓄電池", "半導体", "半導体", "ai"])
    assert embedder.calls == [["半導体", "蓄電池"]], "once each, untranslatable ones left out"
    translator.update(["半導体", "蓄電池", "水素"])
    assert embedder.calls[-1] == ["水素"]
    calls = len(embedder.calls)
    translator.update(["水素", "半導体"])
    assert len(embedder.calls) == calls


def test_term_vectors_are_cached_on_disk_for_the_next_process(tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "terms-fake.npz"
    TermTranslator(_embedder(), cache).update(VOCABULARY)
    assert cache.exists()
    assert [p.name for p in cache.parent.iterdir()] == [cache.name], "no temporary file left behind"
    with np.load(cache, allow_pickle=False) as data:
        assert sorted(data["terms"]) == sorted(VOCABULARY)
        assert data["vectors"].shape == (len(VOCABULARY), _embedder().dimension)

    embedder = _embedder()
    later = TermTranslator(embedder, cache)
    later.update(VOCABULARY)
    assert embedder.calls == [], "every term came from the cache"
    assert later.translate("semiconductor") == ["半導体"]
    later.update([*VOCABULARY, "洋上風力"])
    assert embedder.calls[-1] == ["洋上風力"], "only the new term is embedded"
    with np.load(cache, allow_pickle=False) as data:
        assert "洋上風力" in set(data["terms"]), "new terms are added to the cache"


def test_a_cache_of_another_dimension_is_ignored(tmp_path: Path) -> None:
    cache = tmp_path / "terms.npz"
    TermTranslator(FakeEmbedder(dimension=32, aliases=ALIASES), cache).update(VOCABULARY)

    embedder = _embedder()
    translator = TermTranslator(embedder, cache)
    translator.update(VOCABULARY)
    assert sorted(embedder.calls[0]) == sorted(VOCABULARY), "all re-embedded"
    assert translator.translate("semiconductor") == ["半導体"]


def test_an_unreadable_cache_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = tmp_path / "terms.npz"
    cache.write_bytes(b"not an npz file")
    with caplog.at_level(logging.WARNING, logger="rag.crosslingual"):
        translator = TermTranslator(_embedder(), cache)
    assert "ignoring unreadable term cache" in caplog.text
    translator.update(VOCABULARY)
    assert translator.translate("semiconductor") == ["半導体"]
    with np.load(cache, allow_pickle=False) as data:
        assert sorted(data["terms"]) == sorted(VOCABULARY)


def test_a_cache_that_cannot_be_written_is_not_fatal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    translator = TermTranslator(_embedder(), blocker / "terms.npz")
    with caplog.at_level(logging.WARNING, logger="rag.crosslingual"):
        translator.update(VOCABULARY)
    assert "cannot write term cache" in caplog.text
    assert translator.translate("semiconductor") == ["半導体"]


class _PlannedEmbedder:
    """Vectors set by hand, so a word can stand nearer one term and a little farther from another."""

    name = "planned"
    dimension = 3

    def __init__(self, vectors: dict[str, tuple[float, float, float]]) -> None:
        self._vectors = {t: np.array(v, dtype=np.float32) / np.linalg.norm(v) for t, v in vectors.items()}

    def embed(self, texts: list[str]) -> np.ndarray:
        unknown = np.array([0.0, 0.0, 1.0], dtype=np.float32)
        return np.stack([self._vectors.get(t, unknown) for t in texts]) if texts else np.zeros((0, 3))


# "disaster" is nearest 惨事 (a catastrophe, the word's literal sense) and a little farther from 災害.
SENSES = {
    "disaster": (1.0, 0.1, 0.0),
    "惨事": (1.0, 0.0, 0.0),
    "災害": (0.7, 0.7, 0.0),
    "気象": (0.0, 1.0, 0.0),
}


def test_a_term_of_the_questions_own_pages_wins_over_a_nearer_term_from_elsewhere() -> None:
    translator = TermTranslator(_PlannedEmbedder(SENSES))  # type: ignore[arg-type]
    translator.update(["惨事", "災害", "気象"])
    assert translator.translate("disaster") == ["惨事"], "no context: the nearest term"
    assert translator.translate("disaster", context={"災害", "気象"}) == ["災害"]
    assert translator.translate("disaster", context={"惨事", "災害"}) == ["惨事"], (
        "the nearer one is there too"
    )


def test_a_context_term_must_still_be_close_to_the_word() -> None:
    translator = TermTranslator(_PlannedEmbedder(SENSES))  # type: ignore[arg-type]
    translator.update(["惨事", "災害", "気象"])
    assert translator.translate("disaster", context={"気象"}) == ["惨事"], "気象 is not what disaster means"
    assert translator.translate("disaster", context={"洪水"}) == ["惨事"], "words the index lacks are ignored"
