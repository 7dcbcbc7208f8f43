"""The chat UI in headless Chromium against the real app (`policyqa serve` in a subprocess).

The server runs over a copy of the session's ingested deck plus a second small document
(ingested with `policyqa ingest`), so the document filter has something to choose. Every
page load is watched: a request to any host other than loopback is blocked and fails the
test. Screenshots of each step are saved under test-artifacts/ui/.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import pytest
from serving import wait_until_serving

from evals.load import free_port, serve_env
from ui.chat import COPIED, FEEDBACK_SAVED

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Not imported from conftest: the tests tree may or may not be a package.
REPO = Path(__file__).resolve().parents[2]
DECK_ID = "econsec-public-private-action-2025-03-16"

ARTIFACTS = REPO / "test-artifacts" / "ui"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}

DECK_TITLE = "経済安全保障に関する官民連携アクション"
MEMO_ID = "port-logistics-memo-2025"
MEMO_TITLE = "港湾物流の強靱化に関する検討メモ"
MEMO_PAGES = [
    (
        f"{MEMO_TITLE}\n\n本メモは、災害に備えた港湾物流の強靱化策をまとめたものである。\n\n"
        "緊急物資の保管は、複数の港湾に分散して設ける備蓄倉庫で行う。備蓄倉庫の点検は年二回とする。"
    ),
    (
        "荷役機械の電動化率を2030年までに50%へ引き上げることを目標とする。\n\n"
        "大規模災害で港湾が使えない場合は、代替港湾への転送計画を発動する。"
    ),
]
MEMO_MANIFEST = f"""
[[document]]
doc_id = "{MEMO_ID}"
title = "{MEMO_TITLE}"
publisher = "テスト用資料"
date = "2025-04-01"
language = "ja"
"""

MATERIALS_Q = "特定重要物資として指定された12の物資は何ですか"
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
OUT_OF_CORPUS_Q = "2026年度の診療報酬改定の改定率は？"
ABSTAIN = "資料中に該当する記述が見つかりませんでした"
MEMO_Q = "緊急物資の備蓄倉庫はどのように設けますか"


@dataclass
class Server:
    base: str
    data_dir: Path
    proc: subprocess.Popen
    log: Path

    @property
    def feedback_path(self) -> Path:
        return self.data_dir / "feedback.jsonl"


@pytest.fixture(scope="module")
def server(deck_settings, make_pdf, tmp_path_factory) -> Iterator[Server]:
    """`policyqa serve` over a copy of the deck's index plus a small second document."""
    base = tmp_path_factory.mktemp("ui-server")
    data, corpus = base / "data", base / "corpus"
    shutil.copytree(deck_settings.data_dir, data)
    shutil.copytree(deck_settings.corpus_dir, corpus)
    with open(corpus / "manifest.toml", "a", encoding="utf-8") as fh:
        fh.write(MEMO_MANIFEST)
    make_pdf(corpus / f"{MEMO_ID}.pdf", MEMO_PAGES, title=MEMO_TITLE)
    env = serve_env(data, corpus)
    exe = Path(sys.executable).with_name("policyqa")
    # cwd=base: no stray .env from the working directory can change the settings
    ingest = subprocess.run(
        [str(exe), "ingest", "--json"],
        env=env,
        cwd=base,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ingest.returncode == 0, ingest.stderr[-3000:]
    statuses = {f["doc_id"]: f["status"] for f in json.loads(ingest.stdout)["files"]}
    assert statuses == {DECK_ID: "unchanged", MEMO_ID: "added"}, statuses

    port = free_port()
    log = base / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=base,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(proc, f"{url}/ui/", log)
        yield Server(url, data, proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Watch:
    """Every URL the page asked for; the ones to non-loopback hosts were blocked."""

    requested: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def external_hosts(self) -> set[str]:
        return {urlparse(u).hostname or u for u in self.blocked}


@pytest.fixture
def ui(browser, server):
    """A fresh Japanese-locale browser tab that blocks and records requests to non-loopback hosts."""
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 2000})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base)
    watch = Watch()

    def route(r):
        url = r.request.url
        watch.requested.append(url)
        if urlparse(url).scheme in ("http", "https", "ws", "wss") and urlparse(url).hostname not in LOOPBACK:
            watch.blocked.append(url)
            r.abort()
        else:
            r.continue_()

    context.route("**/*", route)

    def websocket(ws):  # routes do not see WebSockets; Gradio should not open any, but count them
        watch.requested.append(ws.url)
        if urlparse(ws.url).hostname not in LOOPBACK:
            watch.blocked.append(ws.url)

    pg = context.new_page()
    pg.on("websocket", websocket)
    try:
        yield pg
        assert watch.requested, "the request listener saw nothing"
        assert not watch.blocked, f"the page tried to reach outside hosts: {sorted(watch.external_hosts())}"
    finally:
        context.close()


def open_ui(page, server: Server) -> None:
    page.goto(f"{server.base}/ui")  # redirects to /ui/
    page.wait_for_selector("#pqa-question textarea", timeout=60_000)
    # the page-load event refreshes the corpus line and the filter from the live index
    page.wait_for_function(
        "t => document.querySelector('#pqa-corpus').innerText.includes(t)", arg=MEMO_TITLE, timeout=30_000
    )


def ask(page, question: str):
    """Type a question, send it, and return the locator of the new answer message."""
    answers = page.locator("#pqa-chat .pqa-answer")
    before = answers.count()
    page.fill("#pqa-question textarea", question)
    page.click("#pqa-send")
    page.wait_for_function(
        "n => document.querySelectorAll('#pqa-chat .pqa-answer').length > n", arg=before, timeout=60_000
    )
    return answers.nth(before)


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def cited(answer) -> list[tuple[str, str, str | None]]:
    """(label, PDF page, target) of every citation link in one answer message. A citation opens the
    viewer; its PDF page is given as the plain link ``/v1/documents/{doc}/pdf#page=N``."""
    links = answer.locator("a.pqa-cite").evaluate_all(
        "els => els.map(e => [e.textContent, e.getAttribute('href'), e.getAttribute('target')])"
    )
    return [(label, _viewed_page(href), target) for label, href, target in links]


def _viewed_page(href: str) -> str:
    url = urlparse(href)
    assert url.path == "/viewer/", href
    query = parse_qs(url.query)
    assert query.get("quote"), href  # the viewer is told what to mark
    return f"/v1/documents/{quote(query['doc'][0], safe='')}/pdf#page={query['page'][0]}"


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


# ---------------------------------------------------------------- tests


def test_page_is_japanese_lists_documents_and_loads_nothing_from_outside(ui, server):
    page = ui
    open_ui(page, server)
    assert page.locator("#pqa-title").inner_text().strip() == "経済安全保障 政策文書 Q&A"
    assert page.title() == "経済安全保障 政策文書 Q&A"
    corpus = page.locator("#pqa-corpus").inner_text()
    assert "収録資料（2件）" in corpus and DECK_TITLE in corpus and "2025年3月16日" in corpus
    assert MATERIALS_Q in page.locator("body").inner_text()  # among the example questions
    page.click("#pqa-docs input")
    options = page.locator("#pqa-docs [data-testid='dropdown-option']").all_inner_texts()
    assert {o.replace("✓", "").strip() for o in options} == {DECK_TITLE, MEMO_TITLE}
    page.keyboard.press("Escape")
    font = page.evaluate("getComputedStyle(document.querySelector('#pqa-corpus')).fontFamily")
    assert font.startswith("IPAexGothic"), font
    assert page.evaluate("document.documentElement.lang") == "ja"
    page.wait_for_timeout(500)  # let late requests (fonts, icons) show up in the listener
    shot(page, "01-start.png")


def test_twelve_materials_answer_with_working_pdf_links(ui, server):
    page = ui
    open_ui(page, server)
    answer = ask(page, MATERIALS_Q)
    body = compact(answer.locator(".pqa-body").inner_text())
    missing = [m for m in TWELVE if m not in body]
    links = cited(answer)
    pages = {href for _, href, _ in links}
    assert pages & {f"/v1/documents/{DECK_ID}/pdf#page=19", f"/v1/documents/{DECK_ID}/pdf#page=16"}, links
    assert all(target == "_blank" for _, _, target in links)
    assert all(re.fullmatch(rf"{DECK_TITLE} p\.\d+", label) for label, _, _ in links), links

    # the 根拠 panel: collapsed, then each quoted passage with title, date and page
    evidence = answer.locator("details.pqa-evidence")
    assert evidence.get_attribute("open") is None
    evidence.locator("summary").click()
    items = evidence.locator("li")
    assert items.count() >= 1
    for i in range(items.count()):
        text = items.nth(i).inner_text()
        assert DECK_TITLE in text and "2025年3月16日" in text and re.search(r"p\.\d+", text), text
        assert items.nth(i).locator("blockquote").inner_text().strip()
    answer.scroll_into_view_if_needed()
    shot(page, "02-twelve-materials.png")

    # the 根拠 panel's plain PDF links serve the PDF at the cited pages
    pdf_links = set(evidence.locator("a.pqa-pdf").evaluate_all("els => els.map(e => e.getAttribute('href'))"))
    assert pdf_links and pdf_links <= pages, (pdf_links, pages)
    href = next(h for h in pdf_links if h.endswith(("#page=19", "#page=16")))
    response = page.request.get(server.base + href.split("#")[0])
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.body()[:5] == b"%PDF-"
    assert not missing, f"the rendered answer lacks {missing} (answer text: {body[:400]})"


def test_out_of_corpus_question_shows_the_abstention(ui, server):
    page = ui
    open_ui(page, server)
    answer = ask(page, OUT_OF_CORPUS_Q)
    assert ABSTAIN in answer.inner_text()
    assert "pqa-abstained" in answer.get_attribute("class")
    assert answer.locator("a").count() == 0 and answer.locator("details").count() == 0
    shot(page, "03-abstention.png")


def choose_document(page, title: str) -> None:
    page.click("#pqa-docs input")
    page.locator(f"#pqa-docs [data-testid='dropdown-option'][aria-label='{title}']").click()
    page.keyboard.press("Escape")
    assert title in page.locator("#pqa-docs").inner_text()


def test_document_filter_limits_answers_to_the_chosen_document(ui, server):
    page = ui
    open_ui(page, server)
    # without a filter the deck answers this
    unfiltered = ask(page, MATERIALS_Q)
    assert any(f"/v1/documents/{DECK_ID}/" in href for _, href, _ in cited(unfiltered))

    choose_document(page, MEMO_TITLE)

    for question in (MEMO_Q, MATERIALS_Q):
        answer = ask(page, question)
        links = cited(answer)
        hrefs = {href for _, href, _ in links}
        assert all(h.startswith(f"/v1/documents/{MEMO_ID}/pdf#page=") for h in hrefs), (question, hrefs)
        assert DECK_TITLE not in answer.inner_text()
        if question == MEMO_Q:
            assert f"/v1/documents/{MEMO_ID}/pdf#page=1" in hrefs, links
            assert "備蓄倉庫" in answer.locator(".pqa-body").inner_text()
    shot(page, "04-document-filter.png")


def feedback_lines(server: Server) -> list[str]:
    return (
        server.feedback_path.read_text(encoding="utf-8").splitlines() if server.feedback_path.exists() else []
    )


def vote(page, server: Server, button, before: int, confirmation: str) -> dict:
    """Click a thumb, wait for the confirmation and the new JSONL line; return that line."""
    button.click()
    page.wait_for_function(
        "t => document.querySelector('#pqa-feedback-status').innerText.includes(t)",
        arg=confirmation,
        timeout=15_000,
    )
    deadline = time.monotonic() + 10
    while len(feedback_lines(server)) <= before and time.monotonic() < deadline:
        time.sleep(0.1)
    new = [json.loads(line) for line in feedback_lines(server)[before:]]
    assert len(new) == 1, new
    assert {"question", "answer", "citations", "vote", "time"} <= set(new[0])
    return new[0]


def test_thumbs_up_and_down_append_feedback_lines_for_the_right_answer(ui, server):
    page = ui
    open_ui(page, server)
    first = ask(page, MATERIALS_Q)
    first_text = first.locator(".pqa-body").inner_text()
    ask(page, OUT_OF_CORPUS_Q)
    likes = page.locator("#pqa-chat button[aria-label='いいね'], #pqa-chat button[aria-label='Like']")
    dislikes = page.locator(
        "#pqa-chat button[aria-label='よくないね'], #pqa-chat button[aria-label='Dislike']"
    )
    assert likes.count() == dislikes.count() == 2  # one pair per answer, none on questions

    before = len(feedback_lines(server))
    up = vote(page, server, likes.first, before, FEEDBACK_SAVED["up"])  # 👍 on the first answer
    assert up["question"] == MATERIALS_Q and up["vote"] == "up"
    assert compact(up["answer"]).startswith(compact(first_text)[:20])
    assert up["citations"] and all(
        c["url"].startswith(f"/v1/documents/{DECK_ID}/pdf#page=") for c in up["citations"]
    )

    down = vote(page, server, dislikes.last, before + 1, FEEDBACK_SAVED["down"])  # 👎 on the abstention
    assert down["question"] == OUT_OF_CORPUS_Q and down["vote"] == "down"
    assert ABSTAIN in down["answer"] and down["citations"] == []
    shot(page, "05-feedback.png")


def test_enter_while_the_ime_is_composing_does_not_send(ui, server):
    """Japanese input: the Enter that confirms a kanji conversion must not send the half-typed
    question (Gradio's text box ignores it; this keeps it so)."""
    page = ui
    open_ui(page, server)
    answers = page.locator("#pqa-chat .pqa-answer")
    page.fill("#pqa-question textarea", "特定重要物資")
    page.eval_on_selector(
        "#pqa-question textarea",
        """el => el.dispatchEvent(new KeyboardEvent('keydown',
               {key: 'Enter', code: 'Enter', keyCode: 229, isComposing: true, bubbles: true, cancelable: true}))""",
    )
    page.wait_for_timeout(1500)
    assert answers.count() == 0, "an Enter that confirms a conversion sent the question"
    assert page.input_value("#pqa-question textarea") == "特定重要物資"
    page.press("#pqa-question textarea", "Enter")  # a plain Enter sends
    page.wait_for_function(
        "() => document.querySelectorAll('#pqa-chat .pqa-answer').length > 0", timeout=60_000
    )


def test_a_follow_up_in_the_chat_says_what_it_was_taken_to_be_about(ui, server):
    page = ui
    open_ui(page, server)
    ask(page, "特定重要物資は何？")
    follow_up = ask(page, "いつ指定された？")
    assert follow_up.inner_text().strip().startswith("（特定重要物資について）")
    shot(page, "06-follow-up.png")


def test_the_document_filter_keeps_applying_to_follow_ups(ui, server):
    """Follow-ups are asked with the conversation's topic; the filter chosen before them must still
    hold, also for a follow-up («半導体の予算は？») that the deck would answer without it."""
    page = ui
    open_ui(page, server)
    choose_document(page, MEMO_TITLE)
    ask(page, MEMO_Q)
    for follow_up, fact in (("点検はどのくらいの頻度？", "年二回"), ("半導体の予算は？", None)):
        answer = ask(page, follow_up)
        text = answer.inner_text()
        assert text.strip().startswith("（"), (follow_up, text[:200])  # read as a follow-up
        hrefs = {href for _, href, _ in cited(answer)}
        assert all(h.startswith(f"/v1/documents/{MEMO_ID}/pdf#page=") for h in hrefs), (follow_up, hrefs)
        assert DECK_TITLE not in text
        if fact is not None:
            assert fact in compact(answer.locator(".pqa-body").inner_text()), (follow_up, text[:300])
    shot(page, "13-filter-follow-ups.png")


LEAD_MARK = re.compile(r"^\s*[・\-－–—]\s*")  # the bullets the ingest writes in front of list lines


def matching(text: str) -> str:
    """Text as the viewer compares it: NFKC (full/half width folded), no white space or line breaks."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def quote_matching(quote: str) -> str:
    """A citation's quote in matching form, without the bullets and `` | `` cell marks the ingest
    wrote into it (the page shows its own bullets, or none)."""
    cells = (cell for line in quote.split("\n") for cell in line.split(" | "))
    return "".join(matching(LEAD_MARK.sub("", cell)) for cell in cells)


def wait_for_viewer(viewer) -> None:
    """The page is drawn, its text layer laid over it and the quote marked (or not)."""
    viewer.wait_for_function(
        "() => document.body.dataset.rendered || document.querySelector('#pqa-status').dataset.kind === 'error'",
        timeout=60_000,
    )
    assert viewer.locator("#pqa-status").get_attribute("data-kind") != "error", viewer.locator(
        "#pqa-status"
    ).inner_text()


def highlighted(viewer) -> str:
    """The text of the marked text-layer spans, in the quote's order (line by line)."""
    return viewer.evaluate(
        """() => Array.from(document.querySelectorAll('#pqa-text .pqa-hit'))
                 .map((e) => [Number(e.dataset.piece), e.textContent])
                 .sort((a, b) => a[0] - b[0]).map((x) => x[1]).join('')"""
    )


def assert_page_drawn(viewer, page: int) -> None:
    assert viewer.locator("#pqa-pageno").inner_text().startswith(f"{page} /")
    assert viewer.evaluate("document.querySelector('#pqa-page').width") > 100
    assert viewer.locator("#pqa-text > span, #pqa-text .markedContent > span").count() > 10  # the text layer
    assert viewer.locator("#pqa-pdf").get_attribute("href").endswith(f"/pdf#page={page}")


def open_viewer(page, server: Server, page_no: int, quote_text: str) -> None:
    page.goto(f"{server.base}/viewer/?doc={DECK_ID}&page={page_no}&quote={quote(quote_text)}")
    wait_for_viewer(page)


def test_copy_answer_puts_the_answer_and_its_cited_pages_on_the_clipboard(ui, server):
    page = ui
    open_ui(page, server)
    answer = ask(page, MATERIALS_Q)
    shown = answer.locator(".pqa-body").inner_text()
    button = answer.locator("button.pqa-copy")
    assert button.inner_text() == "回答と出典をコピー"
    button.click()
    page.wait_for_function("t => document.querySelector('#pqa-chat .pqa-copy').innerText === t", arg=COPIED)
    copied = page.evaluate("navigator.clipboard.readText()")
    text, sources = copied.split("\n\n出典：\n")
    assert compact(text) == compact(shown)  # the answer as shown, as plain text with 〔資料名 p.N〕
    assert all(m in text for m in TWELVE)
    expected = list(dict.fromkeys(f"{label} {server.base}{href}" for label, href, _ in cited(answer)))
    assert sources.splitlines() == expected
    pdf = page.request.get(sources.splitlines()[0].rsplit(" ", 1)[1].split("#")[0])
    assert pdf.status == 200 and pdf.body()[:5] == b"%PDF-"
    shot(page, "10-copied.png")


def test_clearing_the_conversation_empties_it_and_the_next_question_has_no_history(ui, server):
    page = ui
    open_ui(page, server)
    ask(page, "特定重要物資は何？")
    follow_up = ask(page, "いつ指定された？")
    assert follow_up.inner_text().strip().startswith("（特定重要物資について）")
    page.locator("#pqa-chat button[aria-label='会話をクリア'], #pqa-chat button[aria-label='Clear']").click()
    page.wait_for_function(
        "() => !document.querySelector('#pqa-chat .pqa-answer, #pqa-chat .pqa-question')", timeout=15_000
    )
    again = ask(page, "いつ指定された？")
    assert page.locator("#pqa-chat .pqa-answer").count() == 1
    assert page.locator("#pqa-chat .pqa-question").count() == 1
    assert not again.inner_text().strip().startswith("（特定重要物資について）")  # asked alone
    shot(page, "11-cleared.png")


METI_NINE = [
    "半導体",
    "蓄電池",
    "クラウド",
    "永久磁石",
    "工作機械",
    "航空機部品",
    "重要鉱物",
    "天然ガス",
    "先端電子部品",
]
DATE = re.compile(r"(?:\d{4}|令和\d+|平成\d+)年\d{1,2}月")


def deck_pages(answer) -> set[int]:
    return {int(h.rsplit("=", 1)[1]) for _, h, _ in cited(answer) if f"/{DECK_ID}/" in h}


def test_a_three_turn_conversation_gets_right_cited_answers_on_every_turn(ui, server):
    """The conversation of the acceptance criteria, on the bundled deck. Every turn is checked and
    every wrong one reported, so the failure says which turns are wrong and what they answered."""
    page = ui
    open_ui(page, server)
    problems: list[str] = []

    def check(turn: str, ok: bool, what: str, answer) -> None:
        if not ok:
            body = answer.locator(".pqa-body").inner_text()
            problems.append(
                f"{turn}: {what}; cited pages {sorted(deck_pages(answer))}; answer: {body[:300]!r}"
            )

    first = ask(page, "特定重要物資は何？")
    body = compact(first.locator(".pqa-body").inner_text())
    check("turn 1", bool(deck_pages(first)), "no citation", first)
    check("turn 1", bool(deck_pages(first) & {16, 19}), "does not cite the list (p.19 or p.16)", first)
    missing = [m for m in TWELVE if m not in body]
    check("turn 1", not missing, f"does not list {missing}", first)

    second = ask(page, "そのうち経産省の所管は？")
    body = compact(second.locator(".pqa-body").inner_text())
    check("turn 2", 16 in deck_pages(second), "does not cite p.16 (the materials under METI)", second)
    check("turn 2", "経産省" in body, "does not speak of 経産省", second)
    missing = [m for m in METI_NINE if m not in body]
    check("turn 2", not missing, f"does not list METI's {missing}", second)

    third = ask(page, "いつ指定された？")
    lines = [compact(line) for line in third.locator(".pqa-body").inner_text().splitlines()]
    check("turn 3", bool(deck_pages(third)), "no citation", third)
    dated = [line for line in lines if "指定" in line and "特定重要物資" in line and DATE.search(line)]
    check("turn 3", bool(dated), "gives no date on which critical materials were designated", third)
    shot(page, "12-three-turns.png")
    assert not problems, "\n".join(problems)


def test_a_citation_opens_the_viewer_at_its_page_with_the_quote_marked(ui, server):
    page = ui
    open_ui(page, server)
    answer = ask(page, MATERIALS_Q)
    link = answer.locator("a.pqa-cite").first
    href = link.get_attribute("href")
    assert href.startswith("/viewer/?")
    cited_quote = parse_qs(urlparse(href).query)["quote"][0]
    cited_page = int(parse_qs(urlparse(href).query)["page"][0])
    with page.context.expect_page() as opened:
        link.click()
    viewer = opened.value
    wait_for_viewer(viewer)
    assert_page_drawn(viewer, cited_page)
    assert viewer.locator("#pqa-status").get_attribute("data-kind") == "marked"
    assert viewer.locator(".pqa-hit").count() >= 1
    assert matching(highlighted(viewer)) == quote_matching(cited_quote)
    viewer.screenshot(path=str(ARTIFACTS / "07-viewer.png"), full_page=True)
    viewer.close()


def _full_width(text: str) -> str:
    """ASCII letters, digits and punctuation as their full-width forms (Ａ１，（）)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# Quotes on real pages of the deck, as the answers cite them or as a reader would paste them.
PLACED_QUOTES = [
    pytest.param(
        18,
        "- 経済安全保障上重要なサプライチェーンにおいて鍵を握る物資・技術を特定したうえで、技術革新の動向、"
        "我が国における相対的な優位性、対外依存度を分析・把握し、強靱化に向けた適切な政策手段を当てはめていく。",
        id="over-a-line-break",
    ),
    pytest.param(
        63,
        "- グローバル貿易データ等を活用し、サプライチェーン上の脆弱性等を分析"
        "(特に、国際的な輸入依存関係、途絶時の影響、代替可能性、多元化の見通し)",
        id="over-a-line-break-half-width-brackets",
    ),
    pytest.param(
        19,
        "航空機部品\n" + _full_width("(CMC") + "・炭素繊維・大型鍛造品・鋳造品・スポンジタン）",
        id="full-width",
    ),
    pytest.param(
        16,
        _full_width("- 令和5年度補正予算で約9,100億円、令和6年度本予算で約2,300億円を措置"),
        id="full-width-digits",
    ),
]


@pytest.mark.parametrize(("page_no", "quote_text"), PLACED_QUOTES)
def test_the_viewer_marks_exactly_the_quote_in_the_text_layer(ui, server, page_no: int, quote_text: str):
    page = ui
    open_viewer(page, server, page_no, quote_text)
    assert_page_drawn(page, page_no)
    assert page.locator("#pqa-status").get_attribute("data-kind") == "marked"
    assert matching(highlighted(page)) == quote_matching(quote_text)
    # the marks sit on the page, inside the drawn canvas
    sheet = page.locator("#pqa-sheet").bounding_box()
    for box in page.locator(".pqa-hit").evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })"
    ):
        assert sheet["x"] - 1 <= box[0] < box[2] <= sheet["x"] + sheet["width"] + 1, box
    page.screenshot(path=str(ARTIFACTS / f"08-viewer-p{page_no}.png"), full_page=True)


@pytest.mark.parametrize(
    "quote_text",
    [
        pytest.param("この文章はこのページにない。", id="not-on-the-page"),
        pytest.param(
            "- 12の特定重要物資※を指定。\nこの後半はこのページのどこにも書かれていない、長い別の文章である。",
            id="less-than-80-percent-on-the-page",
        ),
    ],
)
def test_the_viewer_marks_nothing_when_the_quote_cannot_be_placed(ui, server, quote_text: str):
    page = ui
    open_viewer(page, server, 16, quote_text)
    assert_page_drawn(page, 16)
    assert page.locator(".pqa-hit").count() == 0
    assert page.locator("#pqa-status").get_attribute("data-kind") == "none"
    assert "特定できなかった" in page.locator("#pqa-status").inner_text()
    assert float(page.evaluate("document.body.dataset.located")) < 0.8
    page.screenshot(path=str(ARTIFACTS / "09-viewer-unplaced.png"), full_page=True)


LOCATE = """async ([strings, quote]) => {
  const { locateQuote } = await import('/viewer/quote.js');
  const { located, hits } = locateQuote(strings, quote);
  return [located, hits.map((h) => strings[h.span].slice(h.start, h.end)).join('')];
}"""


@pytest.mark.parametrize(
    ("spans", "quote_text", "marked"),
    [
        pytest.param(
            ["令和5年度予算額\b", " ", "66"],
            "令和5年度予算額 | 66",
            "令和5年度予算額66",
            id="control-character",
        ),
        pytest.param(["国⺠の", "⽣活"], "国民の生活", "国⺠の⽣活", id="radical-look-alikes"),
        pytest.param(["か\u3099んは\u309aい"], "がんぱい", "か\u3099んは\u309aい", id="combining-marks"),
        pytest.param(["㈱日立は"], "(株)日立", "㈱日立", id="nfkc-expansion"),
        pytest.param(
            ["経済安全保障の", "12", "観点から重要"],
            "経済安全保障の観点から重要",
            "経済安全保障の観点から重要",
            id="margin-number",
        ),
        pytest.param(
            ["右の段の文章です。", "左の段の文章です。"],
            "左の段の文章です。\n右の段の文章です。",
            "左の段の文章です。右の段の文章です。",
            id="columns",
        ),
        pytest.param(["半導体と蓄電池"], "半導体と蓄電池と永久磁石と工作機械", "", id="under-80-percent"),
    ],
)
def test_the_quote_locator_on_text_layer_strings(ui, server, spans, quote_text, marked):
    """ui/web/quote.js as the viewer loads it, on text-layer strings of the kinds real PDFs give."""
    page = ui
    page.goto(f"{server.base}/viewer/?doc={DECK_ID}&page=1")
    located, text = page.evaluate(LOCATE, [spans, quote_text])
    assert text == marked
    assert (located >= 0.8) == bool(marked)


def test_a_question_typed_as_markdown_shows_as_text_and_fetches_nothing(ui, server):
    """``![i](http://evil.example/p.png)`` must not become an image the browser fetches (the ``ui``
    fixture fails the test on any request to a host that is not this server)."""
    page = ui
    open_ui(page, server)
    typed = "![i](http://evil.example/p.png) **太字** [リンク](http://evil.example/)"
    ask(page, typed)
    page.wait_for_timeout(1000)
    shown = page.locator("#pqa-chat .message.user, #pqa-chat [data-testid='user']").last
    assert page.locator("#pqa-chat img[src*='evil.example']").count() == 0
    assert page.locator("#pqa-chat a[href*='evil.example']").count() == 0
    assert "evil.example" in shown.inner_text()


@pytest.mark.parametrize(("path", "ready"), [("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")])
def test_the_api_docs_render_offline(ui, server, path: str, ready: str):
    """Swagger UI and ReDoc come from the app itself (the ``ui`` fixture fails on any outside request)."""
    page = ui
    page.goto(f"{server.base}{path}")
    page.wait_for_selector(ready, timeout=60_000)
    assert "policyqa" in page.locator(ready).first.inner_text()
    page.wait_for_function("() => document.body.innerText.includes('/v1/answer')", timeout=30_000)
    page.wait_for_timeout(500)  # late requests (fonts, badges) must show up in the listener too
