"""A name the question asks about and no quoted document writes: the documents cover something else."""

from __future__ import annotations

from rag.names import acronyms, names_no_document_holds

DOCS = {
    "deck": {"ラピダス", "熊本", "jasm", "工場", "支援"},
    "white-paper": {"能登半島地震", "石川県", "東京", "都"},
}


def holds(doc: str, token: str) -> bool:
    return token in DOCS[doc]


def test_a_name_no_quoted_document_writes_is_reported() -> None:
    names = [("北海道",), ("千歳",), ("熊本",)]
    assert names_no_document_holds(names, ["deck"], holds) == ["北海道", "千歳"]


def test_another_quoted_document_may_hold_the_name() -> None:
    assert (
        names_no_document_holds([("能登半島地震", "能登", "半島", "地震")], ["deck", "white-paper"], holds)
        == []
    )
    assert names_no_document_holds([("能登半島地震", "能登", "半島", "地震")], ["deck"], holds) == [
        "能登半島地震"
    ]


def test_a_compound_name_is_held_by_all_of_its_parts() -> None:
    """東京都 on pages that write 東京 and 都 apart (the page's tokens split it)."""
    assert names_no_document_holds([("東京都", "東京", "都")], ["white-paper"], holds) == []
    assert names_no_document_holds([("東京都", "東京", "都")], ["deck"], holds) == ["東京都"]


def test_era_names_are_left_to_the_year_check() -> None:
    assert names_no_document_holds([("令和",), ("平成",)], ["deck"], holds) == []


def test_no_documents_hold_nothing() -> None:
    assert names_no_document_holds([("熊本",)], [], holds) == ["熊本"]
    assert names_no_document_holds([], ["deck"], holds) == []


def test_acronyms_are_the_words_written_in_capitals_as_index_tokens() -> None:
    assert acronyms("ＪＡＳＭの熊本工場とSUMCOの新棟、AISIの予算") == [("jasm",), ("sumco",), ("aisi",)]
    assert acronyms("Which plains does MLIT survey? Ask the Ministry.") == [("mlit",)], (
        "not capitalised words"
    )
    assert acronyms("2nm世代とPPR-9087") == [("ppr",)]
