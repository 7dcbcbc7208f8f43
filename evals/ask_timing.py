"""Wall time of one `policyqa ask` and of one in-process answer(), as medians with baselines from
the same run: process start-up (`policyqa --version`) for the command, the retrieval alone
(`search`) for the in-process call.

    python -m evals.ask_timing [--runs 7]   (uses the index configured by POLICYQA_* settings)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

QUESTIONS = [
    "JASMの熊本進出による10年間の経済波及効果は？",
    "特定重要物資として指定された12の物資は何ですか",
    "What share of global iodine production does Japan have?",
]


def _median_ms(call, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    cli = str(Path(sys.executable).with_name("policyqa"))

    def run(*args: str) -> None:
        subprocess.run([cli, *args], check=True, capture_output=True)

    result = {"runs": runs, "load_average": os.getloadavg()[0], "cpus": os.cpu_count()}
    result["cli_start_ms"] = _median_ms(lambda: run("--version"), runs)
    result["cli_ask_ms"] = _median_ms(lambda: run("ask", QUESTIONS[0]), runs)

    from core.settings import Settings
    from rag.service import PolicyQA

    service = PolicyQA(Settings())
    for q in QUESTIONS:  # warm: models loaded, keyword index and term vectors built
        service.answer(q)
    result["search_ms"] = round(
        _median_ms(lambda: [service.search(q) for q in QUESTIONS], runs) / len(QUESTIONS), 1
    )
    result["answer_ms"] = round(
        _median_ms(lambda: [service.answer(q) for q in QUESTIONS], runs) / len(QUESTIONS), 1
    )
    result["ask_over_start"] = round(result["cli_ask_ms"] / result["cli_start_ms"], 2)
    result["answer_over_search"] = round(result["answer_ms"] / result["search_ms"], 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
