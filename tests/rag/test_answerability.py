import pytest

from rag.answerability import asked_thing, unknown_asked_thing
from rag.intent import question_intent

VOCABULARY = {"経済", "安全", "保障", "推進", "法", "経済安全保障推進法", "違反", "関税", "相互", "相互関税"}


def _tokens(text: str) -> list[str]:
    # a fake tokenizer: the words of the vocabulary, plus the ones these tests ask about
    words = sorted(VOCABULARY | {"罰則", "税率", "グラフ", "戦略", "ステップ", "日付"}, key=len, reverse=True)
    return [w for w in words if w in text]


def _unknown(question: str) -> str | None:
    return unknown_asked_thing(question, question_intent(question), _tokens, VOCABULARY.__contains__)


@pytest.mark.parametrize(
    ("question", "thing"),
    [
        ("経済安全保障推進法に違反した場合の罰則ってどうなってる？", "罰則"),
        ("2025年4月に米国が発表した日本に対する相互関税の税率は？", "税率"),
        ("N-netってどこに整備するもの？", "N-net"),
        (
            "特定重要物資のうち、経産省が所管してるものを全部教えて",
            "うち、経産省が所管してるもの",
        ),  # not split in もの
    ],
)
def test_the_asked_thing_is_the_head_of_the_topic(question: str, thing: str) -> None:
    assert asked_thing(question) == thing


def test_a_question_about_something_no_document_names_is_unanswerable() -> None:
    assert _unknown("経済安全保障推進法に違反した場合の罰則ってどうなってる？") == "罰則"
    assert _unknown("相互関税の税率は？") == "税率"


def test_a_question_about_something_the_documents_name_is_left_to_the_evidence() -> None:
    assert _unknown("経済安全保障推進法の違反は？") is None
    assert _unknown("相互関税は？") is None


def test_the_form_of_an_answer_is_not_its_content() -> None:
    # documents number their steps and show their graphs without writing ステップ or グラフ
    assert _unknown("基本戦略の3つのステップは？") is None
    assert _unknown("生産能力比率のグラフは何のデータに基づいている？") is None
    assert _unknown("日米首脳共同声明の日付は？") is None


def test_english_questions_are_not_judged_by_japanese_words() -> None:
    assert _unknown("What are the penalties under the Economic Security Promotion Act?") is None


def _evidence(quote: str, doc: str = "deck", page: int = 16):
    from rag.evidence import Evidence

    return Evidence(doc, "資料", "", page, 0, len(quote), quote, (quote,), 1.0)


def _why(question: str, quote: str, **words) -> str | None:
    from rag.answerability import IndexWords, why_unanswered

    return why_unanswered(
        question,
        question_intent(question),
        [_evidence(quote)],
        {},
        lambda doc, page: quote,
        IndexWords(_tokens, VOCABULARY.__contains__, **words),
    )


def test_the_reason_says_what_the_quoted_lines_lack() -> None:
    line = "令和6年度予算額は756百万円。経済安全保障推進法に基づく支援。"
    assert _why("令和6年度の予算はいくら？", line) is None
    assert _why("令和7年度の予算はいくら？", line) == "pages of other years"
    assert _why("推進法はいつ施行された？", "経済安全保障推進法に基づく支援。") == "no date"
    assert _why("経済安全保障推進法の罰則は？", line) == "nothing in the documents is a 罰則"
    edition = "AI事業者ガイドライン案（第1.0版）の別添の構成"
    assert _why("AI事業者ガイドラインの第1.0版では別添はどういう構成？", edition) is None
    assert (
        _why("AI事業者ガイドラインの第1.1版では別添のどこが変わったの？", edition)
        == "pages of other editions"
    )
    notice = "事務連絡\n平成25年3月8日\n作成要領について"
    assert _why("MF登録の標準的な審査期間は何日？", notice) == "no figure in 日"  # 8日 is a date
    assert _why(
        "What is the maximum fine under the AI Act?", "AI法案には、高額の課徴金など罰則規定がある。"
    ) == ("no figure in 円")


def test_a_name_no_quoted_document_holds_is_a_reason() -> None:
    line = "熊本の工場への支援は最大4,760億円。"
    names = {"熊本": ("熊本",), "北海道": ("北海道",)}
    words = dict(
        names=lambda text: [group for name, group in names.items() if name in text],
        document_holds=lambda doc, token: token in line,
    )
    assert _why("熊本の工場への支援額は？", line, **words) is None
    assert _why("北海道の工場への支援額は？", line, **words) == "documents that never name 北海道"


def test_a_name_in_capitals_the_index_knows_counts_too_in_a_japanese_question() -> None:
    """SUMCO is written on other documents (the index knows it), never on the quoted one."""
    from rag.answerability import IndexWords, why_unanswered

    line = "熊本の工場への支援は最大4,760億円。"

    def why(question: str, known: set[str]) -> str | None:
        return why_unanswered(
            question,
            question_intent(question),
            [_evidence(line)],
            {},
            lambda doc, page: line,
            IndexWords(_tokens, known.__contains__, lambda text: [], lambda doc, token: token in line),
        )

    assert why("SUMCOの工場への支援額は？", {"sumco"}) == "documents that never name sumco"
    assert why("SUMCOの工場への支援額は？", set()) is None, "a name the index never saw says nothing"
    assert why("How much support does SUMCO's plant get?", {"sumco"}) is None, "English: not checked"
