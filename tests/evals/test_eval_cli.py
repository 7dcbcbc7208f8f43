"""The full eval on the bundled deck: the command as CI runs it, and the quality gate itself.

``test_quality_gate_on_project_dataset`` is the CI quality gate: it fails whenever the product
misses a threshold of evals/thresholds.toml, including its lead over the naive llama-index baseline.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from evals.baselines import CONFIG_NAMES
from evals.dataset import default_dataset, load_dataset
from evals.gate import check, load_thresholds
from policyqa.cli import main

CONTRACT_METRICS = {
    "hit@1",
    "hit@5",
    "mrr@10",
    "facts",
    "answer_pass",
    "abstain_accuracy",
    "latency_p50_ms",
    "latency_p95_ms",
}
QUESTION_KEYS = {
    "id",
    "question",
    "lang",
    "expected",
    "retrieved",
    "cited",
    "abstained",
    "hit_rank",
    "facts",
    "missing_facts",
    "answer_pass",
    "abstain_correct",
    "failure",
    "diagnosis",
    "latency_ms",
    "answer",
}


@pytest.fixture(scope="module")
def full_run(deck_settings, tmp_path_factory) -> tuple[object, dict, Path, float]:
    """``policyqa eval --config all --gate --json --report`` over the ingested deck, run once."""
    out = tmp_path_factory.mktemp("eval-run")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(out)
        mp.setenv("POLICYQA_DATA_DIR", str(deck_settings.data_dir))
        mp.setenv("POLICYQA_CORPUS_DIR", str(deck_settings.corpus_dir))
        for name in (
            "POLICYQA_CHROMA_URL",
            "POLICYQA_EMBEDDER",
            "POLICYQA_COLLECTION",
            "POLICYQA_TOP_K",
            "POLICYQA_LLM_BASE_URL",
            "POLICYQA_LLM_MODEL",
        ):
            mp.delenv(name, raising=False)
        started = time.perf_counter()
        result = CliRunner().invoke(
            main,
            [
                "eval",
                "--config",
                "all",
                "--gate",
                "--json",
                str(out / "eval.json"),
                "--report",
                str(out / "report"),
            ],
        )
        seconds = time.perf_counter() - started
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    data = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    return result, data, out, seconds


@pytest.mark.slow
def test_full_eval_writes_the_contract_json(full_run) -> None:
    _, data, _, seconds = full_run
    assert data["config"] == "product" and data["n"] == 154
    assert set(data["metrics"]) == CONTRACT_METRICS
    assert all(isinstance(v, float) for v in data["metrics"].values()), data["metrics"]
    assert all(0.0 <= data["metrics"][m] <= 1.0 for m in CONTRACT_METRICS if not m.startswith("latency"))
    assert set(data["by_lang"]) == {"ja", "en"}
    assert (data["by_lang"]["ja"]["n"], data["by_lang"]["en"]["n"]) == (125, 29)
    assert all(set(m) == CONTRACT_METRICS | {"n"} for m in data["by_lang"].values())
    assert len(data["per_question"]) == 154
    assert [q["id"] for q in data["per_question"]] == [c.id for c in load_dataset(default_dataset())]
    assert all(QUESTION_KEYS <= set(q) for q in data["per_question"])
    assert set(data["configs"]) == set(CONFIG_NAMES)
    for name, summary in data["configs"].items():
        assert set(summary["metrics"]) == CONTRACT_METRICS, name
        assert set(summary["by_lang"]) == {"ja", "en"}, name
    assert data["configs"]["product"]["metrics"] == data["metrics"]
    # The naive baseline never abstains: it is right exactly on the answerable questions.
    assert data["configs"]["naive-llamaindex"]["metrics"]["abstain_accuracy"] == pytest.approx(
        142 / 154, abs=1e-6
    )
    print(f"full eval ({', '.join(CONFIG_NAMES)}): {seconds:.0f} s")


@pytest.mark.slow
def test_full_eval_exit_code_and_output_agree_with_the_gate(full_run) -> None:
    result, data, _, _ = full_run
    failures = check({name: s["metrics"] for name, s in data["configs"].items()}, load_thresholds())
    assert data["gate"] == {"passed": not failures, "failures": failures}
    assert result.exit_code == (1 if failures else 0), result.output
    assert ("gate FAILED" in result.output) is bool(failures)
    header = next(line for line in result.stdout.splitlines() if line.startswith("metric"))
    assert header.split() == ["metric", *CONFIG_NAMES]
    failing = [q for q in data["per_question"] if not q["answer_pass"]]
    assert f"failing questions (product): {len(failing)} of 154" in result.stdout
    assert all(f"  {q['id']} [{q['lang']}] {q['failure']}: " in result.stdout for q in failing)


@pytest.mark.slow
def test_full_eval_writes_the_report(full_run) -> None:
    _, data, out, _ = full_run
    page = (out / "report" / "index.html").read_text(encoding="utf-8")
    assert (out / "report" / "metrics.png").read_bytes()[:4] == b"\x89PNG"
    assert page.count("<tr class='pass'>") + page.count("<tr class='fail'>") == data["n"]


@pytest.mark.slow
def test_quality_gate_on_project_dataset(deck_service) -> None:
    """The CI quality gate: product and naive baseline on the project dataset against evals/thresholds.toml."""
    from evals.run import render_summary, run_eval

    thresholds = load_thresholds()
    run = run_eval(
        deck_service,
        load_dataset(default_dataset()),
        ["product", "naive-llamaindex"],
        datasets=[str(default_dataset())],
        thresholds=thresholds,
    )
    assert [r.name for r in run.runs] == ["product", "naive-llamaindex"]
    assert run.gate_failures == check(run.metrics_by_config(), thresholds)
    assert run.gate_failures == [], (
        "quality gate failed:\n  " + "\n  ".join(run.gate_failures) + "\n\n" + render_summary(run)
    )
