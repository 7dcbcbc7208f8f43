"""Waiting for a `policyqa serve` child process to answer, for tests that start one."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx


def log_tail(path: Path, n: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-n:]) if path.exists() else ""


def wait_until_serving(proc: subprocess.Popen, url: str, log: Path, timeout_s: float = 180) -> None:
    """Poll ``url`` until it answers 200; fail with the server's log if it exits or never does."""
    deadline = time.monotonic() + timeout_s
    while True:
        assert proc.poll() is None, f"policyqa serve exited with {proc.returncode}:\n{log_tail(log)}"
        assert time.monotonic() < deadline, f"policyqa serve did not come up:\n{log_tail(log)}"
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
