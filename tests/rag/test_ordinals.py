"""Ordinals named in digits or kanji, read as one number."""

from __future__ import annotations

from rag.ordinals import kanji_number, ordinals_named, versions_named


def test_ordinals_in_digits_full_width_digits_and_kanji() -> None:
    assert ordinals_named("JASMの熊本第2工場っていつ稼働する？") == {2}
    assert ordinals_named("法制審議会第１９８回会議") == {198}
    assert ordinals_named("令和4年度第二次補正予算") == {2}
    assert ordinals_named("第十二条と第3部") == {12, 3}


def test_no_ordinal_without_a_number() -> None:
    assert ordinals_named("法制審議会の第何回会議の配布資料？") == frozenset()
    assert ordinals_named("次第に増加") == frozenset()


def test_an_edition_is_a_version_not_an_ordinal() -> None:
    assert versions_named("AI事業者ガイドラインの第1.1版はいつ公表された？") == {"1.1"}
    assert versions_named("AI事業者ガイドライン案（第１．０版）") == {"1.0"}
    assert versions_named("What changed in version 1.1?") == {"1.1"}
    assert ordinals_named("第1.1版") == frozenset()
    assert versions_named("AI RMF 1.0") == frozenset()  # a name's number, not an edition asked for


def test_kanji_numbers() -> None:
    assert [kanji_number(k) for k in ("三", "十", "十二", "二十", "九十九")] == [3, 10, 12, 20, 99]
    assert kanji_number("一二") is None and kanji_number("百") is None and kanji_number("") is None
