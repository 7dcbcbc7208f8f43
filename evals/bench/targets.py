"""The targets of a 10,000-page index, and the ratios against the naive baseline."""

from __future__ import annotations

TARGET_PAGES = 10_000
# (key, label, limit, unit): the targets, all "at 10,000 pages", all "lower is better".
TARGETS = [
    ("answer_p95_ms", "in-process answer() p95", 50.0, "ms"),
    ("http_answer_p95_ms", "HTTP /v1/answer p95", 80.0, "ms"),
    ("nochange_reingest_s", "no-change re-ingest (wall)", 10.0, "s"),
    ("cold_ingest_s", "cold ingest (wall)", 240.0, "s"),
    ("serve_rss_mb", "serve peak RSS", 1536.0, "MiB"),
]


def evaluate_targets(row: dict) -> list[dict]:
    values = {
        "answer_p95_ms": row["inprocess"]["answer"]["p95_ms"],
        "http_answer_p95_ms": row["http"]["answer"]["p95_ms"],
        "nochange_reingest_s": row["ingest"]["nochange"]["wall_s"],
        "cold_ingest_s": row["ingest"]["cold"]["wall_s"],
        "serve_rss_mb": max(
            filter(None, [row["http"].get("serve_rss_mb"), row["http"].get("serve_rss_after_load_mb")]),
            default=None,
        ),
    }
    out = []
    for key, label, limit, unit in TARGETS:
        value = values[key]
        met = value is not None and value <= limit
        out.append(
            {
                "key": key,
                "label": label,
                "limit": limit,
                "unit": unit,
                "value": value,
                "met": met,
                "ratio_to_limit": round(value / limit, 2) if value is not None else None,
                "over_by": round(value - limit, 2) if value is not None and not met else 0.0,
                "applies": row["pages"] == TARGET_PAGES,
            }
        )
    return out


def vs_naive(row: dict) -> dict:
    naive = row.get("naive")
    if not naive:
        return {}
    cold, nret = row["ingest"]["cold"], naive["retrieve"]

    def ratio(a, b):
        return round(a / b, 2) if a and b else None

    return {
        "ingest_pages_per_s": ratio(
            cold["pages_per_s"], naive["ingest"]["pages_per_s"]
        ),  # >1: product faster
        "search_p50_speedup": ratio(
            nret["p50_ms"], row["inprocess"]["search"]["p50_ms"]
        ),  # >1: product faster
        "search_p95_speedup": ratio(nret["p95_ms"], row["inprocess"]["search"]["p95_ms"]),
        "answer_p50_speedup": ratio(nret["p50_ms"], row["inprocess"]["answer"]["p50_ms"]),
        "answer_p95_speedup": ratio(nret["p95_ms"], row["inprocess"]["answer"]["p95_ms"]),
        "ingest_peak_rss": ratio(
            cold["peak_rss_mb"], naive["ingest"].get("peak_rss_mb")
        ),  # <1: product leaner
    }
