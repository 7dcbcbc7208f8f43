"""Question coverage: one weight per idea of the question, whatever the tokenizer split it into."""

from __future__ import annotations

from core.tokenize import Tokenizer
from rag.coverage import Coverage, flatten

IDF = {"能登半島地震": 4.0, "能登": 3.0, "半島": 3.0, "地震": 2.0, "死因": 6.0, "多い": 1.0}


def idf(term: str) -> float:
    return IDF.get(term, 1.0)


def test_a_compound_weighs_once_not_once_per_part():
    groups = [("能登半島地震", "能登", "半島", "地震"), ("死因",), ("多い",)]
    cover = Coverage(groups, idf)
    compound_only = cover({"能登半島地震", "能登", "半島", "地震"})
    asked_word = cover({"死因"})
    assert compound_only == 4.0 / 11.0
    assert asked_word == 6.0 / 11.0
    assert asked_word > compound_only, "the rarer asked-for word outweighs the long compound"


def test_parts_of_a_compound_cover_their_share_of_it():
    cover = Coverage([("能登半島地震", "能登", "半島", "地震")], idf)
    assert cover({"能登"}) == 3.0 / 8.0  # 能登 is 3 of the parts' weight 8, of a group worth 4 of 4
    assert cover({"能登半島地震"}) == 1.0
    assert cover(set()) == 0.0


def test_repeated_terms_count_once_and_no_terms_cover_nothing():
    assert Coverage([("死因",), ("死因",), ("多い",)], idf)({"死因"}) == 6.0 / 7.0
    empty = Coverage([], idf)
    assert empty.empty and empty({"死因"}) == 0.0


def test_term_groups_keep_compounds_with_their_parts_and_flatten_to_the_tokens():
    tokenizer = Tokenizer()
    text = "能登半島地震で亡くなった方の死因。外為法55条の8とPPR-9087"
    groups = tokenizer.term_groups(text)
    assert ("能登半島地震", "能登", "半島", "地震") in groups
    assert ("死因",) in groups
    assert ("ppr-9087", "ppr", "9087") in groups
    assert [t for g in groups for t in g] == tokenizer.tokens(text)
    assert flatten(groups) == list(dict.fromkeys(tokenizer.tokens(text)))


def test_an_english_word_is_covered_by_the_japanese_it_maps_to():
    """An English question's groups hold each word with its Japanese terms, so a Japanese page
    covers the word by holding its translation."""
    from fakes import FakeEmbedder

    from rag.crosslingual import TermTranslator
    from rag.retrieval import HybridRetriever

    embedder = FakeEmbedder(aliases={"capital": "資本", "semiconductor": "半導体"})
    translator = TermTranslator(embedder)
    translator.update(["資本", "半導体", "企業"])
    retriever = HybridRetriever(None, embedder, Tokenizer(), translator=translator)  # no store needed
    groups = {
        group[0]: group[1:]
        for group in retriever._english_groups("What capital do semiconductor firms need?")
    }
    assert "資本" in groups["capital"] and "半導体" in groups["semiconductor"]
    assert "キャピタル" in groups["capital"], "the katakana loanword belongs to its word too"
    groups_list = [(word, *terms) for word, terms in groups.items()]
    cover = Coverage(groups_list, lambda term: 1.0)
    assert cover({"資本", "半導体"}) > cover({"企業"}) == 0.0


def test_a_phrase_is_covered_where_its_words_stand_side_by_side():
    """The page that writes 特定重要物資 names the thing; a page holding 特定, 重要 and 物資 apart
    (特に重要となる物資を精査・特定) names only the words, and covers SCATTERED of them."""
    from rag.coverage import SCATTERED, Phrase, compact

    phrase = Phrase("特定重要物資", (("特定",), ("重要",), ("物資",)))
    cover = Coverage([phrase, ("指定",)], idf)
    words = {"特定", "重要", "物資", "指定"}
    together = cover(words, compact("12の特定重要物資を指定"))
    apart = cover(words, compact("特に重要となる物資を精査・特定し、指定"))
    assert together == 1.0
    assert apart == (SCATTERED * 3.0 + 1.0) / 4.0
    assert 0 < SCATTERED < 1 and together > apart > cover({"指定"}, "指定")
    assert cover(words, compact("特定重要\n物資を指定")) == 1.0, "a line break inside the phrase"
    assert cover(words) == apart, "without the text, a phrase counts as scattered"


def test_flatten_lists_a_phrases_words_once():
    from rag.coverage import Phrase

    groups = [Phrase("経済安全保障推進法", (("経済",), ("安全",), ("推進法", "推進", "法"))), ("法",)]
    assert flatten(groups) == ["経済", "安全", "推進法", "推進", "法"]
