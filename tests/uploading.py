"""Uploading through the HTTP API: post the file (202 and a job), then poll the job until it is done.

Works with FastAPI's TestClient and with an ``httpx.Client`` on a served app alike.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

FINISHED = ("succeeded", "failed")


def post_upload(
    client: Any,
    path_or_bytes: Path | bytes,
    *,
    headers: dict[str, str],
    filename: str | None = None,
    doc_id: str | None = None,
    allow_duplicate: bool = False,
) -> Any:
    content = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    name = filename or (path_or_bytes.name if isinstance(path_or_bytes, Path) else "upload.pdf")
    data = {"doc_id": doc_id} if doc_id is not None else {}
    if allow_duplicate:
        data["allow_duplicate"] = "true"
    return client.post(
        "/v1/documents",
        files={"file": (name, content, "application/pdf")},
        data=data or None,
        headers=headers,
    )


def finished_job(client: Any, accepted: Any, *, headers: dict[str, str], timeout_s: float = 120) -> dict:
    """The job of an accepted upload once it has succeeded or failed."""
    assert accepted.status_code == 202, accepted.text
    location = accepted.headers["location"]
    assert location == accepted.json()["url"] == f"/v1/jobs/{accepted.json()['job_id']}"
    deadline = time.monotonic() + timeout_s
    while True:
        response = client.get(location, headers=headers)
        assert response.status_code == 200, response.text
        job = response.json()
        if job["status"] in FINISHED:
            return job
        assert time.monotonic() < deadline, f"the upload job did not finish within {timeout_s:.0f} s: {job}"
        time.sleep(0.05)


def upload_and_wait(
    client: Any, path_or_bytes: Path | bytes, *, headers: dict[str, str], **form: Any
) -> dict:
    return finished_job(client, post_upload(client, path_or_bytes, headers=headers, **form), headers=headers)
