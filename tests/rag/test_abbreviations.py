"""Short forms and full forms of government names search for each other."""

from __future__ import annotations

from core.tokenize import Tokenizer
from rag.abbreviations import FULL_FORMS, SHORT_FORMS, with_other_forms


def test_a_short_form_also_searches_for_the_full_form_and_back() -> None:
    tokenizer = Tokenizer()
    groups = with_other_forms(
        tokenizer.query_term_groups("中間試案のパブコメはいつまで？"), tokenizer.term_groups
    )
    assert ("パブコメ", "パブリックコメント", "パブリック", "コメント") in groups
    full = with_other_forms(tokenizer.query_term_groups("経済産業省の予算"), tokenizer.term_groups)
    assert "経産省" in full[0], "a page may write the short form"
    assert ("予算",) in full, "other words are left alone"


def test_each_short_form_has_one_full_form() -> None:
    assert all(SHORT_FORMS[full] == short for short, full in FULL_FORMS.items())
    assert "環境省" not in FULL_FORMS, "a name that is its own short form"
