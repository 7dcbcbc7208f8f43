"""Typed errors: a stable code, a kind the shells map, and the message a client sees."""

from __future__ import annotations

from core.errors import (
    EmbedderMismatch,
    FeedbackUnavailable,
    Kind,
    PolicyQAError,
    StorageFailure,
    StoreUnavailable,
    UnknownDocuments,
    UploadRejected,
    without_paths,
)


def test_unknown_documents_name_what_is_missing() -> None:
    error = UnknownDocuments(["a", "b"])
    assert (error.code, error.kind) == ("unknown_document", Kind.NOT_FOUND)
    assert error.details == {"missing": ["a", "b"]} and "a, b" in error.message


def test_an_unreachable_index_says_to_retry_and_when() -> None:
    error = StoreUnavailable("connection refused")
    assert error.kind is Kind.UNAVAILABLE and error.retry_after_s == 5
    assert error.public_message().startswith("the document index (Chroma) cannot be reached right now")
    assert "connection refused" in error.public_message()


def test_a_full_or_read_only_disk_is_not_worth_retrying_soon() -> None:
    error = StorageFailure("the disk is full")
    assert isinstance(error, StoreUnavailable) and error.code == "storage_failure"
    assert error.retry_after_s is None and error.public_message() == "the disk is full"


def test_a_code_and_kind_can_be_given_per_instance_without_changing_the_class() -> None:
    rejected = UploadRejected("not a PDF", code="not_pdf", kind=Kind.UNSUPPORTED)
    assert (rejected.code, rejected.kind) == ("not_pdf", Kind.UNSUPPORTED)
    assert (UploadRejected.code, UploadRejected.kind) == ("ingest_failed", Kind.INVALID)
    full = FeedbackUnavailable("cap reached", code="feedback_full", kind=Kind.STORAGE_FULL)
    assert full.kind is Kind.STORAGE_FULL and FeedbackUnavailable("x").kind is Kind.UNAVAILABLE


def test_every_error_a_shell_sees_is_a_policyqa_error() -> None:
    for error in (UnknownDocuments(["x"]), StoreUnavailable("x"), EmbedderMismatch("x"), UploadRejected("x")):
        assert isinstance(error, PolicyQAError) and error.code and isinstance(error.kind, Kind)


def test_storage_errors_name_no_server_path_to_clients() -> None:
    failure = StorageFailure("the index under /srv/policyqa/data/chroma cannot be written: it is read-only")
    assert failure.public_message() == "the index under …/chroma cannot be written: it is read-only"
    assert "/srv/policyqa/data/chroma" in failure.message  # the operator's CLI still names the folder
    outage = StoreUnavailable("unable to open /var/lib/x/chroma.sqlite3")
    assert "/var/lib" not in outage.public_message() and "…/chroma.sqlite3" in outage.public_message()
    assert without_paths("Chroma server at http://10.0.0.5:8001/api/v2 is down") == (
        "Chroma server at http://10.0.0.5:8001/api/v2 is down"
    )
