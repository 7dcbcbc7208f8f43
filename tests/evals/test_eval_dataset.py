"""Loading eval JSONL: the project dataset is valid, and a bad record is reported with its line number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.dataset import DatasetError, default_dataset, load_dataset, load_datasets, parse_lines

GOOD = {
    "id": "q1",
    "question": "12の物資は？",
    "lang": "ja",
    "expected": [{"doc": "deck", "pages": [16, 19]}],
    "must_include": ["半導体", ["クラウド", "クラウドプログラム"]],
    "abstain": False,
}
OOS = {
    "id": "oos",
    "question": "Out of scope?",
    "lang": "en",
    "expected": [],
    "must_include": [],
    "abstain": True,
}


def write(path: Path, *lines: str | dict) -> Path:
    path.write_text(
        "\n".join(json.dumps(x, ensure_ascii=False) if isinstance(x, dict) else x for x in lines) + "\n",
        encoding="utf-8",
    )
    return path


def test_project_dataset_is_valid() -> None:
    cases = load_dataset(default_dataset())
    assert len(cases) == 154
    assert len({c.id for c in cases}) == 154
    assert sum(c.abstain for c in cases) == 12
    assert {c.lang for c in cases} == {"ja", "en"}
    materials = next(c for c in cases if c.id == "materials-12")
    assert materials.expected_pages == {
        ("econsec-public-private-action-2025-03-16", 16),
        ("econsec-public-private-action-2025-03-16", 19),
    }
    assert ("クラウドプログラム", "クラウド") in materials.must_include


def test_blank_and_comment_lines_are_skipped_and_lines_keep_their_numbers(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", "// a comment", "", GOOD, "   ", "  // indented comment", OOS)
    cases = load_dataset(path)
    assert [c.id for c in cases] == ["q1", "oos"]
    assert cases[0].source == f"{path}:3" and cases[1].source == f"{path}:6"
    assert cases[0].must_include == (("半導体",), ("クラウド", "クラウドプログラム"))
    assert cases[0].to_dict() == GOOD


def test_bad_json_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", "// header", GOOD, '{"id": "broken", ')
    with pytest.raises(DatasetError) as err:
        load_dataset(path)
    assert str(err.value).startswith(f"{path}:3: not valid JSON")
    assert err.value.line == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": ""}, "'id' must be a non-empty string"),
        ({"question": "  "}, "'question' must be a non-empty string"),
        ({"lang": "fr"}, "'lang' must be one of ja, en"),
        ({"abstain": "no"}, "'abstain' must be true or false"),
        ({"expected": {"doc": "deck", "pages": [1]}}, "'expected' must be a list"),
        (
            {"expected": [{"doc": "deck", "page": [1]}]},
            "expected[0] must be an object with exactly 'doc' and 'pages'",
        ),
        ({"expected": [{"doc": "", "pages": [1]}]}, "expected[0].doc must be a non-empty document id"),
        ({"expected": [{"doc": "deck", "pages": [0]}]}, "1-based page numbers"),
        ({"expected": [{"doc": "deck", "pages": [True]}]}, "1-based page numbers"),
        ({"expected": [{"doc": "deck", "pages": []}]}, "non-empty list of 1-based page numbers"),
        ({"expected": []}, "needs at least one expected page"),
        ({"must_include": "半導体"}, "'must_include' must be a list"),
        ({"must_include": [[]]}, "must_include[0] must be a non-empty string or a non-empty list"),
        ({"must_include": ["ok", ["a", 3]]}, "must_include[1]"),
        ({"must_include": [""]}, "must_include[0]"),
        ({"abstain": True}, "an abstain case must have empty 'expected' and 'must_include'"),
        ({"must_inculde": ["x"]}, "unknown field(s): must_inculde"),
    ],
)
def test_invalid_records_are_rejected_with_line_and_reason(
    tmp_path: Path, change: dict, message: str
) -> None:
    path = write(tmp_path / "d.jsonl", OOS, {**GOOD, **change})
    with pytest.raises(DatasetError) as err:
        load_dataset(path)
    assert str(err.value).startswith(f"{path}:2: ")
    assert message in str(err.value)


def test_missing_fields_are_listed(tmp_path: Path) -> None:
    record = {k: v for k, v in GOOD.items() if k not in ("lang", "abstain")}
    with pytest.raises(DatasetError, match=r":1: missing field\(s\): lang, abstain"):
        load_dataset(write(tmp_path / "d.jsonl", record))


def test_a_line_that_is_not_an_object_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r":1: expected a JSON object, got list"):
        load_dataset(write(tmp_path / "d.jsonl", "[1, 2]"))


def test_duplicate_ids_name_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", GOOD, OOS, {**GOOD, "question": "again"})
    with pytest.raises(DatasetError, match=r":3: duplicate id 'q1' \(first used on line 1\)"):
        load_dataset(path)


def test_ids_must_be_unique_across_files(tmp_path: Path) -> None:
    a = write(tmp_path / "a.jsonl", GOOD)
    b = write(tmp_path / "b.jsonl", OOS, GOOD)
    with pytest.raises(DatasetError) as err:
        load_datasets([a, b])
    assert str(err.value).startswith(f"{b}:2: id 'q1' is already used at {a}:1")


def test_invalid_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b"\n" + b'{"id": "\xff"}\n')
    with pytest.raises(DatasetError, match=r":2: not UTF-8 text"):
        load_dataset(path)


def test_a_byte_order_mark_is_accepted() -> None:
    [only] = parse_lines([b"\xef\xbb\xbf" + json.dumps(GOOD, ensure_ascii=False).encode()], "bom.jsonl")
    assert only.id == "q1"


def test_an_empty_or_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no eval cases"):
        load_dataset(write(tmp_path / "empty.jsonl", "// nothing yet", ""))
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset(tmp_path / "absent.jsonl")


def test_feedback_drafts_need_review_before_they_load(tmp_path: Path) -> None:
    """A draft for a down-voted answer has no expected pages yet: it must not be scored as it is."""
    from ui.feedback_cases import draft_cases

    [(draft, _)] = draft_cases(
        [
            {
                "question": "X とは？",
                "answer": "違う答え",
                "citations": [],
                "vote": "down",
                "time": "2026-01-02T00:00:00+00:00",
            }
        ]
    )
    with pytest.raises(DatasetError, match="needs at least one expected page"):
        load_dataset(write(tmp_path / "drafts.jsonl", draft))
    reviewed = {**draft, "expected": [{"doc": "deck", "pages": [3]}], "must_include": ["X"]}
    assert load_dataset(write(tmp_path / "reviewed.jsonl", reviewed))[0].expected_pages == {("deck", 3)}
