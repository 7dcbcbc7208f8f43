"""Keyword tokens: compounds and their parts, no particles, width folded, numbers kept with their
units, English questions reduced to names and numbers, loanwords as Sudachi reads them."""

from __future__ import annotations

import threading

import pytest

from core.tokenize import Tokenizer


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer()


def test_a_compound_is_kept_whole_and_its_parts_are_added(tokenizer: Tokenizer) -> None:
    tokens = tokenizer.tokens("能登半島地震の被害状況")
    assert tokens[:4] == ["能登半島地震", "能登", "半島", "地震"], "the compound, then its parts"
    assert {"被害", "状況"} <= set(tokens)

    tokens = tokenizer.tokens("半導体と蓄電池を確保する")
    assert {"半導体", "蓄電池"} <= set(tokens)
    assert {"導体", "蓄電"} <= set(tokens), "a query naming only a part still matches"


def test_particles_auxiliaries_symbols_and_function_verbs_are_dropped(tokenizer: Tokenizer) -> None:
    tokens = tokenizer.tokens("特定重要物資の指定は、どのように行われますか？教えてください。")
    assert {"特定", "重要", "物資", "指定"} <= set(tokens)
    dropped = {"の", "は", "に", "ます", "か", "?", "？", "、", "。", "どの", "教える", "下さる", "ください"}
    assert not dropped & set(tokens), dropped & set(tokens)
    assert "" not in tokens and all(t == t.strip() for t in tokens)


def test_full_and_half_width_spellings_give_the_same_tokens(tokenizer: Tokenizer) -> None:
    full = tokenizer.tokens("ＡＩ事業者ガイドライン　２０２４年版")
    half = tokenizer.tokens("AI事業者ｶﾞｲﾄﾞﾗｲﾝ 2024年版")
    assert full == half
    assert {"ai", "ガイドライン", "2024年"} <= set(full)
    assert "ＡＩ" not in full and "２０２４年" not in full


def test_numbers_keep_their_units_and_identifiers_stay_whole(tokenizer: Tokenizer) -> None:
    tokens = tokenizer.tokens("予算は1,000億円、前年比3.5%増。外為法55条の8とPPR-9087、100万円、2nm")
    assert {"1,000億円", "3.5%", "55条の8", "ppr-9087", "100万円", "2nm"} <= set(tokens)
    assert {"ppr", "9087"} <= set(tokens), "the parts of a hyphenated identifier are findable too"


def test_a_bare_number_is_kept_only_without_a_unit(tokenizer: Tokenizer) -> None:
    assert "12" in tokenizer.tokens("12の物資を指定した")
    month = tokenizer.tokens("2022年12月に指定した")
    assert {"2022年", "12月"} <= set(month)
    assert "12" not in month and "2022" not in month
    assert "5" not in tokenizer.tokens("5の物資"), "one digit alone is not a useful term"


def test_a_grouped_number_leaves_no_bare_fragment(tokenizer: Tokenizer) -> None:
    """1,000億円 is one term; its digits after the comma are not a term of their own (else every
    page with 2,000人 or 10,000件 would match a question about 1,000億円)."""
    tokens = tokenizer.tokens("予算は1,000億円")
    assert "1,000億円" in tokens
    assert "000" not in tokens, tokens


def test_compound_particles_add_no_verb_tokens(tokenizer: Tokenizer) -> None:
    """による, に関する, に対する, について and における are particles in all but name; the stop
    words list their verbs (よる, 関する, 対する, 付く, 於く) so they add nothing."""
    for phrase in ("による", "に関する", "に対する", "について", "における"):
        assert tokenizer.tokens(f"半導体{phrase}") == ["半導体", "半", "導体"], phrase


def test_japanese_questions_are_tokenised_like_the_documents(tokenizer: Tokenizer) -> None:
    question = "ＪＡＳＭの熊本進出による経済波及効果は？"
    assert tokenizer.query_tokens(question) == tokenizer.tokens(question)
    assert {"jasm", "熊本"} <= set(tokenizer.query_tokens(question))


def test_english_questions_keep_only_names_acronyms_and_numbers(tokenizer: Tokenizer) -> None:
    assert tokenizer.query_tokens("How much did Japan invest in Rapidus in 2024?") == [
        "invest",
        "rapidus",
        "2024",
    ]
    assert tokenizer.query_tokens("What is the role of the METI and JETRO?") == ["role", "meti", "jetro"]
    assert tokenizer.query_tokens("Tell me what it is, please") == []
    # Documents keep every ASCII word; only questions drop the stop words.
    assert {"how", "much", "in"} <= set(tokenizer.tokens("How much did Japan invest in Rapidus?"))


def test_english_words_are_not_turned_into_katakana_tokens(tokenizer: Tokenizer) -> None:
    tokens = tokenizer.tokens("What share of production?")
    assert tokens == ["what", "share", "of", "production"]


def test_loanwords_are_the_katakana_readings_of_english_content_words(tokenizer: Tokenizer) -> None:
    assert tokenizer.loanwords("What share of global production?") == [
        "シェア",
        "グローバル",
        "プロダクション",
    ]
    assert tokenizer.loanwords("Tell me about supply chain risk") == ["リスク"]
    assert tokenizer.loanwords("半導体のシェア") == [], "Japanese words are not loanwords"


def test_a_line_over_sudachis_input_limit_is_tokenised(tokenizer: Tokenizer) -> None:
    line = "経済安全保障の確保に向けて半導体を支援する。" * 3_000  # ~200 KB of UTF-8, one line
    assert len(line.encode("utf-8")) > 49_000
    tokens = tokenizer.tokens(line)
    assert tokens.count("半導体") >= 2_900


def test_one_tokenizer_serves_several_threads(tokenizer: Tokenizer) -> None:
    texts = [f"第{n}回の経済安全保障推進会議で{n}件の特定重要物資を審議した" for n in range(40)]
    expected = [tokenizer.tokens(t) for t in texts]
    results: dict[int, list[list[str]]] = {}

    def work(k: int) -> None:
        results[k] = [tokenizer.tokens(t) for t in texts]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[k] == expected for k in range(4))


def test_proper_nouns_are_the_places_and_named_things_of_the_text(tokenizer: Tokenizer) -> None:
    groups = tokenizer.proper_noun_groups("ラピダスの北海道千歳工場への支援と、能登半島地震の被害")
    assert ("北海道",) in groups and ("千歳",) in groups
    assert ("能登半島地震", "能登", "半島", "地震") in groups, "with its parts, like term_groups"
    heads = {group[0] for group in groups}
    assert not heads & {"工場", "支援", "被害"}, "common nouns are not names"
    assert tokenizer.proper_noun_groups("What is the Tokyo minimum wage?") == [], "Japanese words only"
