"""Layout rules on hand-made segments: each models a situation seen on a real government PDF.

Coordinates are PDF points (y grows upwards) on an A4 page; characters are 10 pt tall, and a
line of the white paper's column (x 96–318) holds 22 of them.
"""

from __future__ import annotations

from ingest.layout import (
    Segment,
    build_blocks,
    drop_furigana,
    lay_out,
    merge_rows,
    page_title,
    repeated_band_keys,
    split_vertical_text,
    strip_line_numbers,
)

H = 841.9  # A4 height


def seg(
    text: str,
    x0: float,
    top: float,
    x1: float | None = None,
    size: float = 10.0,
    text_x0: float | None = None,
) -> Segment:
    width = x1 - x0 if x1 is not None else len(text) * size
    return Segment(text, x0, top - size, x0 + width, top, size, text_x0)


def texts(segments: list[Segment]) -> list[str]:
    return [b.text for b in merge_rows(build_blocks(segments))]


def test_wrapped_lines_of_a_justified_column_become_one_paragraph() -> None:
    lines = [
        seg("的・重点的な観測が必要な火山の観測を行うた", 96, 800, 318),
        seg("め、火山調査研究推進本部の指示の下、国立研", 96, 785, 318),
        seg("構築する。", 96, 770, 142),
    ]
    assert texts(lines) == [
        "的・重点的な観測が必要な火山の観測を行うため、火山調査研究推進本部の指示の下、国立研構築する。"
    ]


def test_a_sentence_end_a_short_line_or_a_bullet_ends_the_paragraph() -> None:
    lines = [
        seg("火山の研究を推進する。", 96, 800, 318),
        seg("（3）火山の研究開発", 96, 785, 250),
        seg("文部科学省においては、火山研究者を目指す", 106, 770, 318),
        seg("・次世代火山研究・人材育成総合プロジェクト", 96, 755, 318),
    ]
    assert texts(lines) == [
        "火山の研究を推進する。",
        "（3）火山の研究開発",
        "文部科学省においては、火山研究者を目指す",
        "・次世代火山研究・人材育成総合プロジェクト",
    ]


def test_a_numbered_heading_continues_under_its_text_not_under_its_number() -> None:
    lines = [
        seg("（3）火山の研究開発や火山専門家の育成・継", 97.7, 684, 318.9, text_x0=123.0),
        seg("続的な確保の推進", 123.1, 668, 207.8),
    ]
    assert texts(lines) == ["（3）火山の研究開発や火山専門家の育成・継続的な確保の推進"]


def test_lines_far_apart_or_in_another_size_are_separate() -> None:
    gap = [seg("一つ目の段落は右端まで続いている文章です", 96, 800, 318), seg("二つ目の段落", 96, 760, 160)]
    sizes = [seg("大きな見出しが右端まで続いている", 96, 800, 318, size=16), seg("本文の行", 96, 782, 140)]
    assert len(texts(gap)) == 2 and len(texts(sizes)) == 2


def test_wrapped_latin_words_keep_a_space() -> None:
    lines = [
        seg("The UNCITRAL Model Law on Electronic", 96, 800, 318),
        seg("Transferable Records", 96, 785, 200),
    ]
    assert texts(lines) == ["The UNCITRAL Model Law on Electronic Transferable Records"]


def test_a_label_and_its_value_below_are_one_record() -> None:
    assert texts([seg("バイオ：", 96, 800, 140), seg("分子動力学シミュレーション", 96, 786, 230)]) == [
        "バイオ：分子動力学シミュレーション"
    ]


def test_cells_side_by_side_become_one_row_and_letter_spacing_one_word() -> None:
    row = [seg("令和6年度予算額", 106, 721, 186), seg("100百万円", 280, 721, 318)]
    assert texts(row) == ["令和6年度予算額 | 100百万円"]
    spaced = [
        seg("事", 250, 800, 262, size=12),
        seg("務", 280, 800, 292, size=12),
        seg("連", 310, 800, 322, size=12),
        seg("絡", 340, 800, 352, size=12),
    ]
    assert texts(spaced) == ["事 務 連 絡"]


def test_margin_line_numbers_are_cut_off_the_lines() -> None:
    lines = [seg(f"{n} 本文の{n}行目です", 25.6, 760 - 18 * n, 540) for n in range(1, 12)]
    kept, furniture = strip_line_numbers(lines)
    assert [s.text for s in kept][:2] == ["本文の1行目です", "本文の2行目です"]
    assert furniture == ["LINE-NUMBERS 1-11"]
    assert kept[0].x0 > 25.6
    # Numbered items inside the text are not a line-number column.
    items = [seg(f"{n} 項目", 96 + 40 * (n % 3), 760 - 18 * n) for n in range(1, 12)]
    assert strip_line_numbers(items) == (items, [])


def test_a_vertical_side_tab_is_set_aside() -> None:
    tab = [seg(c, 56, 459 - 15 * i, 66) for i, c in enumerate("第3部")]
    body = [seg("国立研究開発法人防災科学技術研究所におい", 96, 700, 318)]
    kept, vertical = split_vertical_text(body[:1] + tab)
    assert [s.text for s in kept] == [body[0].text] and "".join(s.text for s in vertical) == "第3部"
    tall = Segment("6年度の防災に関する計画", 56.5, 265, 65.3, 375, 9)
    assert split_vertical_text([tall]) == ([], [tall])


def test_running_footers_and_page_numbers_are_furniture() -> None:
    pages = [
        ([seg(f"{230 + n} 令和6年版 防災白書", 61, 70), seg(f"本文{n}ページ目", 96, 500)], H)
        for n in range(4)
    ]
    repeated = repeated_band_keys(pages)
    layout = lay_out(pages[1][0], H, repeated)
    assert layout.blocks == ["本文1ページ目"]
    assert layout.furniture == ["231 令和6年版 防災白書"]
    numbered = lay_out([seg("本文", 96, 800), seg("- 12 -", 290, 40)], H, set())
    assert numbered.blocks == ["本文"] and numbered.furniture == ["- 12 -"]
    # Body text that repeats is not furniture: it is not in the top or bottom band.
    body = [([seg("令和6年度予算額", 96, 500)], H) for _ in range(4)]
    assert repeated_band_keys(body) == set()


def test_small_kana_above_a_word_is_ruby() -> None:
    word = seg("鹿磯漁港", 100, 700, 140)
    ruby = seg("かいそ", 100, 705.5, 112, size=5)
    kept, dropped = drop_furigana([ruby, word, seg("本文の行です", 100, 680)])
    assert dropped == [ruby] and word in kept


def test_the_title_is_the_largest_text_in_the_upper_page() -> None:
    blocks = build_blocks(
        [
            seg("資料１－１", 700, 570, 760, size=10),
            seg("AI事業者ガイドライン案", 200, 400, 600, size=28),
            seg("総務省 経済産業省", 300, 300, 500, size=14),
            seg("本文の行", 100, 250),
        ]
    )
    assert page_title(blocks, 595) == "AI事業者ガイドライン案"
    plain = build_blocks([seg("官民連携の方向性", 100, 800), seg("本文", 100, 700)])
    assert page_title(plain, H) == "官民連携の方向性"
    continued = build_blocks(
        [
            seg("的・重点的な観測が必要な火山の観測を行うため、体制を構築する。", 96, 800, 318),
            seg("本文", 96, 700),
        ]
    )
    assert page_title(continued, H) == ""  # a sentence carried over from the page before is no heading
    long = build_blocks([seg("長" * 300, 100, 800, 110, size=20), seg("本文", 100, 700)])
    assert len(page_title(long, H)) <= 81
