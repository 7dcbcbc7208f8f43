"""Lists on a page: numbered outlines and runs of short or bulleted lines."""

from __future__ import annotations

from rag.lists import ListCandidate, enumeration_quality, introduced_items, list_candidates, outline_number


def _first_outline(page: str) -> tuple[ListCandidate, list[str]]:
    outline = next(c for c in list_candidates(page) if c.numbered)
    return outline, [t for _, _, t in outline.items]


def test_outline_marks_are_read_with_their_style() -> None:
    assert outline_number("① 半導体") == ("circled", 1)
    assert outline_number("（3）蓄電池") == ("paren", 3)
    assert outline_number("2. 工作機械") == ("dot", 2)
    assert outline_number("2024年の計画") is None
    assert outline_number("第2章") == ("第章", 2)
    assert outline_number("第三部 令和6年度の防災に関する計画") == ("第部", 3)
    assert outline_number("第198回会議") is None


def test_a_documents_chapters_are_a_list_each_with_its_title() -> None:
    page = "特集2\n能登半島地震\n第1章\n地震及びその被害の概要\n第2章\n地震における対応\n第3章\n今後の防災対策に向けて"
    outline, items = _first_outline(page)
    assert items == [
        "第1章\n地震及びその被害の概要",
        "第2章\n地震における対応",
        "第3章\n今後の防災対策に向けて",
    ]


def test_an_outline_in_order_is_a_list_even_with_lines_between_its_items() -> None:
    page = "支援の柱\n① 供給網の強靱化\n\n図の注記\n\n② 技術の育成\n③ 国際連携"
    outline = next(c for c in list_candidates(page) if c.numbered and c.items[0][2].startswith("①"))
    assert [t for _, _, t in outline.items] == ["① 供給網の強靱化", "② 技術の育成", "③ 国際連携"]
    assert outline.header is not None and outline.header[2] == "支援の柱"


def test_an_outline_item_keeps_the_short_lines_under_it() -> None:
    """Each numbered item's minerals stand on the line below it; without them the list names two
    parts and no mineral."""
    page = (
        "自動車電動化で必要となる鉱物\n\n① リチウムイオン電池\nリチウム、コバルト、ニッケル、グラファイト\n"
        "② 駆動モーターレアース\n(ネオジム、ジスプロシウム)\n\n航空機"
    )
    outline, items = _first_outline(page)
    assert items == [
        "① リチウムイオン電池\nリチウム、コバルト、ニッケル、グラファイト",
        "② 駆動モーターレアース\n(ネオジム、ジスプロシウム)",
    ]
    assert all(page[s:e] == t for s, e, t in outline.items)


def test_a_slide_bullet_before_the_outline_number_still_makes_an_outline() -> None:
    page = (
        "自動車電動化で必要となる鉱物\n- ① リチウムイオン電池\nリチウム、コバルト、ニッケル、グラファイト\n"
        "- ② 駆動モーターレアース\n(ネオジム、ジスプロシウム)\n\n航空機"
    )
    outline, items = _first_outline(page)
    assert items == [
        "- ① リチウムイオン電池\nリチウム、コバルト、ニッケル、グラファイト",
        "- ② 駆動モーターレアース\n(ネオジム、ジスプロシウム)",
    ]
    assert outline.header is not None and outline.header[2] == "自動車電動化で必要となる鉱物"


def test_an_outline_item_that_is_a_whole_paragraph_is_shown_by_its_first_sentence() -> None:
    """A white paper numbers its paragraphs; the list a reader wants is the sentence each opens
    with, not five paragraphs."""
    page = (
        "国力の主な要素は次のとおりである。\n"
        "(1) 第一に外交力である。外交力は、国際社会において自国の立場を主張し、他国と協調しながら"
        "国益を実現する力であり、平素からの信頼関係の構築によって支えられるものである。\n"
        "その基盤は人的な交流にある。\n"
        "(2) 第二に防衛力である。防衛力は、我が国への侵害を抑止し、万一の場合にはこれを排除する力であり、"
        "同盟国や同志国との協力によってその実効性が高められるものである。\n"
        "(3) 経済力"
    )
    outline, items = _first_outline(page)
    assert items == [
        "(1) 第一に外交力である。",
        "(2) 第二に防衛力である。",
        "(3) 経済力",
    ]
    assert all(page[s:e] == t for s, e, t in outline.items)


def test_a_run_of_bullets_is_a_list_and_spans_are_exact() -> None:
    page = "対象物資\n・半導体\n・蓄電池\n・永久磁石\n\n本文はここから始まる長い文章である。"
    candidates = list_candidates(page)
    items = max(candidates, key=lambda c: len(c.items)).items
    assert [t for _, _, t in items] == ["・半導体", "・蓄電池", "・永久磁石"]
    assert all(page[s:e] == t for s, e, t in items)


def test_prose_is_a_poor_enumeration() -> None:
    short = [(0, 3, "半導体"), (4, 7, "蓄電池")]
    prose = [(0, 40, "これは文章であり、一覧の項目ではないことを示すための長い文である。")] * 2
    assert enumeration_quality(short) == 1.0 and enumeration_quality(prose) == 0.0


RECOVERY_PAGE = (
    "農林水産省においては、地震による災害の復旧対策として、以下の事業を実施する。\n"
    "・災害復旧事業\n"
    "被災した農林水産業施設・公共土木施設の復旧整備を実施する。\n"
    "令和6年度予算額 | 14,600百万円の内数\n"
    "・治山事業\n"
    "令和6年度予算額 | 62,351百万円の内数\n"
    "※この他に農山漁村地域整備交付金の内数\n"
    "・森林整備事業令和6年度予算額\n"
    "\n"
    "（2）国土交通省の対策\n"
    "・土砂災害対策の推進\n"
)


def test_a_line_announcing_what_follows_introduces_the_bullets_under_it() -> None:
    """The items of 「以下の事業を実施する。」 stand between their descriptions and budget rows, and
    stop at the next numbered heading; a ※ note is not one of them."""
    announced = introduced_items(RECOVERY_PAGE, 0)
    assert announced is not None and announced.header is not None
    assert announced.header[2].endswith("以下の事業を実施する。")
    assert [t for _, _, t in announced.items] == [
        "・災害復旧事業",
        "・治山事業",
        "・森林整備事業令和6年度予算額",
    ]
    assert all(RECOVERY_PAGE[s:e] == t for s, e, t in announced.items)


def test_a_line_that_announces_nothing_introduces_no_items() -> None:
    page = "次の世代の半導体を開発する。\n本文が続く。\n・半導体\n・蓄電池"
    assert introduced_items(page, 0) is None  # no bullet right under it
    line_two = page.index("本文")
    assert introduced_items(page, line_two) is None  # it announces nothing


ALTERNATIVES_PAGE = (
    "３「支配」概念の創設及び関連概念の定義⑴ 「支配」概念の定義\n"
    "電子船荷証券記録の「支配」という新たな概念を創設することとし、その定義として、次のいずれかの案によるものとする。\n"
    "【甲案】\n"
    "「電子船荷証券記録の支配」については、「当該電子船荷証券記録を利用することができる状態」と定義する。\n"
    "【乙案】\n"
    "「電子船荷証券記録の支配」の内容について、法律上は定義を設けない。\n"
    "⑵ 「電子船荷証券記録の発行」の定義について\n"
    "電子船荷証券記録の発行については、「電子船荷証券記録を作成し、…措置」と定義する。\n"
)


def test_a_line_announcing_alternatives_introduces_each_label_with_its_text() -> None:
    """「次のいずれかの案によるものとする。」 announces 【甲案】 and 【乙案】, each over its own text;
    the next numbered heading (⑵) ends them."""
    announced = introduced_items(
        ALTERNATIVES_PAGE, ALTERNATIVES_PAGE.index("電子船荷証券記録の「支配」という")
    )
    assert announced is not None and announced.header is not None
    assert [t.split("\n") for _, _, t in announced.items] == [
        [
            "【甲案】",
            "「電子船荷証券記録の支配」については、「当該電子船荷証券記録を利用することができる状態」と定義する。",
        ],
        ["【乙案】", "「電子船荷証券記録の支配」の内容について、法律上は定義を設けない。"],
    ]
    assert all(ALTERNATIVES_PAGE[s:e] == t for s, e, t in announced.items)
