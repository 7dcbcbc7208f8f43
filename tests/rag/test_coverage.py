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
