"""Property-based fuzzing of every operation in the app's OpenAPI schema with schemathesis.

Cases come from the schema itself through schemathesis' Hypothesis strategies: valid bodies
(positive mode) and bodies that break the schema (negative mode: wrong types, missing fields,
out-of-range numbers, odd strings). Requests go to the ASGI app in-process, with the admin token
so that uploads and deletes are exercised too, over a private copy of the deck's index.

Checks on every response: never a 5xx; status code, content type and body as documented in the
schema; and every 4xx in the one error shape. Bounded: MAX_EXAMPLES per operation and mode, no
deadline (the whole file takes about a minute or two).

(schemathesis' own ``@schema.parametrize()`` with ``from_fixture`` does not work with the
installed pytest 9, hence ``as_strategy`` with ``@given``.)
"""

from __future__ import annotations

import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.settings import Settings
from policyqa.api import create_app
from rag.service import PolicyQA

pytestmark = pytest.mark.slow

TOKEN = "fuzz-token"
MAX_EXAMPLES = 25
OPERATIONS = [
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/v1/answer"),
    ("POST", "/v1/answer/stream"),
    ("POST", "/v1/search"),
    ("POST", "/v1/feedback"),
    ("GET", "/v1/documents"),
    ("GET", "/v1/documents/{doc_id}"),
    ("GET", "/v1/documents/{doc_id}/pages/{page}"),
    ("GET", "/v1/documents/{doc_id}/pdf"),
    ("POST", "/v1/documents"),
    ("DELETE", "/v1/documents/{doc_id}"),
    ("GET", "/v1/jobs/{job_id}"),
]


@pytest.fixture
def api_schema(deck_settings, embedder, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(deck_settings.data_dir, data)
    app_settings = Settings(
        data_dir=data, corpus_dir=deck_settings.corpus_dir, admin_token=TOKEN, max_upload_mb=1
    )
    app = create_app(app_settings, PolicyQA(app_settings, embedder=embedder))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def error_shape(ctx, response, case) -> None:
    """Every error has exactly {"error": {"code", "message"[, "details"]}}."""
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"}, body
        assert isinstance(body["error"]["code"], str) and body["error"]["code"], body
        assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
        assert set(body["error"]) <= {"code", "message", "details"}, body


def test_the_schema_lists_every_operation(api_schema):
    found = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


# Operations whose only inputs are free-form path strings (or nothing) have no invalid input to generate.
NOTHING_TO_NEGATE = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/v1/documents"),
    ("GET", "/v1/documents/{doc_id}"),
    ("GET", "/v1/documents/{doc_id}/pdf"),
}
CASES = [(m, p, GenerationMode.POSITIVE) for m, p in OPERATIONS] + [
    (m, p, GenerationMode.NEGATIVE) for m, p in OPERATIONS if (m, p) not in NOTHING_TO_NEGATE
]


@pytest.mark.parametrize("method, path, mode", CASES, ids=[f"{m} {p} {g.value}" for m, p, g in CASES])
def test_no_server_errors(api_schema, method, path, mode):
    operation = api_schema[path][method]
    statuses: list[int] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture,
            HealthCheck.data_too_large,
        ],
    )
    def run(case):
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {TOKEN}"},
            checks=[
                not_a_server_error,
                status_code_conformance,
                content_type_conformance,
                response_schema_conformance,
            ],
            additional_checks=[error_shape],
        )
        statuses.append(response.status_code)

    run()
    assert statuses and all(s < 500 for s in statuses)
