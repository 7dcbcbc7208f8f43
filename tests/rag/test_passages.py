"""How much of a page is shown for one chosen unit."""

from __future__ import annotations

from core.text import split_units
from rag.passages import is_heading, passage


def shown_for(page: str, holding: str) -> str:
    """The passage shown for the page's first unit that holds the text."""
    units = split_units(page)
    unit = next(u for u in units if holding in u.text)
    start, end = passage(units, unit)
    return page[start:end]


def test_a_unit_of_a_long_paragraph_is_shown_alone() -> None:
    page = "前置きの文。" + "本文の文が続く。" * 12 + "最後の文。"
    units = split_units(page)
    start, end = passage(units, units[1])
    assert page[start:end] == units[1].text


def test_a_short_record_is_shown_whole() -> None:
    page = "概要\n\n場所：熊本県菊陽町\n内容：工場の新設\n時期：2024年"
    units = split_units(page)
    row = next(u for u in units if u.text.startswith("内容"))
    start, end = passage(units, row)
    assert page[start:end] == "場所：熊本県菊陽町\n内容：工場の新設\n時期：2024年"


def test_a_heading_brings_the_lines_it_introduces() -> None:
    page = "重要物資\n半導体、蓄電池、永久磁石などを指定した。\n\n（2）次の項目\n別の話。"
    units = split_units(page)
    assert is_heading(units[0]) and not is_heading(units[1])
    start, end = passage(units, units[0])
    assert page[start:end] == "重要物資\n半導体、蓄電池、永久磁石などを指定した。"


def test_bullets_bring_their_label_but_a_numbered_item_borrows_nothing_from_the_item_above() -> None:
    bullets = "中国の輸出管理\n信頼できない実体リスト\n\n- 中国版のエンティティリスト\n- 2020年に導入"
    units = split_units(bullets)
    start, end = passage(units, units[2])
    assert bullets[start:end].startswith("信頼できない実体リスト")
    items = "（20）基幹的広域防災拠点\n令和5年度予算額 | 122\n\n（21）「道の駅」の防災機能の強化\n防災機能強化を図る。"
    units = split_units(items)
    start, end = passage(units, units[2])
    assert items[start:end].startswith("（21）")


def test_a_line_that_points_back_brings_the_line_it_follows_from() -> None:
    """「これに伴い、…」 and 「⇒ …との指摘」 state a conclusion whose reason is the line before."""
    page = (
        "「産業・技術基盤」を巡る大国間競争時代\n\n"
        "- 軍事専用技術が軍事的優位性を規定していた冷戦期と異なり、現在は半導体をはじめ民生技術が軍事能力の"
        "向上に大きく貢献。この技術革新の担い手は官から民へ。量子、AI、バイオなど「重要新興技術」においては、"
        "デュアルユースと民間主導の流れがさらに加速。\n"
        "- これに伴い、経済と安全保障の境界線の区別が困難な時代へ突入。\n"
        "- 各国とも、重要物資や技術の観点から、如何に自国が優位立つかが安全保障上の課題となっている。\n"
        "特に巨大な国内市場を有する大国が、支援策と国境管理を強化し、投資、人材、更に、重要物資・技術の"
        "「困い込み」を加速。\n"
        "⇒ 市場関係者や有識者から「Copper is New Oil」との指摘。\n"
        "- 一方で、ルールの現代化の遅れや執行能力の低下で、パワーベースの国家間競争を管理する仕組みが失われつつある。"
    )
    following = shown_for(page, "これに伴い")
    assert following.startswith("- 軍事専用技術が")  # the whole line, not its last sentence
    assert following.endswith("困難な時代へ突入。")
    assert shown_for(page, "⇒").startswith("特に巨大な")


def test_a_line_that_points_back_to_a_heading_is_shown_alone() -> None:
    page = "概要\n\nこのため、制度を創設した。"
    units = split_units(page)
    start, end = passage(units, units[1])
    assert page[start:end] == "このため、制度を創設した。"


def test_a_line_in_brackets_brings_the_line_it_breaks_down() -> None:
    """The breakdown 「（UNDRR：627百万円、…）」 says nothing without the total it breaks down; a
    numbered heading in brackets （3） is no such line."""
    page = (
        "（8）国連・国際機関等への拠出\n"
        + "外務省においては、国連等と協力し、国連防災機関（UNDRR）への拠出等を行い、啓発活動等を推進する。"
        * 3
        + "\n令和6年度予算額 | 872百万円\n"
        "（UNDRR：627百万円、OCHA：72百万円、その他173百万円）\n"
        "令和5年度予算額 | 837\n"
        "（UNDRR：627百万円、OCHA：48百万円、その他162百万円）\n"
        "（9）次の項目\n別の話。"
    )
    units = split_units(page)
    breakdown = next(u for u in units if u.text.startswith("（UNDRR：627百万円、OCHA：72"))
    start, end = passage(units, breakdown)
    assert (
        page[start:end]
        == "令和6年度予算額 | 872百万円\n（UNDRR：627百万円、OCHA：72百万円、その他173百万円）"
    )
    numbered = next(u for u in units if u.text.startswith("（9）"))
    assert passage(units, numbered)[0] == numbered.start


def test_a_line_about_these_brings_the_line_naming_them() -> None:
    """「これら支援事業のために…2,158億円を確保。」 says whose support only through the line before."""
    page = (
        "重要鉱物の供給源の多角化\n\n"
        "- JOGMECによる出資・債務保証や、探鉱・開発・製錬事業への助成により、日本企業の権益確保を支援。\n"
        "- これら支援事業のために、令和4年度第二次補正予算で合計2,158億円を確保。\n"
        "- 供給途絶リスクの高い鉱種は、同志国と連携し、上流から下流までのサプライチェーン全体で、"
        "権益確保・製錬能力の強化・リサイクルの拡大・備蓄の充実・代替材料の研究開発を、官民が役割を分担しつつ一体的に進めていくことが重要。"
    )
    these = shown_for(page, "これら")
    assert these.startswith("- JOGMECによる") and these.endswith("2,158億円を確保。")


def test_a_sentence_the_next_one_goes_on_with_brings_it() -> None:
    """「死因の約4割が「圧死」…。」 is half the account; 「また、約1割が「低体温症」…」 goes on with it."""
    page = (
        "第2節被害の概要\n\n"
        "前節のとおり、本地震は多くの人命や家屋へ甚大な被害をもたらした。"
        "警察庁情報によると、死因の約4割が「圧死」、約2割が「窒息・呼吸不全」であった。"
        "また、約1割が「低体温症・凍死」であった。"
        "被害の状況は図表のとおりである。" + "住家被害は広い範囲に及んだ。" * 4
    )
    cause = shown_for(page, "圧死")
    assert cause.startswith("警察庁情報") and cause.endswith("「低体温症・凍死」であった。")
    assert shown_for(page, "また、") == "また、約1割が「低体温症・凍死」であった。"


def test_a_sentence_naming_a_term_brings_the_one_that_says_what_it_is_in_this_case() -> None:
    """「…換算率を乗じた時間数とする。」 names the rate; 「この場合において、換算率とは…１５％とする。」 gives it."""
    page = (
        "４代替休暇の時間数は、１か月６０時間を超える時間外労働時間数に換算率を乗じた時間数とする。"
        "この場合において、換算率とは、割増賃金率５０％から３５％を差し引いた１５％とする。"
        "また、取得した時間数を換算率で除した時間数については、支払を要しないこととする。" * 2
    )
    shown = shown_for(page, "換算率を乗じた")
    assert shown.startswith("４代替休暇") and shown.endswith("１５％とする。")
