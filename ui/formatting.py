"""Pure functions that turn service results into what the chat UI shows.

Chat messages are Markdown, but every answer is rendered as one raw HTML block (a
``<div>`` with no blank line inside), so that text quoted from PDFs is never read as
Markdown syntax: it is HTML-escaped and nothing else. The Chatbot's sanitizer keeps
the tags used here (``a``, ``details``, ``summary``, ``blockquote``, ``ol``, ``li``,
``p``, ``br``, ``span``, ``div``, ``button``).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from core.errors import Kind, PolicyQAError
from rag.answer import Answer, Citation, marker
from rag.links import citation_url, viewer_url

ABSTAIN_HINT = "質問の言い回しを変えるか、対象資料の選択を見直してください。"
ERROR_GENERIC = (
    "申し訳ありません。回答の作成中に問題が発生しました。しばらくしてから、もう一度お試しください。"
)
ERROR_UNKNOWN_DOCS = (
    "選択された資料の一部が見つかりません（削除された可能性があります）。"
    "ページを再読み込みして、対象資料を選び直してください。"
)
ERROR_STORE = "文書の索引に接続できませんでした。しばらくしてから、もう一度お試しください。"
ERROR_EMPTY = "質問を入力してください。"
COPY_LABEL = "回答と出典をコピー"
NO_DOCUMENTS = (
    "まだ資料が登録されていません。管理者に資料の取り込み（<code>policyqa ingest</code>）を依頼してください。"
)

_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _lines_html(text: str) -> str:
    """Escaped text with its non-empty lines joined by ``<br>``; the result has no newline."""
    return "<br>".join(_esc(line.strip()) for line in text.splitlines() if line.strip())


def format_date(date: str | None) -> str:
    """``2025-03-16`` → ``2025年3月16日``, ``2025-05`` → ``2025年5月``, ``2025`` → ``2025年``; else unchanged."""
    if not date:
        return ""
    m = _DATE.match(date.strip())
    if not m:
        return date.strip()
    year, month, day = m.groups()
    out = f"{int(year)}年"
    if month:
        out += f"{int(month)}月"
        if day:
            out += f"{int(day)}日"
    return out


def citation_label(title: str, page: int) -> str:
    """How a citation reads in the UI: ``資料名 p.N``."""
    return f"{title} p.{page}"


def citation_href(citation: Citation) -> str:
    """The citation's own link when the service set one, else the shared PDF page link."""
    return citation.url or citation_url(citation.doc_id, citation.page)


def viewer_href(citation: Citation) -> str:
    """The in-app viewer at the cited page with the quote marked (under the same root as ``url``)."""
    base = citation.url.split("/v1/documents/")[0] if citation.url else ""
    return viewer_url(citation.doc_id, citation.page, citation.quote, base=base)


def citation_link(citation: Citation) -> str:
    """``<a>`` that opens the cited page in the viewer, in a new tab."""
    return (
        f'<a class="pqa-cite" href="{_esc(viewer_href(citation))}" target="_blank" '
        f'rel="noopener noreferrer">{_esc(citation_label(citation.doc_title, citation.page))}</a>'
    )


def pdf_link(citation: Citation) -> str:
    """``<a>`` that opens the PDF itself at the cited page, for readers who prefer their own viewer."""
    return (
        f'<a class="pqa-pdf" href="{_esc(citation_href(citation))}" target="_blank" '
        f'rel="noopener noreferrer">PDF</a>'
    )


def unique_citations(citations: Iterable[Citation]) -> list[Citation]:
    """One citation per (document, page), first occurrence first."""
    seen: set[tuple[str, int]] = set()
    out: list[Citation] = []
    for c in citations:
        if (c.doc_id, c.page) not in seen:
            seen.add((c.doc_id, c.page))
            out.append(c)
    return out


def answer_body(answer: Answer) -> str:
    """The answer text, escaped, with each inline citation marker turned into a link."""
    body = _lines_html(answer.answer)
    for c in unique_citations(answer.citations):
        body = body.replace(_esc(marker(c.doc_title, c.page)), f"〔{citation_link(c)}〕")
    return body


def evidence_panel(citations: Sequence[Citation]) -> str:
    """A collapsed ``根拠`` panel: each quoted passage with document title, date and page."""
    if not citations:
        return ""
    items = []
    for c in citations:
        date = format_date(c.doc_date)
        head = citation_link(c)  # reads «title p.N»
        if date:
            head += f'<span class="pqa-ev-date">（{_esc(date)}）</span>'
        head += f" {pdf_link(c)}"
        items.append(
            f'<li><div class="pqa-ev-head">{head}</div>'
            f'<blockquote class="pqa-quote">{_lines_html(c.quote)}</blockquote></li>'
        )
    return (
        f'<details class="pqa-evidence"><summary>根拠（{len(citations)}件）</summary>'
        f"<ol>{''.join(items)}</ol></details>"
    )


def sources_line(citations: Sequence[Citation]) -> str:
    """``出典：`` followed by one link per cited page."""
    links = "、".join(citation_link(c) for c in unique_citations(citations))
    return f'<p class="pqa-sources">出典：{links}</p>' if links else ""


def format_abstention(answer: Answer) -> str:
    """The abstain message as the service worded it, a hint, and no sources."""
    return (
        f'<div class="pqa-answer pqa-abstained"><p class="pqa-body">{_lines_html(answer.answer)}</p>'
        f'<p class="pqa-hint">{_esc(ABSTAIN_HINT)}</p></div>'
    )


def copy_text(answer: Answer) -> str:
    """What «回答と出典をコピー» puts on the clipboard: the answer as plain text (with its 〔資料名 p.N〕
    markers), then one line 「資料名 p.N URL」 per cited page, the URL opening the PDF at that page.

    URLs are as the service gives them (root-relative unless a base was set); the page makes them
    absolute against its own address when it copies."""
    lines = [line.strip() for line in answer.answer.splitlines() if line.strip()]
    if answer.notice:
        lines.append(f"※ {answer.notice}")
    cited = unique_citations(answer.citations)
    if cited:
        lines += ["", "出典："]
        lines += [f"{citation_label(c.doc_title, c.page)} {citation_href(c)}" for c in cited]
    return "\n".join(lines)


def copy_button(answer: Answer) -> str:
    """A «回答と出典をコピー» button with :func:`copy_text` beside it in a hidden span, which the page's
    script copies (the sanitizer drops ``data-`` attributes; line breaks are written as ``&#10;``
    so the message stays one HTML block)."""
    text = _esc(copy_text(answer)).replace("\n", "&#10;")
    return (
        f'<p class="pqa-actions"><button type="button" class="pqa-copy">{_esc(COPY_LABEL)}</button>'
        f'<span class="pqa-copy-text">{text}</span></p>'
    )


def format_answer(answer: Answer) -> str:
    """The chat message for one service answer (an abstention, or text + sources + 根拠)."""
    if answer.abstained:
        return format_abstention(answer)
    parts = [f'<div class="pqa-answer"><p class="pqa-body">{answer_body(answer)}</p>']
    if answer.notice:
        parts.append(f'<p class="pqa-notice">※ {_esc(answer.notice)}</p>')
    parts.append(sources_line(answer.citations))
    parts.append(evidence_panel(answer.citations))
    parts.append(copy_button(answer))
    parts.append("</div>")
    return "".join(parts)


def error_text(exc: BaseException) -> str:
    """A polite Japanese message for a failure; never the exception's own text."""
    if isinstance(exc, PolicyQAError):
        if exc.kind is Kind.NOT_FOUND:
            return ERROR_UNKNOWN_DOCS
        if exc.kind is Kind.UNAVAILABLE:
            return ERROR_STORE
    return ERROR_GENERIC


def format_error(message: str) -> str:
    return f'<div class="pqa-answer pqa-error"><p class="pqa-body">{_esc(message)}</p></div>'


def format_question(question: str) -> str:
    """The user's message as shown in the chat: escaped, and one HTML block, so neither typed HTML
    nor typed Markdown (``![i](http://…)`` would make the browser fetch an image) is rendered."""
    return f'<div class="pqa-question">{_lines_html(question)}</div>'


def _title(record: Any) -> str:
    return getattr(record, "title", None) or getattr(record, "doc_id", "")


def document_choices(documents: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, doc_id) pairs for the document filter, sorted by label.

    The label is the title; titles shared by several documents get the date, and the
    doc id when the date does not tell them apart either."""
    titles = {doc_id: _title(rec) or doc_id for doc_id, rec in documents.items()}
    dated = {
        doc_id: f"{titles[doc_id]}（{format_date(getattr(rec, 'date', '')) or doc_id}）"
        for doc_id, rec in documents.items()
    }
    title_count = Counter(titles.values())
    dated_count = Counter(dated.values())
    choices = []
    for doc_id in documents:
        if title_count[titles[doc_id]] == 1:
            label = titles[doc_id]
        elif dated_count[dated[doc_id]] == 1:
            label = dated[doc_id]
        else:
            label = f"{titles[doc_id]}（{doc_id}）"
        choices.append((label, doc_id))
    return sorted(choices)


def corpus_summary(documents: Mapping[str, Any]) -> str:
    """One line (HTML) naming the ingested documents and their dates."""
    if not documents:
        return f'<p class="pqa-corpus">{NO_DOCUMENTS}</p>'
    names = []
    for _label, doc_id in document_choices(documents):
        name = f"『{_esc(_title(documents[doc_id]) or doc_id)}』"
        date = format_date(getattr(documents[doc_id], "date", ""))
        if date:
            name += f"（{_esc(date)}）"
        names.append(name)
    return f'<p class="pqa-corpus">収録資料（{len(names)}件）：{"、".join(names)}</p>'
