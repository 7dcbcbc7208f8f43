"""Bounded HTTP load on a real ``policyqa serve`` process over loopback.

``ServeProcess`` starts ``policyqa serve`` on a free 127.0.0.1 port with a given environment and
reads its peak memory from ``/proc``; ``run_load`` sends ``/v1/answer`` requests from a fixed
number of concurrent clients for a fixed time. Everything is bounded: the run stops at its
deadline, every request has a timeout, and client threads are joined with a timeout.

Used by ``policyqa bench --load`` and by the slow tests.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Self

import httpx
import numpy as np

from core.settings import child_environment

REPO = Path(__file__).resolve().parents[1]
DATASET = REPO / "evals" / "datasets" / "econsec-deck.jsonl"


def eval_questions(path: Path = DATASET) -> list[str]:
    """The eval dataset's questions, in file order."""
    questions = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                questions.append(json.loads(line)["question"])
    return questions


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def latency_summary(ms: Sequence[float]) -> dict:
    """Median and tail of a list of latencies in milliseconds (p95 by linear interpolation)."""
    if not ms:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "mean_ms": None, "max_ms": None}
    arr = np.asarray(ms, dtype=float)
    return {
        "n": int(arr.size),
        "p50_ms": round(float(np.percentile(arr, 50)), 2),
        "p95_ms": round(float(np.percentile(arr, 95)), 2),
        "p99_ms": round(float(np.percentile(arr, 99)), 2),
        "mean_ms": round(float(arr.mean()), 2),
        "max_ms": round(float(arr.max()), 2),
    }


def serve_env(data_dir: Path, corpus_dir: Path, **extra: str) -> dict[str, str]:
    """A child's environment: the caller's, minus its POLICYQA_* settings, plus the given ones."""
    env = child_environment()
    env.update(
        POLICYQA_DATA_DIR=str(data_dir),
        POLICYQA_CORPUS_DIR=str(corpus_dir),
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    env.update(extra)
    return env


def policyqa_command() -> list[str]:
    exe = Path(sys.executable).with_name("policyqa")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "policyqa.cli"]


def proc_status_mb(pid: int, key: str = "VmHWM") -> float | None:
    """A memory figure of a live process from /proc/<pid>/status (VmHWM = peak resident set)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return round(int(line.split()[1]) / 1024, 1)  # kB -> MiB
    except OSError:
        return None
    return None


@dataclass
class ServeProcess:
    """``policyqa serve`` on 127.0.0.1:<free port>, started in ``workdir`` (so no stray .env applies)."""

    env: dict[str, str]
    workdir: Path
    name: str = "serve"
    proc: subprocess.Popen | None = None
    port: int = 0
    started_at: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return Path(self.workdir) / f"{self.name}.log"

    def launch(self) -> ServeProcess:
        Path(self.workdir).mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.started_at = time.perf_counter()
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [*policyqa_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                cwd=self.workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    def wait_until(self, path: str = "/healthz", timeout_s: float = 300.0) -> float:
        """Poll ``path`` until it answers 200; returns the seconds since launch."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc and self.proc.returncode}:\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self.name} did not answer {path} within {timeout_s:.0f} s:\n{self.tail()}"
                )
            try:
                if httpx.get(f"{self.url}{path}", timeout=5).status_code == 200:
                    return time.perf_counter() - self.started_at
            except httpx.HTTPError:
                pass
            time.sleep(0.2)

    def start(self, path: str = "/healthz", timeout_s: float = 300.0) -> ServeProcess:
        self.launch()
        self.wait_until(path, timeout_s)
        return self

    def peak_rss_mb(self) -> float | None:
        return proc_status_mb(self.proc.pid) if self.proc is not None else None

    def tail(self, n: int = 60) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)
        self.proc = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass
class Sample:
    """One request as a client saw it; ``status`` is None when no HTTP response came back."""

    client: int
    started: float  # time.monotonic()
    ms: float
    status: int | None
    error: str | None = None
    body: dict | None = None


@dataclass
class LoadResult:
    clients: int
    seconds: float
    requests: int
    ok: int
    errors: int
    throughput_rps: float
    latency: dict  # all requests
    ok_latency: dict  # 200s only
    statuses: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("samples")
        return data


def run_load(
    url: str,
    questions: Sequence[str],
    *,
    clients: int = 16,
    seconds: float = 60.0,
    timeout_s: float = 30.0,
    path: str = "/v1/answer",
    max_requests: int | None = None,
    keep_bodies: bool = False,
    on_sample: Callable[[Sample], None] | None = None,
    stop: threading.Event | None = None,
) -> LoadResult:
    """``clients`` threads, each with its own connection, POST questions (cycled, each client
    starting at its own offset) back to back until ``seconds`` have passed, ``max_requests``
    were sent or ``stop`` is set. A non-200 status or a failed request counts as an error."""
    if clients < 1 or seconds <= 0 or not questions:
        raise ValueError("need at least one client, a positive duration and some questions")
    samples: list[Sample] = []
    lock = threading.Lock()
    sent = [0]
    started = time.monotonic()
    deadline = started + seconds

    def take() -> bool:
        with lock:
            if max_requests is not None and sent[0] >= max_requests:
                return False
            sent[0] += 1
            return True

    def client(n: int) -> None:
        i = n
        with httpx.Client(base_url=url, timeout=timeout_s) as http:
            while time.monotonic() < deadline and not (stop is not None and stop.is_set()) and take():
                question = questions[i % len(questions)]
                i += clients
                t0 = time.monotonic()
                status, error, body = None, None, None
                try:
                    response = http.post(path, json={"question": question})
                    status = response.status_code
                    if keep_bodies or status != 200:
                        try:
                            body = response.json()
                        except ValueError:
                            body = {"raw": response.text[:500]}
                    if status != 200:
                        error = f"HTTP {status}: {json.dumps(body, ensure_ascii=False)[:300]}"
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"
                sample = Sample(n, t0, (time.monotonic() - t0) * 1000, status, error, body)
                with lock:
                    samples.append(sample)
                if on_sample is not None:
                    on_sample(sample)

    threads = [
        threading.Thread(target=client, args=(n,), daemon=True, name=f"load-{n}") for n in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()) + timeout_s + 10)
    hung = sum(t.is_alive() for t in threads)
    elapsed = time.monotonic() - started
    with lock:
        done = list(samples)
    ok = [s for s in done if s.status == 200]
    errors = [s for s in done if s.status != 200]
    error_samples = [s.error or "" for s in errors[:10]]
    if hung:
        error_samples.insert(0, f"{hung} client thread(s) still running after the deadline")
    statuses = Counter(str(s.status) if s.status is not None else "no_response" for s in done)
    return LoadResult(
        clients=clients,
        seconds=round(elapsed, 2),
        requests=len(done),
        ok=len(ok),
        errors=len(errors) + hung,
        throughput_rps=round(len(ok) / elapsed, 2) if elapsed else 0.0,
        latency=latency_summary([s.ms for s in done]),
        ok_latency=latency_summary([s.ms for s in ok]),
        statuses=dict(sorted(statuses.items())),
        error_samples=error_samples,
        samples=done,
    )
