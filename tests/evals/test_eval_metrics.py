"""Page-level metrics, facts, pass/fail and abstention on hand-made inputs whose right values are obvious."""

from __future__ import annotations

import pytest
from eval_helpers import DOC, answer, case, hits

from evals.metrics import (
    aggregate,
    by_lang,
    failed_call,
    metric_names,
    missing_facts,
    normalize_fact,
    ranked_pages,
    score_question,
)


def test_ranked_pages_keeps_the_first_occurrence_of_each_page() -> None:
    ranked = ranked_pages(hits(3, 3, 5, ("other", 3), 5, 1))
    assert ranked == [(DOC, 3), (DOC, 5), ("other", 3), (DOC, 1)]


def test_same_page_number_in_another_document_is_not_a_hit() -> None:
    result = score_question(case("q", [3]), answer(sources=[("other", 3), (DOC, 4)]), 1.0)
    assert result.hit_rank is None


def test_hit_at_k_and_mrr_count_distinct_pages_not_chunks() -> None:
    results = [
        score_question(case("first", [7]), answer(sources=[7, 2, 3]), 1.0),
        # Three chunks of page 2 before page 9: page 9 is the second distinct page.
        score_question(case("second", [9]), answer(sources=[2, 2, 2, 9]), 1.0),
        score_question(case("never", [40]), answer(sources=[1, 2, 3]), 1.0),
    ]
    assert [r.hit_rank for r in results] == [1, 2, None]
    metrics = aggregate(results, k=2)
    assert metrics["hit@1"] == pytest.approx(1 / 3, abs=1e-6)
    assert metrics["hit@2"] == pytest.approx(2 / 3, abs=1e-6)
    assert metrics["mrr@10"] == pytest.approx((1 + 1 / 2 + 0) / 3, abs=1e-6)


def test_any_expected_page_counts_and_the_best_ranked_one_decides() -> None:
    result = score_question(case("q", [16, 19]), answer(sources=[31, 19, 16]), 1.0)
    assert result.hit_rank == 2 and result.reciprocal_rank == 0.5


def test_mrr_stops_at_depth_ten() -> None:
    tenth = score_question(case("q10", [10]), answer(sources=list(range(1, 11))), 1.0)
    eleventh = score_question(case("q11", [11]), answer(sources=list(range(1, 12))), 1.0)
    assert tenth.reciprocal_rank == pytest.approx(0.1)
    assert eleventh.hit_rank == 11 and eleventh.reciprocal_rank == 0.0


def test_hit_at_k_uses_the_configured_k() -> None:
    results = [score_question(case("q", [5]), answer(sources=[1, 2, 3, 4, 5]), 1.0)]
    assert aggregate(results, k=4)["hit@4"] == 0.0
    assert aggregate(results, k=5)["hit@5"] == 1.0
    assert metric_names(3)[:3] == ["hit@1", "hit@3", "mrr@10"]
    assert metric_names(1).count("hit@1") == 1


def test_retrieval_metrics_ignore_unanswerable_questions() -> None:
    results = [
        score_question(case("a", [2]), answer(sources=[2]), 1.0),
        score_question(case("oos", abstain=True), answer(sources=[9, 8], abstained=True), 1.0),
    ]
    metrics = aggregate(results)
    assert metrics["hit@1"] == 1.0 and metrics["mrr@10"] == 1.0


def test_no_answerable_question_gives_none_rather_than_zero() -> None:
    metrics = aggregate([score_question(case("oos", abstain=True), answer(abstained=True), 1.0)])
    assert metrics["hit@1"] is None and metrics["mrr@10"] is None and metrics["facts"] is None
    assert metrics["answer_pass"] == 1.0 and metrics["abstain_accuracy"] == 1.0


def test_any_of_lists_need_only_one_alternative() -> None:
    facts = ["半導体", ["クラウドプログラム", "クラウド"]]
    assert missing_facts([("半導体",), ("クラウドプログラム", "クラウド")], "半導体とクラウドを指定") == []
    result = score_question(case("q", [1], facts=facts), answer("半導体のみ", sources=[1], cited=[1]), 1.0)
    assert result.missing == [("クラウドプログラム", "クラウド")]
    assert result.facts == 0.5


def test_facts_compare_after_nfkc_and_whitespace_removal() -> None:
    assert normalize_fact("４兆２，９００\n億円") == "4兆2,900億円"
    assert missing_facts([("4兆2,900億円",)], "効果は約 ４兆２，９００\n億円 と試算") == []
    assert missing_facts([("CHRIS MILLER",)], "CHRIS\u3000MILLER") == []  # ideographic space too
    assert missing_facts([("28～12nm",)], "28～12ｎｍ") == []  # full-width letters fold


def test_facts_keep_case_as_the_format_defines() -> None:
    assert missing_facts([("CHRIS MILLER",)], "chris miller") == [("CHRIS MILLER",)]


def test_facts_metric_averages_per_question_and_skips_questions_without_facts() -> None:
    results = [
        score_question(case("all", [1], facts=["A"]), answer("A", sources=[1], cited=[1]), 1.0),
        score_question(
            case("quarter", [1], facts=["A", "B", "C", "D"]), answer("B", sources=[1], cited=[1]), 1.0
        ),
        score_question(case("nofacts", [1]), answer("x", sources=[1], cited=[1]), 1.0),
    ]
    assert [r.facts for r in results] == [1.0, 0.25, None]
    assert aggregate(results)["facts"] == pytest.approx((1.0 + 0.25) / 2)


def test_abstention_text_does_not_find_facts() -> None:
    result = score_question(
        case("q", [1], facts=["A"]),
        answer("資料中に該当する記述が見つかりませんでした。", sources=[1], abstained=True),
        1.0,
    )
    assert result.facts == 0.0


@pytest.mark.parametrize(
    ("label", "given", "passes", "failure"),
    [
        ("all facts, expected page cited", answer("A と B", sources=[3, 4], cited=[4]), True, None),
        ("one of two citations on an expected page", answer("A B", sources=[4, 9], cited=[9, 4]), True, None),
        ("facts but wrong page cited", answer("A B", sources=[9, 4], cited=[9]), False, "composer miss"),
        ("expected page cited, a fact missing", answer("A", sources=[4], cited=[4]), False, "composer miss"),
        ("no citation at all", answer("A B", sources=[4]), False, "composer miss"),
        (
            "abstained with the page retrieved",
            answer("A B", sources=[4], abstained=True),
            False,
            "wrong abstention",
        ),
        ("expected page never retrieved", answer("A B", sources=[9], cited=[9]), False, "retrieval miss"),
    ],
)
def test_answer_pass_on_answerable_questions(label: str, given, passes: bool, failure: str | None) -> None:
    result = score_question(case("q", [4], facts=["A", "B"]), given, 1.0)
    assert result.answer_pass is passes, label
    assert result.failure == failure, label
    assert (result.diagnosis is None) is passes


@pytest.mark.parametrize(
    ("label", "given", "passes", "abstain_ok", "failure"),
    [
        ("abstained, nothing cited", answer(abstained=True, sources=[5]), True, True, None),
        ("abstained but cited", answer(abstained=True, cited=[5]), False, True, "cited while abstaining"),
        ("answered", answer("答え", sources=[5], cited=[5]), False, False, "answered unanswerable"),
    ],
)
def test_answer_pass_on_unanswerable_questions(
    label: str, given, passes: bool, abstain_ok: bool, failure: str | None
) -> None:
    result = score_question(case("oos", abstain=True), given, 1.0)
    assert result.answer_pass is passes, label
    assert result.abstain_correct is abstain_ok, label
    assert result.failure == failure, label


def test_abstain_accuracy_counts_every_question() -> None:
    results = [
        score_question(case("a1", [1]), answer("x", sources=[1], cited=[1]), 1.0),  # right: answered
        score_question(case("a2", [1]), answer(sources=[1], abstained=True), 1.0),  # wrong: abstained
        score_question(case("o1", abstain=True), answer(abstained=True), 1.0),  # right
        score_question(case("o2", abstain=True), answer("x", cited=[2]), 1.0),  # wrong: answered
    ]
    metrics = aggregate(results)
    assert metrics["abstain_accuracy"] == 0.5
    assert metrics["answer_pass"] == 0.5


def test_latency_percentiles_interpolate() -> None:
    results = [
        score_question(case(f"q{i}", [1]), answer(sources=[1]), ms) for i, ms in enumerate([10, 20, 30, 40])
    ]
    metrics = aggregate(results)
    assert metrics["latency_p50_ms"] == 25.0
    assert metrics["latency_p95_ms"] == 38.5


def test_by_lang_splits_every_metric_and_counts_questions() -> None:
    results = [
        score_question(case("ja1", [1], lang="ja", facts=["A"]), answer("A", sources=[1], cited=[1]), 100.0),
        score_question(case("ja2", [2], lang="ja"), answer("x", sources=[1, 2], cited=[1]), 300.0),
        score_question(
            case("en1", [1], lang="en", question="What?"), answer("x", sources=[5], cited=[5]), 50.0
        ),
        score_question(case("en2", lang="en", abstain=True, question="Why?"), answer(abstained=True), 70.0),
    ]
    split = by_lang(results)
    assert list(split) == ["ja", "en"]
    assert split["ja"]["n"] == 2 and split["en"]["n"] == 2
    assert split["ja"]["hit@1"] == 0.5 and split["ja"]["mrr@10"] == 0.75 and split["ja"]["answer_pass"] == 0.5
    assert split["en"]["hit@1"] == 0.0 and split["en"]["answer_pass"] == 0.5
    assert split["en"]["abstain_accuracy"] == 1.0
    assert split["ja"]["latency_p50_ms"] == 200.0 and split["en"]["latency_p50_ms"] == 60.0
    assert set(split["ja"]) == set(aggregate(results)) | {"n"}


def test_a_call_that_raised_fails_its_question() -> None:
    result = failed_call(case("q", [1], facts=["A"]), RuntimeError("index gone"), 12.0)
    assert not result.answer_pass and not result.abstain_correct
    assert result.failure == "error" and "index gone" in (result.diagnosis or "")
    oos = failed_call(case("oos", abstain=True), RuntimeError("boom"), 1.0)
    assert not oos.answer_pass and not oos.abstain_correct


def test_per_question_dict_holds_what_a_reader_needs() -> None:
    result = score_question(
        case("q", [4], facts=["A", ["B", "b"]]), answer("A", sources=[9, 4, 4], cited=[9]), 5.0
    )
    row = result.to_dict()
    assert row["retrieved"] == [{"doc": DOC, "page": 9}, {"doc": DOC, "page": 4}]
    assert row["cited"] == [{"doc": DOC, "page": 9}]
    assert row["hit_rank"] == 2 and row["answer_pass"] is False and row["failure"] == "composer miss"
    assert row["missing_facts"] == [["B", "b"]]
    assert "p.9" in row["diagnosis"] and "rank 2" in row["diagnosis"]
