"""The eval runner, its text and JSON output, the HTML report and the command's error paths, on fakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from eval_helpers import answer, case

from evals.baselines import CONFIG_NAMES, SimpleAnswer
from evals.run import ConfigRun, EvalRun, order_configs, render_summary, run_config
from policyqa.cli import main

CASES = [
    case("ja-ok", [2], facts=["半導体"]),
    case("ja-miss", [7], facts=["蓄電池"], question="蓄電池の<予算>は？"),
    case("en-ok", [3], lang="en", question="What is it?"),
    case("oos", abstain=True, question="範囲外の質問"),
]


class FakeConfig:
    """Answers from a table; raises for questions it has no answer for."""

    description = "fake"

    def __init__(self, name: str, answers: dict[str, SimpleAnswer]):
        self.name = name
        self.answers = answers
        self.calls: list[str] = []

    def answer(self, question: str) -> SimpleAnswer:
        self.calls.append(question)
        if question not in self.answers:
            raise RuntimeError("no answer")
        return self.answers[question]


def good_answers() -> dict[str, SimpleAnswer]:
    return {
        CASES[0].question: answer("半導体です", sources=[2, 5], cited=[2]),
        CASES[1].question: answer("予算は別の頁", sources=[1, 2, 1], cited=[1]),
        CASES[2].question: answer("It is X", sources=[3], cited=[3]),
        CASES[3].question: answer(
            "資料中に該当する記述が見つかりませんでした。", sources=[9], abstained=True
        ),
    }


def make_run(k: int = 5) -> EvalRun:
    product = run_config(FakeConfig("product", good_answers()), CASES, k)
    weak = {q: answer("x", sources=[9], cited=[9]) for q in good_answers()}
    other = run_config(FakeConfig("naive-llamaindex", weak), CASES, k)
    return EvalRun(runs=[product, other], datasets=["/x/deck.jsonl"], k=k, top_k=8, seconds=1.5)


def test_config_order_puts_product_first_and_adds_what_the_gate_needs() -> None:
    assert order_configs([]) == ["product"]
    assert order_configs(["all"]) == list(CONFIG_NAMES)
    assert order_configs(["dense", "product", "dense"]) == ["product", "dense"]
    assert order_configs(["keyword"], ["product", "naive-llamaindex"]) == [
        "product",
        "keyword",
        "naive-llamaindex",
    ]


def test_run_config_scores_every_case_and_a_raising_call_fails_only_its_case() -> None:
    answers = good_answers()
    del answers[CASES[2].question]
    config = FakeConfig("product", answers)
    run = run_config(config, CASES, k=5)
    assert [r.case.id for r in run.results] == [c.id for c in CASES]
    broken = run.results[2]
    assert broken.failure == "error" and "no answer" in (broken.error or "")
    assert [r.answer_pass for r in run.results] == [True, False, False, True]
    # Warm-up: one call per language before the timed calls, not scored.
    assert config.calls[:2] == [CASES[0].question, CASES[2].question]
    assert len(config.calls) == 2 + len(CASES)


def test_run_config_can_skip_the_warm_up() -> None:
    config = FakeConfig("product", good_answers())
    run_config(config, CASES, k=5, warm_up=False)
    assert config.calls == [c.question for c in CASES]


def test_summary_shows_configs_side_by_side_and_the_failures_of_the_first() -> None:
    text = render_summary(make_run())
    header = next(line for line in text.splitlines() if line.startswith("metric"))
    assert header.split() == ["metric", "product", "naive-llamaindex"]
    hit1 = next(line for line in text.splitlines() if line.startswith("hit@1"))
    assert hit1.split() == ["hit@1", "0.667", "0.000"]
    assert "ja (3)" in text and "en (1)" in text
    assert "failing questions (product): 1 of 4" in text
    assert "ja-miss [ja] retrieval miss" in text
    assert "expected p.7 | retrieved p.1, p.2 | cited p.1" in text


def test_json_has_the_contract_shape() -> None:
    data = make_run().to_json()
    assert {"metrics", "by_lang", "n", "per_question", "configs"} <= set(data)
    assert data["config"] == "product" and data["n"] == 4
    assert set(data["metrics"]) == {
        "hit@1",
        "hit@5",
        "mrr@10",
        "facts",
        "answer_pass",
        "abstain_accuracy",
        "latency_p50_ms",
        "latency_p95_ms",
    }
    assert data["metrics"]["answer_pass"] == 0.75
    assert set(data["by_lang"]) == {"ja", "en"} and data["by_lang"]["ja"]["n"] == 3
    assert [q["id"] for q in data["per_question"]] == [c.id for c in CASES]
    assert set(data["configs"]) == {"product", "naive-llamaindex"}
    assert data["configs"]["naive-llamaindex"]["metrics"]["hit@1"] == 0.0
    assert "gate" not in data
    json.dumps(data)  # serialisable as it is


def test_report_writes_html_and_a_png_chart(tmp_path: Path) -> None:
    from evals.report import write_report

    index = write_report(make_run(), tmp_path / "report")
    png = tmp_path / "report" / "metrics.png"
    assert index == tmp_path / "report" / "index.html"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    page = index.read_text(encoding="utf-8")
    assert "<img src='metrics.png'" in page
    for expected in (
        "ja-ok",
        "ja-miss",
        "en-ok",
        "oos",
        "fail: retrieval miss",
        "蓄電池",
        "naive-llamaindex ✗",
    ):
        assert expected in page
    assert "蓄電池の&lt;予算&gt;は？" in page and "<予算>" not in page  # dataset text is escaped
    assert page.count("<tr class='fail'>") == 1 and page.count("<tr class='pass'>") == 3


def test_report_shows_a_failed_gate(tmp_path: Path) -> None:
    from evals.report import write_report

    run = make_run()
    run.gate_failures = ["product: hit@1 = 0.667, below the minimum 0.850"]
    page = write_report(run, tmp_path).read_text(encoding="utf-8")
    assert "Quality gate failed" in page and "below the minimum 0.850" in page


def test_config_run_summary_counts_time() -> None:
    run = ConfigRun("x", "d", [], 5, setup_seconds=1.234, warmup_seconds=0.5, run_seconds=2.0)
    assert run.summary()["setup_s"] == 1.23 and run.summary()["n"] == 0


# ------------------------------------------------------------------------------------------ the command


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POLICYQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POLICYQA_CORPUS_DIR", str(tmp_path / "corpus"))
    for name in ("POLICYQA_CHROMA_URL", "POLICYQA_EMBEDDER", "POLICYQA_COLLECTION"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_eval_rejects_a_bad_dataset_with_its_line(isolated: Path) -> None:
    bad = isolated / "bad.jsonl"
    bad.write_text(
        '// c\n{"id": "x", "question": "q", "lang": "de", "expected": [], "must_include": [], '
        '"abstain": true}\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["eval", "--dataset", str(bad)])
    assert result.exit_code == 2
    assert f"invalid eval dataset: {bad}:2: x: 'lang' must be one of ja, en" in result.output


def test_eval_on_an_empty_index_says_to_ingest_and_ingests_nothing(isolated: Path, embedder) -> None:
    result = CliRunner().invoke(main, ["eval"])
    assert result.exit_code == 2, result.output
    assert "holds no documents: run `policyqa ingest` first" in result.output
    from core.settings import Settings
    from core.store import Store

    assert Store(Settings(), embedder.name, embedder.dimension).snapshot().documents == {}
