"""The extractive composer on hand-written pages: no index, no embedder, answers in milliseconds.

Tokens are character bigrams of the Japanese text: crude, but enough to show what the composer
does with the question's terms, and independent of the real tokenizer.
"""

from __future__ import annotations

import re

import pytest

from rag.extractive import ExtractiveComposer
from rag.retrieval import RankedChunk


def bigrams(text: str) -> list[str]:
    chars = re.sub(r"[\s、。？?「」（）()|・]", "", text)
    return [chars[i : i + 2] for i in range(len(chars) - 1)]


def bigram_groups(text: str) -> list[tuple[str, ...]]:
    return [(gram,) for gram in bigrams(text)]


def composer() -> ExtractiveComposer:
    return ExtractiveComposer(bigrams, bigram_groups, lambda token: 1.0)


def ranked(page: int, text: str, doc: str = "white-paper") -> RankedChunk:
    return RankedChunk(
        chunk_id=f"{doc}:{page}",
        doc_id=doc,
        doc_title="防災白書",
        doc_date="",
        page=page,
        text=text,
        start=0,
        end=len(text),
        score=1.0,
        dense_similarity=0.5,
    )


BUDGET_PAGE = (
    "（33）消防団を中核とした地域防災力の充実強化\n"
    "消防庁においては、消防団の装備・教育訓練の充実、自主防災組織の活性化の推進等により、地域防災力の充実強化を図る。\n"
    "令和6年度予算額 | 756百万円\n"
    "令和5年度予算額 | 754\n"
    "\n"
    "（34）救急業務の充実強化\n"
    "消防庁においては、救急業務を取り巻く諸課題への対応策について検討を行う。\n"
    "令和6年度予算額 | 53百万円"
)


def test_how_much_puts_the_items_budget_row_first() -> None:
    question = "消防団を中核とした地域防災力の充実強化には令和6年度でどれくらい予算がついていますか"
    composition = composer().compose(question, [ranked(23, BUDGET_PAGE)], lambda doc, page: BUDGET_PAGE)
    first = composition.evidence[0]
    assert first.lines[0] == "令和6年度予算額 | 756百万円"
    assert "令和5年度予算額 | 754" in first.quote  # the record's other row comes with it
    assert "53百万円" not in first.quote  # not the next item's figure
    assert all(BUDGET_PAGE[e.start : e.end] == e.quote for e in composition.evidence)


def test_a_question_without_a_figure_gets_no_budget_row_pushed_in() -> None:
    question = "消防団を中核とした地域防災力の充実強化では何をする？"
    composition = composer().compose(question, [ranked(23, BUDGET_PAGE)], lambda doc, page: BUDGET_PAGE)
    assert not composition.evidence[0].lines[0].startswith("令和6年度予算額")


FIGURE_PAGE = (
    "ペロブスカイト太陽電池の社会実装\n"
    "主な原材料のヨウ素は、日本は世界第2位の産出量（シェア30%）。\n"
    "・【ペロブスカイト太陽電池イメージ】\n"
    "・出典：積水化学工業（株）\n"
    "・出典：（株）東芝\n"
    "・出典：（株）カネカ\n"
    "・(出所) (株) 合同資源HP"
)


def test_credits_and_captions_are_no_answer_nor_list_items() -> None:
    """The credit lines under a slide's photos share its words; they are no part of the answer to
    what the slide says, and no list of its items."""
    for question in ["ペロブスカイト太陽電池の原材料は？", "ペロブスカイト太陽電池の取組は何がある？"]:
        composition = composer().compose(question, [ranked(41, FIGURE_PAGE)], lambda doc, page: FIGURE_PAGE)
        shown = [line for ev in composition.evidence for line in ev.lines]
        assert shown, question
        assert not any("出典" in line or "出所" in line or "イメージ" in line for line in shown), shown


def test_a_question_about_the_source_gets_the_credits() -> None:
    composition = composer().compose(
        "ペロブスカイト太陽電池の写真の出典は？", [ranked(41, FIGURE_PAGE)], lambda doc, page: FIGURE_PAGE
    )
    assert any("出典：" in line for ev in composition.evidence for line in ev.lines)


ANALYSIS_PAGE = (
    "サプライチェーン分析の進め方\n"
    "- 各種データを通じて、特に重要となる分野を支援対象として精査\n"
    "- 精査した分野に関する深掘り"
)
COUNT_PAGE = "① 産業支援\n- 4の重点支援分野を指定。\n- 令和6年度予算で約300億円を措置"
CHART_PAGE = "分野別の支援制度\n\n半導体\n\n蓄電池\n\n肥料\n\n船舶部品\n\n※ 点線枠内は例示"


def test_a_question_naming_no_number_gets_the_count_the_documents_state_and_the_list_of_that_many() -> None:
    """「重点支援分野は何？」 names no number; a lower-ranked page says 「4の重点支援分野を指定」 and
    another holds four short items: the count line answers first, the four items follow."""
    pages = {1: ANALYSIS_PAGE, 2: COUNT_PAGE, 3: CHART_PAGE}
    chunks = [ranked(n, text) for n, text in pages.items()]
    composition = composer().compose("重点支援分野は何？", chunks, lambda doc, page: pages[page])
    first, *rest = composition.evidence
    assert (first.page, first.lines[0]) == (2, "- 4の重点支援分野を指定。")
    listed = next(e for e in rest if e.is_list)
    assert listed.page == 3
    assert [line.lstrip("・") for line in listed.lines[-4:]] == ["半導体", "蓄電池", "肥料", "船舶部品"]
    assert all(pages[e.page][e.start : e.end] == e.quote for e in composition.evidence)


def test_a_count_of_something_else_does_not_turn_a_question_into_a_list() -> None:
    pages = {
        1: ANALYSIS_PAGE,
        2: COUNT_PAGE.replace("4の重点支援分野", "4の支援策と重点支援分野"),
        3: CHART_PAGE,
    }
    chunks = [ranked(n, text) for n, text in pages.items()]
    composition = composer().compose("重点支援分野は何？", chunks, lambda doc, page: pages[page])
    assert not any(e.is_list for e in composition.evidence)


IODINE_PAGE = (
    "ペロブスカイト太陽電池の社会実装\n"
    "主な原材料のヨウ素は、日本は世界第2位の産出量（シェア30%）。\n"
    "2030年までの早期にGW級の量産体制構築に取り組む。"
)


def test_a_question_asking_a_figure_in_a_unit_is_not_answered_by_lines_without_one() -> None:
    """「何トン？」 answered by a share in percent, 「何GW？」 by 「GW級」: the lines name the thing,
    not the figure asked for, so the answer has no confidence; 「何％？」 is answered."""
    pages = [ranked(41, IODINE_PAGE)]
    for question, answered in [
        ("日本のヨウ素の年間生産量って何トン？", False),
        ("ペロブスカイト太陽電池の2040年の導入目標は何GW？", False),
        ("ヨウ素の産出量で日本のシェアは何％？", True),
    ]:
        composition = composer().compose(question, pages, lambda doc, page: IODINE_PAGE)
        assert composition.evidence, question
        assert (composition.confidence > 0) is answered, (question, composition.confidence)


def test_a_question_about_a_thing_no_document_names_has_no_confidence() -> None:
    """「ヨウ素の罰則は？」 matches the iodine page well, but nothing in the index is a 罰則: the
    composer's evidence stands, its confidence is 0, so the service refuses."""
    page_words = set(bigrams(IODINE_PAGE))
    knowing = ExtractiveComposer(bigrams, bigram_groups, lambda token: 1.0, known=page_words.__contains__)
    pages = [ranked(41, IODINE_PAGE)]
    refused = knowing.compose("ヨウ素の罰則は？", pages, lambda doc, page: IODINE_PAGE)
    answered = knowing.compose("ヨウ素の産出量は？", pages, lambda doc, page: IODINE_PAGE)
    assert refused.evidence and refused.confidence == 0.0
    assert answered.confidence > 0.0
    # a follow-up's own words need not be the documents' (「担当は？」): its topic carries it
    follow_up = knowing.compose("罰則は？", pages, lambda doc, page: IODINE_PAGE, topic="ヨウ素")
    assert follow_up.confidence > 0.0


def test_a_question_naming_a_place_no_quoted_document_writes_has_no_confidence() -> None:
    """「北海道の工場」 asked of the iodine page: its words match, but the document never writes 北海道."""
    document_words = set(bigrams(IODINE_PAGE))

    def places(text: str) -> list[tuple[str, ...]]:
        return [(place,) for place in ("北海道", "日本") if place in text]

    naming = ExtractiveComposer(
        bigrams,
        bigram_groups,
        lambda token: 1.0,
        names=places,
        document_holds=lambda doc, token: set(bigrams(token)) <= document_words,
    )
    pages = [ranked(41, IODINE_PAGE)]
    assert (
        naming.compose("北海道のヨウ素の産出量は？", pages, lambda doc, page: IODINE_PAGE).confidence == 0.0
    )
    for question in ("日本のヨウ素の産出量は？", "ヨウ素の産出量は？"):
        assert naming.compose(question, pages, lambda doc, page: IODINE_PAGE).confidence > 0.0, question


NNET_PAGE = (
    "地震に関する調査研究\n"
    "令和6年度予算額 | 680百万円\n"
    "令和5年度予算額 | 738\n"
    "文部科学省においては、高知県沖から日向灘に新たに南海トラフ海底地震津波観測網を構築する。"
)


def test_a_follow_up_whose_own_words_are_not_on_the_pages_is_answered_from_its_topic() -> None:
    """「担当は？」 after a question about the observation network: no line says 担当, so the lines
    are chosen with the topic, and the one naming the network (and its ministry) comes first."""
    pages = [ranked(5, NNET_PAGE)]
    topic = "南海トラフ海底地震津波観測網"
    composition = composer().compose("担当は？", pages, lambda doc, page: NNET_PAGE, topic=topic)
    assert composition.evidence[0].lines[0].startswith("文部科学省においては")
    alone = composer().compose("担当は？", pages, lambda doc, page: NNET_PAGE)
    assert not alone.evidence[0].lines[0].startswith("文部科学省においては")


UNDATED_PAGE = "経済安全保障推進法\n特定重要物資の安定的な供給の確保に関する制度を創設する。"
DATED_PAGE = "経済安全保障推進法\n基幹インフラ役務の安定的な提供の確保に関する制度は2024年5月17日に施行。"


def test_a_when_question_answered_by_lines_without_a_date_has_no_confidence() -> None:
    """「…はいつ創設された？」 whose lines name the scheme but give no date is not answered; the
    same question over a page that dates the scheme is."""
    question = "安定的な供給の確保に関する制度はいつ創設された？"
    undated = composer().compose(question, [ranked(16, UNDATED_PAGE)], lambda d, p: UNDATED_PAGE)
    dated = composer().compose(question, [ranked(17, DATED_PAGE)], lambda d, p: DATED_PAGE)
    assert undated.evidence and undated.confidence == 0.0
    assert "2024年5月17日" in dated.evidence[0].quote and dated.confidence > 0.0


NOTICE_FIRST_PAGE = (
    "事務連絡\n平成２５年３月８日\n\n各都道府県衛生主管部（局）御中\n\n厚生労働省医薬食品局審査管理課\n\n"
    "登録申請書の作成要領について\n\n"
    "指針については、「指針の一部改正について」（平成２４年１２月２８日付け通知）により取扱いを示したところです。"
)
NOTICE_LATER_PAGE = "第１ 一般的事項\n本作成要領は、登録申請書の作成に際して留意すべき事項を示すものである。"


def test_a_document_asked_when_it_was_issued_is_answered_by_its_own_date() -> None:
    """The notice's text mentions an earlier notice's date; its own date stands alone at the head
    of its first page, even when the page retrieved first is a later one."""
    pages = {1: NOTICE_FIRST_PAGE, 3: NOTICE_LATER_PAGE}
    chunks = [ranked(3, NOTICE_LATER_PAGE, doc="notice"), ranked(1, NOTICE_FIRST_PAGE, doc="notice")]
    for question in (
        "登録申請書の作成要領の事務連絡っていつ出た？",
        "When was this notice on filings issued?",
    ):
        composed = composer().compose(question, chunks, lambda d, p: pages.get(p))
        first = composed.evidence[0]
        assert "平成２５年３月８日" in first.quote and "平成２４年" not in first.quote and first.page == 1
    about_the_text = composer().compose("指針の一部改正の通知はいつ？", chunks, lambda d, p: pages.get(p))
    assert "平成２５年３月８日" not in about_the_text.evidence[0].quote


ITEMS_PAGE = (
    "（20）基幹的広域防災拠点の管理等\n"
    "国土交通省においては、首都直下地震や南海トラフ地震等の大規模災害発生時に広域的な災害応急対策を"
    "円滑に実施できるよう、基幹的広域防災拠点を適切に維持管理するとともに、緊急物資輸送等の訓練を実施する。\n"
    "令和6年度予算額 | 136百万円\n"
    "令和5年度予算額 | 122\n"
    "\n"
    "（21）「道の駅」の防災機能の強化\n"
    "国土交通省においては、災害時に地域の避難所等となる「道の駅」や広域的な復旧・復興活動拠点となる"
    "「道の駅」の防災機能強化を図る。\n"
    "（22）災害予防に関する融資\n"
    "独立行政法人住宅金融支援機構等においては、「地すべり等防止法」による関連事業計画等に基づく住宅の移転等や、"
    "地方公共団体が防災対策として実施する移転促進事業等を対象とした「地すべり等関連住宅融資」を実施する。"
)


def test_a_figure_of_the_previous_item_is_no_answer_for_the_asked_one() -> None:
    """Item (21) has no budget row; the row above it is item (20)'s. Quoting it for (21) would
    answer what the page does not say, so the answer has no confidence; (20)'s question is answered."""
    pages = [ranked(17, ITEMS_PAGE)]
    asked_21 = composer().compose(
        "「道の駅」の防災機能の強化の令和6年度予算額はいくら？", pages, lambda d, p: ITEMS_PAGE
    )
    asked_20 = composer().compose(
        "基幹的広域防災拠点の管理等の令和6年度予算額はいくら？", pages, lambda d, p: ITEMS_PAGE
    )
    assert any("136百万円" in e.quote for e in asked_21.evidence)  # the row is found, but not trusted
    assert asked_21.confidence == 0.0
    assert any("136百万円" in e.quote for e in asked_20.evidence) and asked_20.confidence > 0.0


VOLCANO_PAGE = (
    "（1）火山調査研究推進本部\n"
    "文部科学省においては、令和5年6月に改正された活動火山対策特別措置法（昭和48年法律第61号）に基づき、"
    "令和6年4月に設置される火山調査研究推進本部の着実な運営や、活動的火山の基盤調査を行う。\n"
    "令和6年度予算額 | 350百万円\n"
    "\n"
    "（2）火山の機動観測体制の構築\n"
    "文部科学省においては、火山噴火時など機動的な観測を行う。"
)


def test_how_much_is_answered_by_the_budget_row_not_by_the_dates_of_the_paragraph_above() -> None:
    question = "火山調査研究推進本部の令和6年度の予算はいくら？"
    composition = composer().compose(question, [ranked(9, VOLCANO_PAGE)], lambda d, p: VOLCANO_PAGE)
    assert composition.evidence[0].lines[0] == "令和6年度予算額 | 350百万円"
    assert composition.confidence > 0.0


UN_BUDGET_PAGE = (
    "（45）国際防災協力の推進\n"
    "外務省においては、国連防災機関（UNDRR）への拠出等を行う。\n"
    "令和5年度予算額 | 837百万円\n"
    "令和6年度予算額 | 872百万円\n"
)


def test_a_figure_for_a_named_year_comes_from_the_line_of_that_year() -> None:
    question = "国連防災機関への拠出の令和5年度の予算額は？"
    composition = composer().compose(question, [ranked(76, UN_BUDGET_PAGE)], lambda d, p: UN_BUDGET_PAGE)
    assert composition.evidence[0].lines[0] == "令和5年度予算額 | 837百万円"


@pytest.mark.parametrize(
    ("other_year", "named_year", "answer"),
    [
        # a 2025 budget asked of a page that gives the 令和5年度 and 令和6年度 budgets only
        (
            "国連防災機関への拠出の2025年度の予算額は？",
            "国連防災機関への拠出の2024年度の予算額は？",
            "872百万円",
        ),
        # not only figures: what a 2026 policy decided is not on that page, however well its words match
        (
            "2026年に外務省がまとめた国連防災機関への拠出の方針はどうなった？",
            "2024年に外務省が行う国連防災機関への拠出はどうなった？",
            "",
        ),
    ],
)
def test_a_question_about_a_year_no_quoted_page_names_has_no_confidence(
    other_year: str, named_year: str, answer: str
) -> None:
    pages = [ranked(76, UN_BUDGET_PAGE)]
    later = composer().compose(other_year, pages, lambda d, p: UN_BUDGET_PAGE)
    named = composer().compose(named_year, pages, lambda d, p: UN_BUDGET_PAGE)
    assert later.evidence and later.confidence == 0.0
    assert answer in named.evidence[0].quote and named.confidence > 0.0


def test_a_question_naming_an_ordinal_no_quoted_page_writes_has_no_confidence() -> None:
    """「第2工場」 asked of a page about the (first) plant only: not answered; 第1 is."""
    page = "JASMの熊本進出\n第1工場は2024年に稼働を開始し、雇用効果は約7,500人。"
    pages = [ranked(9, page, doc="deck")]
    second = composer().compose("JASMの熊本第2工場はいつ稼働を開始する？", pages, lambda d, p: page)
    first = composer().compose("JASMの熊本第1工場はいつ稼働を開始した？", pages, lambda d, p: page)
    assert second.evidence and second.confidence == 0.0
    assert first.confidence > 0.0


MINERALS_PAGE = (
    "先端産業において重要性を増す多様な鉱物資源\n\n"
    "- 鉱物資源は、多数の鉱種が存在し、それぞれの特性や市場規模・主要生産国・需要国等も多様。\n\n"
    "自動車電動化で必要となる鉱物\n- ① リチウムイオン電池\nリチウム、コバルト、ニッケル、グラファイト\n"
    "- ② 駆動モーターレアース\n(ネオジム、ジスプロシウム)\n\n航空機"
)


def test_a_question_whose_best_line_heads_a_list_is_answered_with_the_list() -> None:
    """「…を教えて」 does not say it wants a list; its best line introduces ①②, so both items come."""
    composition = composer().compose(
        "EVの電動化に必要となる鉱物を教えて", [ranked(49, MINERALS_PAGE)], lambda d, p: MINERALS_PAGE
    )
    first = composition.evidence[0]
    assert first.is_list and first.lines[0] == "自動車電動化で必要となる鉱物"
    assert "(ネオジム、ジスプロシウム)" in first.quote


def test_a_question_whose_best_line_announces_bullets_is_answered_with_them() -> None:
    """「以下の事業を実施する。」 answers 「どんな事業をやるの？」 only with the bullets it announces,
    which stand between their descriptions and budget rows (the page as extracted)."""
    page = (
        "地震に関する復興対策\n"
        "農林水産省においては、地震による災害の復旧対策として、以下の事業を実施する。\n"
        "・災害復旧事業\n"
        "被災した農林水産業施設・公共土木施設の復旧整備を実施する。\n"
        "令和6年度予算額 | 14,600百万円の内数\n"
        "令和5年度予算額 | 14,626百万円の内数\n"
        "・林業施設整備等利子助成事業令和6年度予算額\n"
        "\n"
        "236百万円の内数\n"
        "令和5年度予算額 | 244百万円の内数\n"
        "・治山事業\n"
        "令和6年度予算額 | 62,351百万円の内数\n"
        "※この他に農山漁村地域整備交付金の内数令和5年度予算額\n"
    )
    composition = composer().compose(
        "農林水産省においては地震による災害の復旧対策としてどんな事業を実施する？",
        [ranked(71, page)],
        lambda d, p: page,
    )
    first = composition.evidence[0]
    assert first.is_list
    assert first.lines[1:] == ("・災害復旧事業", "・林業施設整備等利子助成事業令和6年度予算額", "・治山事業")
    assert page[first.start : first.end] == first.quote


WORK_RULES_PAGE = (
    "２就業規則の内容\n"
    "\n"
    "就業規則に記載する事項には、必ず記載しなければならない事項（以下「絶対的必要記載事項」といいます。）と、"
    "各事業場内でルールを定める場合には記載しなければならない事項（以下「相対的必要記載事項」といいます。）があります。\n"
    "\n"
    "絶対的必要記載事項は次のとおりです。\n"
    "（１）労働時間関係\n"
    "始業及び終業の時刻、休憩時間、休日、休暇\n"
    "（２）賃金関係\n"
    "賃金の決定、計算及び支払の方法\n"
    "（３）退職関係\n"
    "退職に関する事項（解雇の事由を含みます。）\n"
    "\n"
    "相対的必要記載事項は次のとおりです。\n"
    "（１）退職手当関係\n"
    "適用される労働者の範囲、退職手当の決定\n"
    "（２）臨時の賃金・最低賃金額関係\n"
    "臨時の賃金等及び最低賃金額に関する事項\n"
)


def test_a_quoted_line_announcing_a_list_is_quoted_with_its_items() -> None:
    """「絶対的必要記載事項は次のとおりです。」 says nothing without the items under it, even when it
    is not the best line: the three items come with it, and the next list does not."""
    composition = composer().compose(
        "就業規則に必ず記載しなければならない絶対的必要記載事項は？",
        [ranked(2, WORK_RULES_PAGE, doc="work-rules")],
        lambda d, p: WORK_RULES_PAGE,
    )
    lists = [e for e in composition.evidence if e.is_list]
    assert len(lists) == 1
    assert lists[0].lines[0] == "絶対的必要記載事項は次のとおりです。"
    assert [line.split()[0] for line in lists[0].lines[1:]] == [
        "（１）労働時間関係",
        "（２）賃金関係",
        "（３）退職関係",
    ]
    assert "退職手当" not in lists[0].quote
    assert WORK_RULES_PAGE[lists[0].start : lists[0].end] == lists[0].quote


PLANS_PAGE = (
    "３「支配」概念の創設\n"
    "電子船荷証券記録の「支配」という新たな概念を創設し、次のいずれかの案によるものとする。\n"
    "【甲案】\n"
    "「電子船荷証券記録の支配」については、「当該記録を利用することができる状態」と定義する。\n"
    "【乙案】\n"
    "「電子船荷証券記録の支配」については、「当該記録を管理することができる地位」と定義する。\n"
)


def test_a_line_is_read_under_its_heading() -> None:
    """The two plans' definitions differ only by the label above them: the one under 【乙案】
    answers 「乙案の支配の定義」, the one under 【甲案】 answers 「甲案の支配の定義」."""
    pages = [ranked(17, PLANS_PAGE, doc="bill-of-lading")]
    for plan, definition in (("乙案", "管理することができる地位"), ("甲案", "利用することができる状態")):
        first = composer().compose(f"{plan}の支配の定義", pages, lambda d, p: PLANS_PAGE).evidence[0]
        assert definition in first.lines[0]


SME_PAGE = (
    "適用が猶予される中小企業\n"
    "中小企業に該当するか否かは、次の表で判断されます。\n"
    "業種 | 資本金の額または出資の総額 | 常時使用する労働者の数\n"
    "小売業 | ５，０００万円以下 | 又は | ５０人以下\n"
    "サービス業 | ５，０００万円以下 | 又は | １００人以下\n"
    "卸売業 | １億円以下 | 又は | １００人以下\n"
)


def test_a_table_row_is_read_under_the_row_naming_the_columns() -> None:
    """「卸売業の資本金の額の基準」: the row of 卸売業 answers through the column it stands under, not
    through the row above it (サービス業), which names no column."""
    first = (
        composer()
        .compose(
            "卸売業の資本金の額の基準は？", [ranked(55, SME_PAGE, doc="work-rules")], lambda d, p: SME_PAGE
        )
        .evidence[0]
    )
    assert first.lines[0] == "卸売業 | １億円以下 | 又は | １００人以下"
