"""The quality gate on synthetic metrics: it passes good runs and names every way a run falls short."""

from __future__ import annotations

import pytest

from evals.gate import ThresholdsError, check, load_thresholds, required_configs, validate

THRESHOLDS = load_thresholds()
MINIMUM = THRESHOLDS["minimum"]["product"]
[MARGIN] = THRESHOLDS["margin"]

# A run a little above every rule of the project's thresholds, whatever their values today.
GOOD = {
    "product": {"hit@5": 0.99, "facts": 0.95, **{metric: value + 0.02 for metric, value in MINIMUM.items()}},
    "naive-llamaindex": {"answer_pass": 0.5, "abstain_accuracy": 0.9},
}
GOOD["naive-llamaindex"]["hit@1"] = round(GOOD["product"]["hit@1"] - MARGIN["at_least"] - 0.05, 3)


def with_metric(config: str, metric: str, value: float | None) -> dict:
    return {name: {**values, **({metric: value} if name == config else {})} for name, values in GOOD.items()}


@pytest.fixture(scope="module")
def thresholds() -> dict:
    return THRESHOLDS


def test_project_thresholds_are_the_agreed_ones(thresholds: dict) -> None:
    """Lowering a number to make a run pass has to show up as a failing test, not slip through review."""
    minimum = thresholds["minimum"]["product"]
    assert minimum["hit@1"] >= 0.92
    assert minimum["mrr@10"] >= 0.94
    assert minimum["answer_pass"] >= 0.86
    assert minimum["abstain_accuracy"] >= 0.95
    [margin] = thresholds["margin"]
    assert (margin["metric"], margin["config"], margin["baseline"]) == (
        "hit@1",
        "product",
        "naive-llamaindex",
    )
    assert margin["at_least"] >= 0.30
    assert required_configs(thresholds) == ["product", "naive-llamaindex"]


def test_a_run_above_every_threshold_passes(thresholds: dict) -> None:
    assert check(GOOD, thresholds) == []


@pytest.mark.parametrize("metric", sorted(MINIMUM))
def test_each_minimum_fails_the_gate(thresholds: dict, metric: str) -> None:
    value = round(MINIMUM[metric] - 0.001, 3)
    failures = check(with_metric("product", metric, value), thresholds)
    assert len(failures) == 1
    assert failures[0].startswith(f"product: {metric} = {value:.3f}, below the minimum")


def test_values_exactly_at_the_thresholds_pass(thresholds: dict) -> None:
    metrics = {
        "product": dict(MINIMUM),
        "naive-llamaindex": {"hit@1": round(MINIMUM["hit@1"] - MARGIN["at_least"], 3)},
    }
    assert check(metrics, thresholds) == []


def test_a_small_lead_over_the_naive_baseline_fails(thresholds: dict) -> None:
    product = GOOD["product"]["hit@1"]
    naive = round(product - 0.1, 3)
    failures = check(with_metric("naive-llamaindex", "hit@1", naive), thresholds)
    assert failures == [
        f"product hit@1 ({product:.3f}) leads naive-llamaindex ({naive:.3f}) by 0.100, "
        f"less than the required {MARGIN['at_least']:.3f}"
    ]


def test_the_margin_is_not_decided_by_float_noise() -> None:
    rule = {"margin": [{"metric": "m", "config": "a", "baseline": "b", "at_least": 0.15}]}
    assert 0.95 - 0.8 < 0.15  # what a naive comparison would fail on
    assert check({"a": {"m": 0.95}, "b": {"m": 0.8}}, rule) == []
    assert check({"a": {"m": 0.8}, "b": {"m": 0.6501}}, rule) != []


def test_a_baseline_that_was_not_run_fails_the_gate(thresholds: dict) -> None:
    failures = check({"product": GOOD["product"]}, thresholds)
    assert failures == ["naive-llamaindex: not run, so hit@1 cannot be checked"]


def test_a_missing_or_none_metric_fails_the_gate(thresholds: dict) -> None:
    assert check(with_metric("product", "mrr@10", None), thresholds) == [
        "product: mrr@10 is missing from the results"
    ]
    metrics = {
        "product": {k: v for k, v in GOOD["product"].items() if k != "answer_pass"},
        "naive-llamaindex": GOOD["naive-llamaindex"],
    }
    assert check(metrics, thresholds) == ["product: answer_pass is missing from the results"]


def test_every_shortfall_is_reported_at_once(thresholds: dict) -> None:
    metrics = {
        "product": {"hit@1": 0.5, "mrr@10": 0.5, "answer_pass": 0.5, "abstain_accuracy": 0.5},
        "naive-llamaindex": {"hit@1": 0.5},
    }
    assert len(check(metrics, thresholds)) == 5


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"minimum": {"product": {}}},
        {"minimum": {"product": {"hit@1": "high"}}},
        {"minimum": {"product": {"hit@1": True}}},
        {"minimum": {"hit@1": 0.85}},
        {"maximum": {"product": {"latency_p95_ms": 100}}},
        {"margin": [{"metric": "hit@1", "config": "product", "at_least": 0.1}]},
        {"margin": {"metric": "hit@1"}},
    ],
)
def test_malformed_thresholds_are_an_error_not_an_empty_gate(bad: dict) -> None:
    with pytest.raises(ThresholdsError):
        validate(bad)
    with pytest.raises(ThresholdsError):
        check(GOOD, bad)
