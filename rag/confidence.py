"""How strongly the chosen evidence answers the question: the number the abstention threshold reads.

Japanese questions are judged mostly by how much of the question the best line (with its page
title) holds; English questions share no terms with Japanese pages, so only the embedder's view
counts for them. A "when" or "how much" question whose best line gives no date or number is
weaker evidence whatever its match. The scale ends were chosen on the eval's tune parts.
"""

from __future__ import annotations

from rag.intent import DATE_RE, DIGIT_RE, QuestionIntent

TYPE_MISS_FACTOR = 0.7


def _scale(value: float, low: float, high: float) -> float:
    return min(1.0, max(0.0, (value - low) / (high - low)))


def evidence_confidence(
    coverage: float, unit_similarity: float, unit_text: str, dense_top: float, intent: QuestionIntent
) -> float:
    """Evidence strength in [0, 1]. ``coverage``: the share of the question the best line and its
    page title hold; ``unit_similarity``: the embedder's similarity of question and best line;
    ``dense_top``: the best chunk's dense similarity."""
    dense_part = _scale(dense_top, 0.15, 0.65)
    unit_part = _scale(unit_similarity, 0.1, 0.6)
    if intent.english:
        conf = 0.5 * dense_part + 0.5 * unit_part
    else:
        conf = 0.5 * coverage + 0.25 * dense_part + 0.25 * unit_part
    if (intent.wants_date and not DATE_RE.search(unit_text)) or (
        intent.wants_number and not DIGIT_RE.search(unit_text)
    ):
        conf *= TYPE_MISS_FACTOR  # a "when"/"how much" question answered without a date or number
    return conf
