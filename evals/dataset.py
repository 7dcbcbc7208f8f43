"""Eval datasets: JSON lines of questions with the pages and facts a correct answer must show.

The format is documented in evals/README.md. Validation is strict on purpose: a
misspelt field name or a draft case that was never completed would otherwise be
scored silently as something else, and a metric computed over a broken case is
worse than no metric. Every problem is reported with its file and line number.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

LANGS = ("ja", "en")
FIELDS = ("id", "question", "lang", "expected", "must_include", "abstain")
OPTIONAL_FIELDS = ("kind",)  # what sort of question it is (list, number, table, casual…): for reading reports
DEFAULT_DATASET_NAME = "econsec-deck.jsonl"


def default_dataset() -> Path:
    """The project dataset, found through the installed package so the command works from any folder."""
    return Path(str(resources.files("evals").joinpath("datasets", DEFAULT_DATASET_NAME)))


class DatasetError(ValueError):
    """A record that cannot be scored; the message starts with ``path:line:`` like a compiler error."""

    def __init__(self, path: str, line: int | None, message: str):
        super().__init__(f"{path}:{line}: {message}" if line is not None else f"{path}: {message}")
        self.path = path
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Expected:
    doc: str
    pages: tuple[int, ...]


@dataclass(frozen=True)
class EvalCase:
    """One question. ``must_include`` items are tuples of alternatives (a plain string is a 1-tuple)."""

    id: str
    question: str
    lang: str
    expected: tuple[Expected, ...]
    must_include: tuple[tuple[str, ...], ...]
    abstain: bool
    source: str = ""  # "file:line", for messages

    @property
    def expected_pages(self) -> frozenset[tuple[str, int]]:
        return frozenset((e.doc, p) for e in self.expected for p in e.pages)

    @property
    def answerable(self) -> bool:
        return not self.abstain

    def to_dict(self) -> dict[str, Any]:
        """The case in dataset form (alternatives lists only where there is more than one)."""
        return {
            "id": self.id,
            "question": self.question,
            "lang": self.lang,
            "expected": [{"doc": e.doc, "pages": list(e.pages)} for e in self.expected],
            "must_include": [alts[0] if len(alts) == 1 else list(alts) for alts in self.must_include],
            "abstain": self.abstain,
        }


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _nonempty_str(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def parse_case(record: object, path: str = "<record>", line: int = 0) -> EvalCase:
    """Validate one decoded JSON value and turn it into an ``EvalCase``; raises ``DatasetError``."""

    def fail(message: str) -> DatasetError:
        return DatasetError(path, line, message)

    if not isinstance(record, Mapping):
        raise fail(f"expected a JSON object, got {type(record).__name__}")
    missing = [f for f in FIELDS if f not in record]
    if missing:
        raise fail(f"missing field(s): {', '.join(missing)}")
    unknown = sorted(set(record) - set(FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        raise fail(f"unknown field(s): {', '.join(unknown)} (allowed: {', '.join(FIELDS + OPTIONAL_FIELDS)})")

    case_id, question, lang = record["id"], record["question"], record["lang"]
    if not _nonempty_str(case_id):
        raise fail("'id' must be a non-empty string")
    if not _nonempty_str(question):
        raise fail(f"{case_id}: 'question' must be a non-empty string")
    if lang not in LANGS:
        raise fail(f"{case_id}: 'lang' must be one of {', '.join(LANGS)}, got {lang!r}")
    abstain = record["abstain"]
    if not isinstance(abstain, bool):
        raise fail(f"{case_id}: 'abstain' must be true or false, got {abstain!r}")

    expected_raw = record["expected"]
    if not isinstance(expected_raw, list):
        raise fail(f'{case_id}: \'expected\' must be a list of {{"doc", "pages"}} objects')
    expected: list[Expected] = []
    for i, item in enumerate(expected_raw):
        where = f"{case_id}: expected[{i}]"
        if not isinstance(item, Mapping) or set(item) != {"doc", "pages"}:
            raise fail(f"{where} must be an object with exactly 'doc' and 'pages'")
        if not _nonempty_str(item["doc"]):
            raise fail(f"{where}.doc must be a non-empty document id (the PDF file name without .pdf)")
        pages = item["pages"]
        if not isinstance(pages, list) or not pages or not all(_is_int(p) and p >= 1 for p in pages):
            raise fail(f"{where}.pages must be a non-empty list of 1-based page numbers, got {pages!r}")
        expected.append(Expected(item["doc"], tuple(dict.fromkeys(pages))))

    facts_raw = record["must_include"]
    if not isinstance(facts_raw, list):
        raise fail(f"{case_id}: 'must_include' must be a list")
    facts: list[tuple[str, ...]] = []
    for i, item in enumerate(facts_raw):
        alternatives = [item] if isinstance(item, str) else item
        if (
            not isinstance(alternatives, list)
            or not alternatives
            or not all(_nonempty_str(a) for a in alternatives)
        ):
            raise fail(
                f"{case_id}: must_include[{i}] must be a non-empty string or a non-empty list of "
                f"non-empty strings (any one of them), got {item!r}"
            )
        facts.append(tuple(alternatives))

    if abstain and (expected or facts):
        raise fail(f"{case_id}: an abstain case must have empty 'expected' and 'must_include'")
    if not abstain and not expected:
        raise fail(
            f"{case_id}: an answerable case needs at least one expected page "
            '(or set "abstain": true if no document answers it)'
        )
    return EvalCase(
        id=case_id,
        question=question.strip(),
        lang=lang,
        expected=tuple(expected),
        must_include=tuple(facts),
        abstain=abstain,
        source=f"{path}:{line}",
    )


def parse_lines(lines: Iterable[bytes | str], path: str = "<lines>") -> list[EvalCase]:
    """Cases from raw lines; blank lines and ``//`` comment lines are skipped; ids must be unique."""
    cases: list[EvalCase] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise DatasetError(
                    path, number, f"not UTF-8 text ({exc.reason} at byte {exc.start})"
                ) from None
        text = raw.strip()
        if not text or text.startswith("//"):
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DatasetError(path, number, f"not valid JSON: {exc.msg} (column {exc.colno})") from None
        case = parse_case(record, path, number)
        if case.id in seen:
            raise DatasetError(path, number, f"duplicate id {case.id!r} (first used on line {seen[case.id]})")
        seen[case.id] = number
        cases.append(case)
    return cases


def load_dataset(path: Path | str) -> list[EvalCase]:
    """One JSONL file; an empty file is an error because a run over nothing would look like a pass."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(str(path), None, f"cannot read: {exc.strerror or exc}") from None
    cases = parse_lines(data.splitlines(), str(path))
    if not cases:
        raise DatasetError(str(path), None, "no eval cases in the file")
    return cases


def load_datasets(paths: Sequence[Path | str]) -> list[EvalCase]:
    """Several files scored as one set; an id used in two files is an error (results are keyed by id)."""
    cases: list[EvalCase] = []
    first: dict[str, str] = {}
    for path in paths:
        for case in load_dataset(path):
            if case.id in first:
                file, _, line = case.source.rpartition(":")
                raise DatasetError(file, int(line), f"id {case.id!r} is already used at {first[case.id]}")
            first[case.id] = case.source
            cases.append(case)
    return cases
