"""The quality gate: minimum metric values per configuration, and minimum margins over a baseline.

``check`` is a pure function of the metrics of one run and the thresholds (as read from
``evals/thresholds.toml``), so CI, the ``policyqa eval --gate`` command and the tests judge a run
the same way. A metric or configuration the thresholds name but the run lacks is a failure, never
a silent pass: a gate that passes because a baseline was not run would gate nothing.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

# Float noise must not decide a gate: 0.9 - 0.75 is 0.15000000000000002 but 0.95 - 0.8 is 0.1499999999999999.
TOLERANCE = 1e-9

MetricsByConfig = Mapping[str, Mapping[str, float | int | None]]


class ThresholdsError(ValueError):
    """The thresholds file does not have the shape ``check`` reads."""


def default_thresholds_path() -> Path:
    return Path(str(resources.files("evals").joinpath("thresholds.toml")))


def load_thresholds(path: Path | None = None) -> dict[str, Any]:
    """Read and validate the thresholds file (a malformed file is an error, not an empty gate)."""
    path = path or default_thresholds_path()
    with open(path, "rb") as fh:
        thresholds = tomllib.load(fh)
    validate(thresholds)
    return thresholds


def validate(thresholds: Mapping[str, Any]) -> None:
    """Raise ThresholdsError unless ``thresholds`` has the shape ``check`` reads and at least one rule."""
    unknown = set(thresholds) - {"minimum", "margin"}
    if unknown:
        raise ThresholdsError(
            f"unknown threshold section(s): {', '.join(sorted(unknown))} (use [minimum.<config>] "
            "tables and [[margin]] entries)"
        )
    minimum = thresholds.get("minimum", {})
    if not isinstance(minimum, Mapping) or not all(isinstance(v, Mapping) for v in minimum.values()):
        raise ThresholdsError("[minimum] must hold one table per configuration, e.g. [minimum.product]")
    for config, table in minimum.items():
        for metric, value in table.items():
            if isinstance(value, bool) or not isinstance(value, float | int):
                raise ThresholdsError(f"minimum.{config}.{metric} must be a number, got {value!r}")
    margins = thresholds.get("margin", [])
    if not isinstance(margins, list):
        raise ThresholdsError("margins must be [[margin]] entries")
    for i, margin in enumerate(margins):
        keys = {"metric", "config", "baseline", "at_least"}
        if not isinstance(margin, Mapping) or set(margin) != keys:
            raise ThresholdsError(f"margin #{i + 1} must have exactly the keys {', '.join(sorted(keys))}")
        if isinstance(margin["at_least"], bool) or not isinstance(margin["at_least"], int | float):
            raise ThresholdsError(f"margin #{i + 1}: at_least must be a number")
    if not any(minimum.values()) and not margins:
        raise ThresholdsError("the thresholds define no rule: such a gate would pass anything")


def required_configs(thresholds: Mapping[str, Any]) -> list[str]:
    """Configurations a run must include for the gate to be checkable, in first-mention order."""
    names = [c for c, table in thresholds.get("minimum", {}).items() if table]
    for margin in thresholds.get("margin", []):
        names += [margin["config"], margin["baseline"]]
    return list(dict.fromkeys(names))


def _value(metrics: MetricsByConfig, config: str, metric: str) -> tuple[float | None, str | None]:
    if config not in metrics:
        return None, f"{config}: not run, so {metric} cannot be checked"
    value = metrics[config].get(metric)
    if value is None:
        return None, f"{config}: {metric} is missing from the results"
    return float(value), None


def check(metrics_by_config: MetricsByConfig, thresholds: Mapping[str, Any]) -> list[str]:
    """Every way the run misses the thresholds, one readable message each; an empty list means it passes."""
    validate(thresholds)
    failures: list[str] = []
    for config, table in thresholds.get("minimum", {}).items():
        for metric, minimum in table.items():
            value, problem = _value(metrics_by_config, config, metric)
            if problem:
                failures.append(problem)
            elif value < minimum - TOLERANCE:
                failures.append(f"{config}: {metric} = {value:.3f}, below the minimum {minimum:.3f}")
    for margin in thresholds.get("margin", []):
        metric, config, baseline, at_least = (
            margin["metric"],
            margin["config"],
            margin["baseline"],
            margin["at_least"],
        )
        ours, problem = _value(metrics_by_config, config, metric)
        theirs, problem_baseline = _value(metrics_by_config, baseline, metric)
        for p in (problem, problem_baseline):
            if p:
                failures.append(p)
        if problem or problem_baseline:
            continue
        if ours - theirs < at_least - TOLERANCE:
            failures.append(
                f"{config} {metric} ({ours:.3f}) leads {baseline} ({theirs:.3f}) by {ours - theirs:.3f}, "
                f"less than the required {at_least:.3f}"
            )
    return failures
