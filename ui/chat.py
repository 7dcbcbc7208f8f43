"""The staff chat UI: a Gradio Blocks app mounted at ``/ui`` inside the HTTP app.

``policyqa.api.create_app`` calls :func:`mount_ui`. The UI answers through the same
in-process :class:`~rag.answer.PolicyQA` service as the API; it has no retrieval or
answering logic of its own, only presentation (``ui.formatting``) and feedback
(``rag.feedback``).

Fully offline: importing this module sets ``GRADIO_ANALYTICS_ENABLED=False`` before
Gradio is imported (no usage reports, no version check), the theme uses only fonts
installed on the viewer's machine (no Google Fonts), nothing is shared, and the
page loads no asset from outside the app.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import gradio as gr

from core.settings import Settings
from rag.feedback import Feedback, record_feedback
from rag.followups import Turn
from ui.formatting import (
    COPY_LABEL,
    ERROR_EMPTY,
    citation_href,
    corpus_summary,
    document_choices,
    error_text,
    format_answer,
    format_error,
    format_question,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

    from rag.service import PolicyQA

log = logging.getLogger(__name__)

UI_PATH = "/ui"
TITLE = "経済安全保障 政策文書 Q&A"
MAX_QUESTION_CHARS = 2000
EXAMPLES = [
    "特定重要物資として指定された12の物資は何ですか",
    "経済安保推進法の4つの柱は？",
    "JASMの熊本進出による10年間の経済波及効果は？",
    "中国がガリウム・ゲルマニウムの輸出管理を始めたのはいつ？",
]
# Plain text: emoji need a colour-emoji font that staff machines may lack.
FEEDBACK_SAVED = {
    "up": "評価（役に立った）を記録しました。ありがとうございます。",
    "down": "評価（役に立たなかった）を記録しました。改善に役立てます。",
}
FEEDBACK_WITHDRAWN = "評価の取り消しは記録されません（記録済みの評価は残ります）。"
FEEDBACK_NOT_ANSWER = "この回答には評価を付けられません。"
FEEDBACK_FAILED = "申し訳ありません。評価を保存できませんでした。"
COPIED = "コピーしました"
COPY_FAILED = "コピーできませんでした"

# System fonts only: IPAex Gothic (Debian fonts-ipaexfont) or Noto Sans CJK JP, then the browser's.
FONTS = [
    "IPAexGothic",
    "IPAexゴシック",
    "Noto Sans CJK JP",
    "Hiragino Sans",
    "Yu Gothic",
    "Meiryo",
    "sans-serif",
]
MONO_FONTS = ["IPAexGothic", "Noto Sans Mono CJK JP", "ui-monospace", "monospace"]

CSS = """
.pqa-answer p { margin: 0 0 0.5em 0; }
.pqa-sources { font-size: 0.95em; }
.pqa-cite { white-space: nowrap; }
.pqa-evidence { margin-top: 0.4em; }
.pqa-evidence summary { cursor: pointer; font-weight: 600; }
.pqa-evidence ol { margin: 0.4em 0 0 1.2em; padding: 0; }
.pqa-ev-date { opacity: 0.8; }
.pqa-quote { margin: 0.2em 0 0.6em 0; padding-left: 0.8em; border-left: 3px solid var(--border-color-primary);
             font-size: 0.92em; }
.pqa-hint, .pqa-notice { opacity: 0.8; font-size: 0.92em; }
.pqa-corpus { margin: 0; }
.pqa-actions { margin: 0.4em 0 0 0; }
.pqa-copy { font-size: 0.9em; padding: 0.1em 0.6em; border: 1px solid var(--border-color-primary);
            border-radius: 4px; background: var(--background-fill-secondary); cursor: pointer; }
.pqa-copy-text { display: none; }
"""

# Mark the page as Japanese (Gradio's page says lang="en"): right glyphs, right screen-reader voice.
# And copy an answer with its citations (ui.formatting.copy_button): the citation URLs are made
# absolute against the page's address; where the Clipboard API is missing (plain http on a host
# other than localhost) the copy goes through a hidden text area.
PAGE_JS = (
    """() => {
  document.documentElement.lang = 'ja';
  const absolute = (text) => text.replace(/ (\\/\\S*)$/gm, (m, path) => ' ' + new URL(path, location.href).href);
  const fallback = (text) => {
    const area = document.createElement('textarea');
    area.value = text;
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    if (!ok) throw new Error('copy refused');
  };
  document.addEventListener('click', async (event) => {
    const button = event.target.closest && event.target.closest('.pqa-copy');
    if (!button) return;
    const text = absolute(button.parentElement.querySelector('.pqa-copy-text').textContent);
    try {
      if (navigator.clipboard && window.isSecureContext) await navigator.clipboard.writeText(text);
      else fallback(text);
      button.textContent = COPIED;
    } catch (error) {
      button.textContent = COPY_FAILED;
    }
    setTimeout(() => { button.textContent = COPY_LABEL; }, 2000);
  });
}""".replace("COPY_LABEL", json.dumps(COPY_LABEL))
    .replace("COPY_FAILED", json.dumps(COPY_FAILED))
    .replace("COPIED", json.dumps(COPIED))
)


def theme() -> gr.themes.Base:
    """The default look with system Japanese fonts instead of downloadable web fonts."""
    return gr.themes.Default(font=FONTS, font_mono=MONO_FONTS)


def reply(content: str) -> gr.ChatMessage:
    """A message from the service's side of the chat (ChatMessage's default role)."""
    return gr.ChatMessage(content=content)


class ChatHandlers:
    """The UI's event handlers, kept free of Gradio types so they can be called directly."""

    def __init__(self, service: PolicyQA, settings: Settings):
        self.service = service
        self.settings = settings

    def documents(self) -> Mapping[str, Any]:
        try:
            return self.service.documents()
        except Exception:
            log.exception("could not list the ingested documents")
            return {}

    def refresh(self, selected: Sequence[str] | None) -> tuple[str, list[tuple[str, str]], list[str]]:
        """Corpus line, filter choices and the still-valid selection, from the live index."""
        docs = self.documents()
        return corpus_summary(docs), document_choices(docs), [d for d in selected or [] if d in docs]

    def respond(
        self,
        question: str | None,
        history: list | None,
        documents: Sequence[str] | None,
        records: dict[int, dict] | None,
    ) -> tuple[str, list, dict[int, dict]]:
        """Answer one question: returns the cleared input box, the new history and the answer records.

        ``records`` maps the chat index of each answer to what feedback on it records."""
        history = list(history or [])
        records = dict(records or {})
        question = (question or "").strip()
        if not question:
            return "", history, records
        history.append(gr.ChatMessage(role="user", content=format_question(question)))
        if len(question) > MAX_QUESTION_CHARS:
            history.append(
                reply(
                    format_error(
                        f"質問が長すぎます（{MAX_QUESTION_CHARS}文字まで）。短くしてお試しください。"
                    )
                )
            )
            return "", history, records
        # The conversation so far: the answered turns still on screen (a cleared chat starts afresh).
        earlier = [Turn(r["question"], r["answer"]) for i, r in sorted(records.items()) if i < len(history)]
        try:
            result = self.service.answer(question, documents=list(documents or []) or None, history=earlier)
            content = format_answer(result)
        except Exception as exc:
            log.exception("the chat UI could not answer %r (documents=%s)", question[:200], documents)
            history.append(reply(format_error(error_text(exc))))
            return "", history, records
        records[len(history)] = {
            "question": question,
            "answer": result.answer,
            "citations": [{**c.model_dump(), "url": citation_href(c)} for c in result.citations],
        }
        history.append(reply(content))
        return "", history, records

    def feedback(self, records: dict[int, dict] | None, index: Any, liked: Any) -> str:
        """Record a thumbs up (liked=True) or down (liked=False) on the answer at chat ``index``."""
        if isinstance(index, (list, tuple)):
            index = index[0]
        vote = "up" if liked is True else "down" if liked is False else None
        if vote is None:
            return FEEDBACK_WITHDRAWN
        record = (records or {}).get(index)
        if record is None:
            return FEEDBACK_NOT_ANSWER
        try:
            record_feedback(
                self.settings,
                Feedback(
                    question=record["question"],
                    answer=record["answer"],
                    citations=record["citations"],
                    vote=vote,
                ),
            )
        except Exception:
            log.exception("could not record feedback")
            return FEEDBACK_FAILED
        return FEEDBACK_SAVED[vote]


def build_blocks(service: PolicyQA, settings: Settings) -> gr.Blocks:
    """The chat page. Handlers run in Gradio's worker threads and call the shared service."""
    handlers = ChatHandlers(service, settings)
    summary, choices, _ = handlers.refresh([])

    with gr.Blocks(title=TITLE, analytics_enabled=False) as blocks:
        gr.HTML(f"<h1 style='margin:0'>{TITLE}</h1>", elem_id="pqa-title")
        corpus = gr.HTML(summary, elem_id="pqa-corpus")
        docs = gr.Dropdown(
            choices=choices,
            value=[],
            multiselect=True,
            label="対象資料（未選択ならすべての資料）",
            elem_id="pqa-docs",
        )
        chat = gr.Chatbot(
            label="質問と回答",
            show_label=False,
            elem_id="pqa-chat",
            height="65vh",
            latex_delimiters=[],
            feedback_options=("Like", "Dislike"),
            buttons=[],  # the answer's own «回答と出典をコピー» copies it with its citations
            sanitize_html=True,
            placeholder="政策文書について質問してください。回答には出典ページへのリンクが付きます。",
        )
        with gr.Row():
            box = gr.Textbox(
                show_label=False,
                placeholder="質問を入力（例：特定重要物資として指定された12の物資は何ですか）",
                max_lines=4,
                scale=8,
                elem_id="pqa-question",
                max_length=MAX_QUESTION_CHARS,
            )
            send = gr.Button("送信", variant="primary", scale=1, elem_id="pqa-send")
        status = gr.Markdown("", elem_id="pqa-feedback-status")
        gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[box], label="質問の例", cache_examples=False)
        records = gr.State({})

        def on_load(selected):
            summary, choices, keep = handlers.refresh(selected)
            return summary, gr.Dropdown(choices=choices, value=keep)

        def on_submit(question, history, documents, records_):
            if not (question or "").strip():
                return question, history, records_, ERROR_EMPTY
            box_value, history, records_ = handlers.respond(question, history, documents, records_)
            return box_value, history, records_, ""

        def on_like(records_, data: gr.LikeData):
            return handlers.feedback(records_, data.index, data.liked)

        blocks.load(on_load, inputs=[docs], outputs=[corpus, docs], queue=False)
        for trigger in (box.submit, send.click):
            trigger(
                on_submit,
                inputs=[box, chat, docs, records],
                outputs=[box, chat, records, status],
                concurrency_limit=2,
                concurrency_id="answer",
            )
        chat.like(on_like, inputs=[records], outputs=[status], queue=False)
        chat.clear(lambda: ({}, ""), outputs=[records, status], queue=False)
    return blocks


def mount_ui(app: FastAPI, service: PolicyQA, settings: Settings) -> None:
    """Mount the chat UI at ``/ui`` on ``app`` (``/ui`` redirects to ``/ui/``).

    The chat takes no files, so Gradio's upload routes, which would store anything anyone sends
    in a temporary folder, answer 403 before Gradio sees the request."""
    from fastapi.responses import JSONResponse

    def no_uploads() -> JSONResponse:
        return JSONResponse(
            {"error": {"code": "uploads_disabled", "message": "the chat takes no file uploads"}},
            status_code=403,
        )

    for route in ("/gradio_api/upload", "/upload"):
        app.add_api_route(f"{UI_PATH}{route}", no_uploads, methods=["POST", "PUT"], include_in_schema=False)
    gr.mount_gradio_app(
        app,
        build_blocks(service, settings),
        path=UI_PATH,
        theme=theme(),
        css=CSS,
        footer_links=[],
        run_history=False,
        show_error=False,
        mcp_server=False,
        ssr_mode=False,
        pwa=False,
        js=PAGE_JS,
    )
