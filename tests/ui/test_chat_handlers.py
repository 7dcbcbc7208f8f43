"""The chat UI's handlers and mounting, without a browser: answers, errors, filter refresh, feedback."""

from __future__ import annotations

import json
import logging
import os
import re

import pytest

from core.errors import UnknownDocuments
from core.settings import Settings
from core.store import DocumentRecord
from rag.answer import ABSTAIN_JA, Answer, Citation, marker
from rag.links import citation_url
from ui import formatting as fmt
from ui.chat import FEEDBACK_NOT_ANSWER, FEEDBACK_SAVED, FEEDBACK_WITHDRAWN, TITLE, ChatHandlers, mount_ui

DECK = "econsec-public-private-action-2025-03-16"
DECK_TITLE = "経済安全保障に関する官民連携アクション"
TWELVE = [
    "半導体",
    "蓄電池",
    "クラウドプログラム",
    "永久磁石",
    "工作機械",
    "航空機部品",
    "重要鉱物",
    "可燃性天然ガス",
    "電子部品",
    "抗菌性物質製剤",
    "船舶部品",
    "肥料",
]


class FakeService:
    """Stands in for PolicyQA: fixed documents, canned answers, recorded calls."""

    def __init__(self, documents=None, fail: Exception | None = None):
        self.docs = (
            documents
            if documents is not None
            else {DECK: DocumentRecord(DECK, "g", DECK_TITLE, "2025-03-16")}
        )
        self.fail = fail
        self.calls: list[tuple[str, object]] = []
        self.histories: list[list] = []

    def documents(self):
        return dict(self.docs)

    def answer(self, question, *, top_k=None, documents=None, history=()):
        self.calls.append((question, documents))
        self.histories.append(list(history))
        if self.fail:
            raise self.fail
        if "診療報酬" in question:
            return Answer(
                question=question,
                answer=ABSTAIN_JA,
                abstained=True,
                mode="extractive",
                citations=[],
                sources=[],
                timings_ms={},
                confidence=0.1,
            )
        c = Citation(
            doc_id=DECK,
            doc_title=DECK_TITLE,
            doc_date="2025-03-16",
            page=19,
            quote="・半導体\n・肥料",
            score=0.8,
        )
        return Answer(
            question=question,
            answer=f"・半導体\n・肥料 {marker(DECK_TITLE, 19)}",
            abstained=False,
            mode="extractive",
            citations=[c],
            sources=[],
            timings_ms={},
            confidence=0.8,
        )


def text(message) -> str:
    return message.content if hasattr(message, "content") else message["content"]


def feedback_lines(settings) -> list[dict]:
    if not settings.feedback_path.exists():
        return []
    return [json.loads(line) for line in settings.feedback_path.read_text(encoding="utf-8").splitlines()]


# ---------------------------------------------------------------- answering


def test_respond_appends_question_and_formatted_answer(settings):
    service = FakeService()
    box, history, records = ChatHandlers(service, settings).respond(" 12の物資は？ ", [], [], {})
    assert box == ""
    assert len(history) == 2 and history[0].role == "user" and history[1].role != "user"
    assert text(history[0]) == fmt.format_question("12の物資は？")
    assert citation_url(DECK, 19) in text(history[1])
    assert service.calls == [("12の物資は？", None)]  # empty filter = all documents
    assert records[1]["question"] == "12の物資は？"
    assert records[1]["citations"][0]["url"] == citation_url(DECK, 19)
    assert records[1]["citations"][0]["page"] == 19


def test_respond_keeps_earlier_turns_and_passes_the_filter(settings):
    service = FakeService()
    handlers = ChatHandlers(service, settings)
    _, history, records = handlers.respond("一つ目", [], None, None)
    _, history, records = handlers.respond("二つ目", history, [DECK], records)
    assert len(history) == 4 and sorted(records) == [1, 3]
    assert service.calls[-1] == ("二つ目", [DECK])


def test_respond_shows_an_abstention_as_such(settings):
    _, history, records = ChatHandlers(FakeService(), settings).respond(
        "2026年度の診療報酬改定の改定率は？", [], [], {}
    )
    assert ABSTAIN_JA in text(history[-1])
    assert "<a " not in text(history[-1])
    assert records[1]["answer"] == ABSTAIN_JA and records[1]["citations"] == []


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (RuntimeError("boom: /secret/path"), fmt.ERROR_GENERIC),
        (UnknownDocuments(["gone-doc"]), fmt.ERROR_UNKNOWN_DOCS),
    ],
)
def test_respond_turns_failures_into_a_polite_message_and_logs_them(settings, caplog, exc, message):
    with caplog.at_level(logging.ERROR, logger="ui.chat"):
        _, history, records = ChatHandlers(FakeService(fail=exc), settings).respond("質問", [], [], {})
    content = text(history[-1])
    assert message in content
    assert "boom" not in content and "secret" not in content and "Traceback" not in content
    assert records == {}
    assert any(r.exc_info for r in caplog.records), "the failure is logged with its traceback"


def test_respond_ignores_blank_input(settings):
    service = FakeService()
    assert ChatHandlers(service, settings).respond("   ", [], [], {}) == ("", [], {})
    assert service.calls == []


def test_respond_refuses_overlong_questions_politely(settings):
    service = FakeService()
    _, history, records = ChatHandlers(service, settings).respond("あ" * 2001, [], [], {})
    assert "長すぎます" in text(history[-1]) and service.calls == [] and records == {}


# ---------------------------------------------------------------- documents filter


def test_refresh_lists_documents_added_since_the_page_was_built(settings):
    service = FakeService()
    handlers = ChatHandlers(service, settings)
    summary, choices, keep = handlers.refresh([])
    assert choices == [(DECK_TITLE, DECK)] and "収録資料（1件）" in summary
    service.docs["memo"] = DocumentRecord("memo", "g", "港湾物流メモ", "2025-04")
    summary, choices, keep = handlers.refresh([DECK, "deleted-doc"])
    assert ("港湾物流メモ", "memo") in choices and "『港湾物流メモ』（2025年4月）" in summary
    assert keep == [DECK]  # a selection that no longer exists is dropped


def test_refresh_survives_an_unreachable_index(settings, caplog):
    class Down(FakeService):
        def documents(self):
            raise ConnectionError("chroma down")

    with caplog.at_level(logging.ERROR, logger="ui.chat"):
        summary, choices, keep = ChatHandlers(Down(), settings).refresh(["x"])
    assert choices == [] and keep == [] and "policyqa ingest" in summary


# ---------------------------------------------------------------- feedback


def test_thumbs_up_and_down_append_jsonl_lines(settings):
    handlers = ChatHandlers(FakeService(), settings)
    _, _, records = handlers.respond("12の物資は？", [], [], {})
    assert handlers.feedback(records, 1, True) == FEEDBACK_SAVED["up"]
    assert handlers.feedback(records, [1], False) == FEEDBACK_SAVED["down"]
    lines = feedback_lines(settings)
    assert [line["vote"] for line in lines] == ["up", "down"]
    line = lines[0]
    assert set(line) >= {"question", "answer", "citations", "vote", "time"}
    assert line["question"] == "12の物資は？"
    assert line["answer"] == f"・半導体\n・肥料 {marker(DECK_TITLE, 19)}"  # the service's text, not the HTML
    citation = line["citations"][0]
    assert (citation["doc_id"], citation["doc_title"], citation["page"]) == (DECK, DECK_TITLE, 19)
    assert citation["url"] == citation_url(DECK, 19) and citation["quote"] == "・半導体\n・肥料"
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$", line["time"])


def test_withdrawn_votes_and_non_answers_are_not_recorded(settings):
    handlers = ChatHandlers(FakeService(), settings)
    _, _, records = handlers.respond("12の物資は？", [], [], {})
    assert handlers.feedback(records, 1, "") == FEEDBACK_WITHDRAWN
    assert handlers.feedback(records, 0, True) == FEEDBACK_NOT_ANSWER  # the question itself
    assert handlers.feedback({}, 1, True) == FEEDBACK_NOT_ANSWER  # e.g. an error message
    assert feedback_lines(settings) == []


# ---------------------------------------------------------------- mounting


def test_mount_ui_serves_a_japanese_offline_page(settings):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    app = FastAPI()
    mount_ui(app, FakeService(), settings)
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    with TestClient(app) as client:
        page = client.get("/ui/")
        assert page.status_code == 200
        config = client.get("/ui/config").json()
        theme_css = client.get("/ui/theme.css").text
    assert "googleapis" not in theme_css and "gstatic" not in theme_css
    assert "IPAexGothic" in theme_css
    assert config["analytics_enabled"] is False
    assert config["title"] == TITLE
    assert not config.get("share_url")
    texts = json.dumps(config, ensure_ascii=False)
    assert "特定重要物資として指定された12の物資は何ですか" in texts  # an example question
    assert DECK_TITLE in texts  # corpus line and filter choices


def test_the_chat_takes_no_file_uploads(settings, tmp_path):
    """Gradio's upload route would keep anything anyone posts in its temporary folder."""
    import tempfile
    from pathlib import Path

    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    app = FastAPI()
    mount_ui(app, FakeService(), settings)
    gradio_tmp = Path(os.environ.get("GRADIO_TEMP_DIR", Path(tempfile.gettempdir()) / "gradio"))
    before = sorted(gradio_tmp.rglob("*")) if gradio_tmp.exists() else []
    with TestClient(app) as client:
        for route in ("/ui/gradio_api/upload", "/ui/upload"):
            response = client.post(route, files={"files": ("big.bin", b"x" * 1_000_000)})
            assert response.status_code == 403, route
            assert response.json()["error"]["code"] == "uploads_disabled"
        assert client.get("/ui/").status_code == 200  # the chat itself is there
    after = sorted(gradio_tmp.rglob("*")) if gradio_tmp.exists() else []
    assert after == before


# ---------------------------------------------------------------- with the real service


@pytest.mark.slow
def test_real_service_answer_is_rendered_with_pdf_links(deck_service, deck_settings, tmp_path):
    from core.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", corpus_dir=deck_settings.corpus_dir)
    handlers = ChatHandlers(deck_service, settings)
    _, history, records = handlers.respond("特定重要物資として指定された12の物資は何ですか", [], [], {})
    content = text(history[-1])
    body = re.sub(r"\s+", "", re.search(r'<p class="pqa-body">(.*?)</p>', content).group(1))
    missing = [m for m in TWELVE if m not in body]
    assert not missing, f"answer lacks {missing}"
    assert citation_url(DECK, 19) in content or citation_url(DECK, 16) in content
    assert "根拠" in content and "2025年3月16日" in content
    _, history, _ = handlers.respond("2026年度の診療報酬改定の改定率は？", history, [], records)
    assert ABSTAIN_JA in text(history[-1]) and "<a " not in text(history[-1])


def test_a_follow_up_is_asked_with_the_conversation_on_screen_and_the_same_filter() -> None:
    service = FakeService()
    handlers = ChatHandlers(service, Settings())
    _, history, records = handlers.respond("特定重要物資は何？", [], [DECK], {})
    _, history, records = handlers.respond("そのうち経産省の所管は？", history, [DECK], records)
    assert [t.question for t in service.histories[1]] == ["特定重要物資は何？"]
    assert service.histories[1][0].answer == records[1]["answer"]
    assert service.calls[1] == ("そのうち経産省の所管は？", [DECK])  # the filter applies to follow-ups too
    _, history, records = handlers.respond("いつ？", [], [DECK], records)  # the chat was cleared
    assert service.histories[2] == []
