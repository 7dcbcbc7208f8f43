"""The chat UI's pure formatting helpers: links, escaping, abstentions, Japanese dates and labels."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from core.errors import StoreUnavailable, UnknownDocuments
from core.store import DocumentRecord
from rag.answer import ABSTAIN_EN, ABSTAIN_JA, Answer, Citation, marker
from rag.links import citation_url, pdf_url, viewer_url
from ui import formatting as fmt

DECK = "econsec-public-private-action-2025-03-16"
DECK_TITLE = "経済安全保障に関する官民連携アクション"


def cite(
    page: int = 19,
    quote: str = "・半導体\n・蓄電池",
    doc_id: str = DECK,
    title: str = DECK_TITLE,
    date: str = "2025-03-16",
    url: str | None = None,
) -> Citation:
    return Citation(doc_id=doc_id, doc_title=title, doc_date=date, page=page, quote=quote, score=0.9, url=url)


def answer(
    text: str, citations: list[Citation], *, abstained: bool = False, notice: str | None = None
) -> Answer:
    return Answer(
        question="q",
        answer=text,
        abstained=abstained,
        mode="extractive",
        citations=citations,
        sources=[],
        timings_ms={},
        confidence=0.0 if abstained else 0.8,
        notice=notice,
    )


def record(doc_id: str, title: str, date: str = "") -> DocumentRecord:
    return DocumentRecord(doc_id=doc_id, gen="g1", title=title, date=date)


class Tags(HTMLParser):
    """Collects (tag, attrs) pairs and checks that the markup is balanced."""

    VOID = frozenset({"br"})

    def __init__(self, markup: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.stack: list[str] = []
        self.text: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> in {self.stack}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)

    def links(self) -> list[dict]:
        return [attrs for tag, attrs in self.tags if tag == "a"]


# ---------------------------------------------------------------- links


def test_citation_url_opens_the_pdf_at_the_page():
    assert citation_url(DECK, 19) == f"/v1/documents/{DECK}/pdf#page=19"
    assert pdf_url(DECK) == f"/v1/documents/{DECK}/pdf"


def test_citation_url_quotes_the_id_and_takes_a_prefix():
    assert citation_url("a b/c", 2) == "/v1/documents/a%20b%2Fc/pdf#page=2"
    assert citation_url(DECK, 3, base="/policyqa/") == f"/policyqa/v1/documents/{DECK}/pdf#page=3"


def test_citation_url_rejects_page_zero():
    with pytest.raises(ValueError):
        citation_url(DECK, 0)


def test_citation_link_reads_title_and_page_and_opens_a_new_tab():
    tags = Tags(fmt.citation_link(cite(page=19)))
    [link] = tags.links()
    assert link["href"] == viewer_url(DECK, 19, cite(page=19).quote)
    assert link["href"].startswith("/viewer/?") and "page=19" in link["href"]
    assert link["target"] == "_blank"
    assert "noopener" in link["rel"]
    assert "".join(tags.text) == f"{DECK_TITLE} p.19"


def test_citation_link_prefers_the_url_the_service_set():
    c = cite(url="/root/v1/documents/x/pdf#page=4")
    [link] = Tags(fmt.citation_link(c)).links()
    assert link["href"].startswith("/root/viewer/?")
    [pdf] = Tags(fmt.pdf_link(c)).links()
    assert pdf["href"] == "/root/v1/documents/x/pdf#page=4"


# ---------------------------------------------------------------- answers


def test_answer_turns_inline_markers_into_links_and_lists_sources():
    text = f"・半導体\n・蓄電池 {marker(DECK_TITLE, 19)}\n令和5年度補正予算 {marker(DECK_TITLE, 16)}"
    html = fmt.format_answer(answer(text, [cite(19), cite(16, quote="令和5年度補正予算")]))
    tags = Tags(html)
    assert not tags.stack
    hrefs = [a["href"] for a in tags.links()]
    # viewer links: inline (2) + 出典 line (2) + 根拠 panel (2); the panel also links each PDF page
    views = [h for h in hrefs if h.startswith("/viewer/")]
    assert sum("page=19" in h for h in views) == 3 and sum("page=16" in h for h in views) == 3
    assert hrefs.count(citation_url(DECK, 19)) == 1 and hrefs.count(citation_url(DECK, 16)) == 1
    assert all(a["target"] == "_blank" for a in tags.links())
    assert "〔" + fmt.citation_link(cite(19)) + "〕" in html
    shown = html.split('<p class="pqa-actions">')[0]  # the copy text keeps its markers
    assert marker(DECK_TITLE, 19) not in shown  # every marker shown became a link
    assert "出典：" in html


def test_answer_is_one_html_block_without_blank_lines():
    """A blank line would end the raw HTML block and let Markdown parse the PDF text."""
    html = fmt.format_answer(answer("一行目\n\n\n二行目", [cite(quote="a\n\n\nb")]))
    assert "\n" not in html
    assert html.startswith("<div") and html.endswith("</div>")


def test_html_and_markdown_in_quotes_and_answers_are_escaped():
    evil = '<script>alert(1)</script> <img src=x onerror=alert(2)> **太字** [x](javascript:alert(3)) & "q"'
    html = fmt.format_answer(answer(evil + " " + marker(DECK_TITLE, 5), [cite(5, quote=evil)]))
    tags = Tags(html)
    assert not any(tag in ("script", "img") for tag, _ in tags.tags)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "&amp; &quot;q&quot;" in html
    # the text reads exactly as written (no Markdown applied, nothing dropped)
    assert evil in "".join(tags.text)
    assert all(a["href"].startswith(("/v1/documents/", "/viewer/?")) for a in tags.links())


def test_titles_with_markup_are_escaped_in_links_and_panels():
    c = cite(3, title='資料<b>"A"</b>&B', doc_id="doc-a")
    html = fmt.format_answer(answer(f"本文 {marker(c.doc_title, 3)}", [c]))
    assert "<b>" not in html
    assert "資料&lt;b&gt;&quot;A&quot;&lt;/b&gt;&amp;B p.3" in html
    assert html.count('href="/v1/documents/doc-a/pdf#page=3"') == 1
    assert html.count('href="/viewer/?doc=doc-a&amp;page=3') == 3


def test_evidence_panel_lists_each_quote_with_title_date_and_page():
    panel = fmt.evidence_panel(
        [cite(19, quote="・半導体\n\n・肥料"), cite(16, quote="12の特定重要物資を指定")]
    )
    tags = Tags(panel)
    assert [t for t, _ in tags.tags][:2] == ["details", "summary"]
    assert "open" not in dict(tags.tags[0][1])  # collapsed until clicked
    text = "".join(tags.text)
    assert text.startswith("根拠（2件）")
    assert f"{DECK_TITLE} p.19（2025年3月16日）" in text and f"{DECK_TITLE} p.16（2025年3月16日）" in text
    assert "・半導体<br>・肥料" in panel  # blank lines collapsed, line breaks kept
    assert [t for t, _ in tags.tags].count("blockquote") == 2


def test_evidence_panel_is_empty_without_citations():
    assert fmt.evidence_panel([]) == ""


def test_repeated_pages_are_linked_once_in_the_sources_line():
    line = fmt.sources_line([cite(19), cite(19, quote="別の箇所"), cite(16)])
    hrefs = [a["href"] for a in Tags(line).links()]
    assert hrefs == [viewer_url(DECK, 19, cite(19).quote), viewer_url(DECK, 16, cite(16).quote)]


def test_notice_is_shown():
    html = fmt.format_answer(
        answer(f"本文 {marker(DECK_TITLE, 2)}", [cite(2)], notice="LLM <失敗> のため抽出回答")
    )
    assert "※ LLM &lt;失敗&gt; のため抽出回答" in html


# ---------------------------------------------------------------- copy answer with citations


def test_copy_text_is_the_plain_answer_then_one_line_per_cited_page():
    text = f"・半導体\n\n・蓄電池 {marker(DECK_TITLE, 19)}\n令和5年度補正予算 {marker(DECK_TITLE, 16)}"
    cites = [cite(19), cite(16, quote="令和5年度補正予算"), cite(19, quote="・蓄電池")]
    assert fmt.copy_text(answer(text, cites)) == (
        f"・半導体\n・蓄電池 〔{DECK_TITLE} p.19〕\n令和5年度補正予算 〔{DECK_TITLE} p.16〕\n"
        "\n出典：\n"
        f"{DECK_TITLE} p.19 /v1/documents/{DECK}/pdf#page=19\n"
        f"{DECK_TITLE} p.16 /v1/documents/{DECK}/pdf#page=16"
    )


def test_copy_text_keeps_the_services_url_and_the_notice_and_no_markup():
    c = cite(3, title="資料<b>A</b>", url="https://qa.example/prefix/v1/documents/doc-a/pdf#page=3")
    copied = fmt.copy_text(answer("本文 <i>x</i> **太字**", [c], notice="LLMが使えないため抽出回答"))
    assert copied.splitlines() == [
        "本文 <i>x</i> **太字**",
        "※ LLMが使えないため抽出回答",
        "",
        "出典：",
        "資料<b>A</b> p.3 https://qa.example/prefix/v1/documents/doc-a/pdf#page=3",
    ]


def test_an_answer_carries_its_copy_text_escaped_in_one_html_block():
    evil = "<script>alert(1)</script> & 〔x〕"
    a = answer(f"{evil}\n二行目 {marker(DECK_TITLE, 5)}", [cite(5)])
    html = fmt.format_answer(a)
    assert "\n" not in html and "<script>" not in html
    tags = Tags(html)
    assert ("button", {"type": "button", "class": "pqa-copy"}) in tags.tags
    hidden = html.split('<span class="pqa-copy-text">')[1].split("</span>")[0]
    assert hidden == fmt._esc(fmt.copy_text(a)).replace("\n", "&#10;")
    assert fmt.COPY_LABEL in "".join(tags.text)


def test_abstentions_and_errors_have_nothing_to_copy():
    assert "pqa-copy" not in fmt.format_answer(answer(ABSTAIN_JA, [], abstained=True))
    assert "pqa-copy" not in fmt.format_error("エラー")


# ---------------------------------------------------------------- abstentions and errors


@pytest.mark.parametrize("message", [ABSTAIN_JA, ABSTAIN_EN])
def test_abstention_shows_the_message_and_no_sources(message):
    html = fmt.format_answer(answer(message, [], abstained=True))
    tags = Tags(html)
    assert message in "".join(tags.text)
    assert fmt.ABSTAIN_HINT in "".join(tags.text)
    assert not tags.links()
    assert "根拠" not in html and "出典" not in html
    assert "pqa-abstained" in html


def test_abstention_never_shows_citations_even_if_some_came_along():
    html = fmt.format_answer(answer(ABSTAIN_JA, [cite(3)], abstained=True))
    assert "<a " not in html


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (UnknownDocuments(["gone"]), fmt.ERROR_UNKNOWN_DOCS),
        (StoreUnavailable("chroma at http://127.0.0.1:1 refused"), fmt.ERROR_STORE),
        (RuntimeError("Traceback (most recent call last): secret path /srv/x"), fmt.ERROR_GENERIC),
    ],
)
def test_errors_become_polite_japanese_without_details(exc, expected):
    text = fmt.error_text(exc)
    assert text == expected
    html = fmt.format_error(text)
    assert "Traceback" not in html and "127.0.0.1" not in html and "gone" not in html
    assert re.search(r"[ぁ-んァ-ン]", html)


def test_question_is_escaped():
    assert (
        fmt.format_question("<b>半導体</b>は？\n2行目")
        == '<div class="pqa-question">&lt;b&gt;半導体&lt;/b&gt;は？<br>2行目</div>'
    )


# ---------------------------------------------------------------- dates, titles, choices


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("2025-03-16", "2025年3月16日"),
        ("2025-05", "2025年5月"),
        ("2025", "2025年"),
        ("令和7年3月", "令和7年3月"),
        ("", ""),
        (None, ""),
    ],
)
def test_format_date(raw, shown):
    assert fmt.format_date(raw) == shown


def test_citation_label():
    assert fmt.citation_label(DECK_TITLE, 7) == f"{DECK_TITLE} p.7"


def test_document_choices_are_titles_mapped_to_ids():
    docs = {DECK: record(DECK, DECK_TITLE, "2025-03-16"), "memo": record("memo", "港湾物流メモ", "2025-04")}
    assert fmt.document_choices(docs) == sorted([(DECK_TITLE, DECK), ("港湾物流メモ", "memo")])


def test_document_choices_tell_repeated_titles_apart():
    docs = {
        "a": record("a", "白書", "2024"),
        "b": record("b", "白書", "2025"),
        "c": record("c", "白書", "2025"),
        "d": record("d", ""),
    }
    assert fmt.document_choices(docs) == sorted(
        [("白書（2024年）", "a"), ("白書（b）", "b"), ("白書（c）", "c"), ("d", "d")]
    )


def test_corpus_summary_names_every_document():
    docs = {DECK: record(DECK, DECK_TITLE, "2025-03-16"), "memo": record("memo", "港湾<物流>メモ")}
    line = fmt.corpus_summary(docs)
    assert "収録資料（2件）" in line
    assert f"『{DECK_TITLE}』（2025年3月16日）" in line
    assert "『港湾&lt;物流&gt;メモ』" in line
    assert "\n" not in line


def test_corpus_summary_without_documents_says_how_to_add_them():
    assert "policyqa ingest" in fmt.corpus_summary({})
