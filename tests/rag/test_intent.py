"""What a question asks for: a list (with or without a count), a figure, a date."""

from __future__ import annotations

import pytest

from rag.intent import gives_asked_type, holds_asked_type, question_intent, stated_count, states_unit


@pytest.mark.parametrize(
    ("question", "wants_list"),
    [
        ("年休の出勤率を計算するとき、出勤したことにする期間ってどんなものがある？", True),
        ("別添にはどのような参考資料が含まれている？", True),
        ("What kinds of risks does the paper list?", True),
        ("特定重要物資として指定された12の物資は何か", True),
        ("消防団の予算はいくら？", False),
        ("どんな目的の制度？", False),
    ],
)
def test_lists_are_recognised_with_or_without_a_count(question: str, wants_list: bool) -> None:
    assert question_intent(question).wants_list is wants_list


def test_a_figure_is_an_answer_only_if_the_question_does_not_already_hold_it() -> None:
    intent = question_intent("令和6年度の予算はいくら？")
    assert intent.wants_number
    assert not gives_asked_type(
        "（33）消防団を中核とした地域防災力の充実強化", intent, "令和6年度の予算はいくら？"
    )
    assert not gives_asked_type("令和6年度の計画", intent, "令和6年度の予算はいくら？")
    assert gives_asked_type("令和6年度予算額 | 756百万円", intent, "令和6年度の予算はいくら？")


def test_a_count_is_the_number_of_things_asked_for_not_a_month_or_an_amount() -> None:
    assert question_intent("12の物資を挙げて").count == 12
    assert question_intent("十二の物資").count == 12 and question_intent("五つの柱は？").count == 5
    assert question_intent("12月に決まったことは？").count is None
    assert question_intent("What are the three pillars?").count == 3


def test_dates_and_figures_are_told_apart() -> None:
    when = question_intent("いつ閣議決定された？")
    assert when.wants_date and not when.wants_number
    assert holds_asked_type("2024年4月に閣議決定", when) and not holds_asked_type("閣議決定された", when)


@pytest.mark.parametrize(
    ("question", "wants_date", "wants_number"),
    [
        ("施行日はいつ？", True, False),
        ("何年に策定された？", True, False),
        ("日本の半導体産業は何年遅れている？", False, True),  # a length of time, not a date
        ("何年間の計画？", False, True),
        ("年次有給休暇は何日付与すればいい？", False, False),  # 日付与 is no 日付; 日 is its unit
        ("When was the strategy adopted?", True, False),
        # a sentence-opening "when" is no question about a date
        ("When the government shares threat information, what must companies do?", False, False),
    ],
)
def test_a_length_of_time_and_a_clause_opening_with_when_are_no_date_questions(
    question: str, wants_date: bool, wants_number: bool
) -> None:
    intent = question_intent(question)
    assert (intent.wants_date, intent.wants_number) == (wants_date, wants_number)


def test_a_slide_date_without_a_year_is_a_date() -> None:
    when = question_intent("いつ表明された？")
    assert holds_asked_type("1/24総理施政方針演説で表明", when)  # the deck writes dates so
    assert not holds_asked_type("手順1/2/3を実施", when)  # a run of slashes is no month/day


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("- 12の特定重要物資※を指定。", 12),  # the deck, p.16
        ("特定重要物資（12物資）の供給確保計画", 12),
        ("十二の特定重要物資", 12),
        ("3つの柱と特定重要物資", None),  # a count of something else
        ("特定重要物資の12月の指定", None),  # a month, not a count
        ("100の特定重要物資", None),  # no list that long is answered as a list
    ],
)
def test_a_stated_count_is_a_number_written_next_to_the_subject(text: str, count: int | None) -> None:
    assert stated_count("特定重要物資", text) == count


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("日本のヨウ素の年間生産量って何トン？", "トン"),
        ("2040年の導入目標は何GW？", "gw"),
        ("換算率は何％になってる？", "%"),
        ("広島AIプロセスフレンズグループには何か国参加してる？", "か国"),
        ("認定された供給確保事業者は何社？", "社"),
        ("電子船荷証券記録の訂正って、試案で何かルール作るの？", None),  # 何か: something
        ("市場関係者は銅のことを何て言ってる？", None),
        ("日本は世界から何年遅れていると言われている？", None),  # a year or a span: not a unit to check
        ("MF登録申請の手数料はいくら？", "円"),  # an amount of money
        ("南海トラフ 海底地震津波観測網 構築 予算 令和6年度", "円"),  # keywords: 予算 asks the amount
        ("What is the budget of the Digital Agency?", "円"),
        ("How much did the ground move at the Wajima station?", None),  # how much, but no money
        ("How many million tonnes of LNG a year will the US export to Japan?", "トン"),
        ("How many staff does the AI Safety Institute have?", "人"),
        ("How many companies gave valid answers?", "社"),
        ("How many disputes were brought to the WTO?", "件"),  # any other counted noun: a count
        ("How many priority technology fields are listed?", "件"),
        ("How many does the plan name?", None),  # no counted noun
        ("How many hours a week may they work?", "時間"),
        ("What share of the world market does Japan hold?", "%"),
        ("応急仮設住宅って何戸着工して、何戸完成したの？", "戸"),
        ("説明会には何名が参加した？", "名"),
        ("観測点は全国何か所にある？", "か所"),
    ],
)
def test_the_unit_a_question_asks_its_figure_in(question: str, unit: str | None) -> None:
    assert question_intent(question).unit == unit


@pytest.mark.parametrize(
    ("text", "unit", "states"),
    [
        ("雇用効果：JASMの直接雇用1,700人を含めて、全体で約7,500人", "人", True),
        ("死者は112名", "人", True),  # people are counted as 名 too
        ("3事業者を認定", "社", True),  # companies as 事業者
        ("事前報告対象として、現在10技術を指定", "件", True),  # 件 asks for any count
        ("重要技術として14分野を特定", "件", True),  # 分野 counts fields, not minutes
        ("所要時間は30分", "件", False),
        ("国内生産の3割を占める", "%", True),  # a share as 割
        ("全体の3分の1", "%", True),
        ("2023年に施行", "件", False),  # a year is no count
        ("計８回の審議を重ね", "件", False),  # nor a number of sessions
        ("②発行場面の規律の内容等", "件", False),  # nor an outline mark
        ("電子船荷証券記録に一定の技術的要件を設ける", "件", False),  # nor the 一 of a word
        ("Ｇ７デジタル担当大臣共同声明", "件", False),  # nor an identifier's digit
        ("事前報告の対象は十二物資", "件", True),
        ("2030年までの早期にGW級の量産体制構築に取り組む。", "gw", False),  # GW without a figure
        ("主な原材料のヨウ素は、日本は世界第2位の産出量（シェア30%）。", "トン", False),
        ("12か国が参加", "か国", True),
        ("12カ国が参加", "か国", True),
        ("令和6年度予算額 | 872百万円", "円", True),  # 百万円: more than one multiplier
        ("年間約8,000億ユーロの追加投資", "円", True),  # an amount in any currency
        ("令和6年度予算で措置", "円", False),  # a budget named, no amount
        ("住家被害は全壊約9千棟", "棟", True),
        ("応急仮設住宅の建設に着手", "戸", False),  # the thing named, no count of it
        ("参加者は約1,700人", "名", True),  # 名 and 人 count the same people
        ("全国12か所に設置", "か所", True),
        ("全国12カ所に設置", "か所", True),
    ],
)
def test_a_text_states_a_figure_in_the_unit(text: str, unit: str, states: bool) -> None:
    assert states_unit(text, unit) is states


def test_a_question_asking_an_amount_is_answered_by_a_figure_in_a_currency_not_by_a_date() -> None:
    """The paragraph of a budget item names its law and dates (令和5年6月, 第61号); only the 予算額 row
    below it answers 「いくら？」 or "what is the allocation"."""
    for question in (
        "火山調査研究推進本部の予算はいくら？",
        "What's the FY2024 allocation for the volcano HQ?",
    ):
        intent = question_intent(question)
        assert intent.unit == "円", question
        assert not gives_asked_type(
            "令和5年6月に改正された法律（昭和48年法律第61号）に基づき", intent, question
        )
        assert gives_asked_type("令和6年度予算額 | 350百万円", intent, question)


def test_a_line_with_a_figure_in_the_asked_unit_holds_the_asked_type() -> None:
    """「第何回会議の配布資料？」 is answered by 「法制審議会第１９８回会議配布資料」, a page's label line
    that would otherwise count for less than the body."""
    intent = question_intent("中間試案（概要）は法制審議会の第何回会議の配布資料？")
    assert holds_asked_type("法制審議会第１９８回会議配布資料民１－３", intent)
    assert not holds_asked_type("船荷証券に関する規定等の見直しに関する中間試案（概要）", intent)


@pytest.mark.parametrize(
    ("question", "noun"),
    [
        ("MF登録申請書って、どの様式で出せばいいの？", "様式"),
        ("先端半導体はどの法律に基づいて支援されている？", "法律"),
        ("欧州はIntelの工場をどの国に誘致した？", "国"),
        ("欧州は原薬をどの程度中国に頼っている？", None),  # a quantity
        ("どのように対応する？", None),  # a manner
        ("どの様に対応する？", None),
        ("重要物資には何がある？", None),
    ],
)
def test_a_which_question_names_the_kind_of_thing_its_answer_names(question: str, noun: str | None) -> None:
    assert question_intent(question).asked_noun == noun


def test_a_line_naming_the_asked_kind_of_thing_holds_the_asked_type() -> None:
    intent = question_intent("MF登録申請書って、どの様式で出せばいいの？")
    assert holds_asked_type("規則の様式第四十二による申請書を利用すること。", intent)
    assert not holds_asked_type("ＭＦ改正通知によるほか、下記に留意されるよう", intent)


def test_a_question_about_when_a_document_was_issued_names_the_kind_of_document() -> None:
    assert question_intent("作成要領の事務連絡っていつ出た？").issued_document == {"要領", "事務連絡"}
    assert question_intent("When was this notice on MF filings issued?").issued_document == {"*"}
    assert question_intent("Which office issued the 2013 notice, and on what date?").issued_document == {"*"}
    # a date the text mentions, not the document's own: no kind named, or the verb is not the document's
    assert question_intent("国土強靱化基本計画はいつ策定された？").issued_document == frozenset()
    assert (
        question_intent(
            "Which framework do the guidelines refer to, and when was it published?"
        ).issued_document
        == frozenset()
    )
    assert question_intent("この事務連絡の目的は？").issued_document == frozenset()  # no date asked


@pytest.mark.parametrize(
    "question",
    [
        "防災白書の特集2ってどんな章立てになってる？",
        "別添1にはどんな項目が載ってるの？",
        "What chapters does the report have?",
    ],
)
def test_asking_for_the_chapters_or_the_items_shown_asks_for_a_list(question: str) -> None:
    assert question_intent(question).wants_list
