"""Chat latency as staff see it, in headless Chromium: the time from clicking 送信 to the answer
shown in the chat, over the questions of the tune parts of the eval sets; and, with --viewer, how
many of the quotes those answers cite the page viewer can mark.

    .venv/bin/python scripts/measure_chat.py [--data-dir DIR] [--viewer] [--json OUT]

Without --data-dir it ingests the bundled deck and the nine PDFs of tests/data/real-pdfs/ into a
temporary folder first (the questions are about those). It then starts `policyqa serve` on a free
loopback port, asks every question in a cleared conversation (so none is taken as a follow-up),
and prints median, p95 and maximum. The clock runs in the page (performance.now()): from the click
to the moment the answer's element is added to the chat, watched by a MutationObserver. For
comparison it then asks the same questions over HTTP (`POST /v1/answer`, the same service
without the chat around it).
Needs Debian `chromium` (scripts/test.sh installs it) and the `dev` extra (playwright).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import httpx

from evals.load import free_port, serve_env

REPO = Path(__file__).resolve().parents[1]
TUNE_SETS = ["deck-natural-tune.jsonl", "real-pdfs-tune.jsonl"]
CHROMIUM = "/usr/bin/chromium"

ASK = """async () => {
  const chat = document.querySelector('#pqa-chat');
  const shown = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (chat.querySelector('.pqa-answer')) { observer.disconnect(); resolve(performance.now()); }
    });
    observer.observe(chat, { childList: true, subtree: true });
  });
  const started = performance.now();
  document.querySelector('#pqa-send').click();
  return (await shown) - started;
}"""


def questions() -> list[str]:
    out = []
    for name in TUNE_SETS:
        for line in (REPO / "evals" / "datasets" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line)["question"])
    return out


def ingest(base: Path) -> tuple[Path, Path]:
    corpus, data = base / "corpus", base / "data"
    corpus.mkdir()
    shutil.copy(REPO / "corpus" / "manifest.toml", corpus)
    for pdf in [*(REPO / "corpus").glob("*.pdf"), *(REPO / "tests" / "data" / "real-pdfs").glob("*.pdf")]:
        shutil.copy(pdf, corpus)
    cli = Path(sys.executable).with_name("policyqa")
    subprocess.run([str(cli), "ingest"], env=serve_env(data, corpus), cwd=base, check=True)
    return data, corpus


def serve(data: Path, corpus: Path, base: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cli = Path(sys.executable).with_name("policyqa")
    log = open(base / "serve.log", "wb")  # noqa: SIM115 (kept open for the server's life)
    proc = subprocess.Popen(
        [str(cli), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=serve_env(data, corpus),
        cwd=base,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"policyqa serve exited with {proc.returncode}; see {base / 'serve.log'}")
        try:
            if httpx.get(f"{url}/ui/", timeout=5).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise SystemExit("policyqa serve did not come up")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values), 1),
        "p95_ms": round(p95(values), 1),
        "max_ms": round(max(values), 1),
        "min_ms": round(min(values), 1),
    }


def measure(url: str, asked: list[str], viewer: bool) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(locale="ja-JP", viewport={"width": 1280, "height": 1600})
        page.goto(f"{url}/ui/")
        page.wait_for_selector("#pqa-question textarea", timeout=60_000)
        clear = page.locator(
            "#pqa-chat button[aria-label='会話をクリア'], #pqa-chat button[aria-label='Clear']"
        )
        times, quotes = [], []
        for index, question in enumerate(["経済安保推進法の4つの柱は？", *asked]):  # the first one warms up
            if page.locator("#pqa-chat .pqa-answer").count():
                clear.click()
                page.wait_for_function("() => !document.querySelector('#pqa-chat .pqa-answer')")
            page.fill("#pqa-question textarea", question)
            elapsed = page.evaluate(ASK)
            if index:
                times.append(elapsed)
                hrefs = page.locator("#pqa-chat .pqa-answer a.pqa-cite").evaluate_all(
                    "els => els.map(e => e.getAttribute('href'))"
                )
                quotes += list(dict.fromkeys(hrefs))
        result: dict = {"chat": summary(times), "samples_ms": [round(t, 1) for t in times]}
        if viewer:
            result["viewer"] = place(browser, url, quotes)
        browser.close()
    return result


def place(browser, url: str, hrefs: list[str]) -> dict:
    """Open every distinct cited (page, quote) in the viewer; count the ones it marks."""
    seen = {}
    for href in hrefs:
        query = parse_qs(urlparse(href).query)
        seen[(query["doc"][0], query["page"][0], query["quote"][0])] = href
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    placed, unplaced = 0, []
    for (doc, number, text), _ in seen.items():
        page.goto(f"{url}/viewer/?doc={quote(doc)}&page={number}&quote={quote(text)}")
        page.wait_for_function("() => document.body.dataset.rendered", timeout=60_000)
        if page.locator(".pqa-hit").count():
            placed += 1
        else:
            unplaced.append(
                {"doc": doc, "page": int(number), "located": page.evaluate("document.body.dataset.located")}
            )
    page.close()
    return {"quotes": len(seen), "marked": placed, "unmarked": unplaced}


def over_http(url: str, asked: list[str]) -> dict[str, float]:
    times = []
    with httpx.Client(timeout=120) as client:
        for question in asked:
            started = time.perf_counter()
            client.post(f"{url}/v1/answer", json={"question": question}).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return summary(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir", type=Path, help="an index to answer from (default: ingest into a temp folder)"
    )
    parser.add_argument("--corpus-dir", type=Path, default=REPO / "corpus")
    parser.add_argument("--viewer", action="store_true", help="also open every cited quote in the viewer")
    parser.add_argument("--json", type=Path, help="write the full result here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="policyqa-chat-") as tmp:
        base = Path(tmp)
        data, corpus = (args.data_dir, args.corpus_dir) if args.data_dir else ingest(base)
        proc, url = serve(data, corpus, base)
        try:
            asked = questions()
            result = {"questions": len(asked), **measure(url, asked, args.viewer)}
            result["http"] = over_http(url, asked)
        finally:
            proc.terminate()
            proc.wait(15)
    print(json.dumps({k: v for k, v in result.items() if k != "samples_ms"}, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
