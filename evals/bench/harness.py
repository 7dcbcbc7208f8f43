"""Child processes of the benchmark: run one with a deadline and read its own peak RSS, with the
environment and settings every child shares."""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from evals.synthetic import REPO

# ============================================================================ child processes


@dataclass
class ChildRun:
    returncode: int
    wall_s: float
    peak_rss_mb: float  # ru_maxrss of this one child (os.wait4), MiB
    stdout: str
    stderr: str


def run_child(cmd: list[str], *, env: dict[str, str], cwd: Path, timeout_s: float, name: str) -> ChildRun:
    """Run a child to completion (killed at ``timeout_s``) and read its own peak RSS with wait4."""
    cwd.mkdir(parents=True, exist_ok=True)
    out_path, err_path = cwd / f"{name}.stdout", cwd / f"{name}.stderr"
    started = time.perf_counter()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err)
        deadline = time.monotonic() + timeout_s
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                proc.returncode = -signal.SIGKILL
                raise TimeoutError(f"{name} did not finish within {timeout_s:.0f} s (killed); see {err_path}")
            time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    wall = time.perf_counter() - started
    return ChildRun(
        proc.returncode,
        wall,
        round(usage.ru_maxrss / 1024, 1),
        out_path.read_text(encoding="utf-8", errors="replace"),
        err_path.read_text(encoding="utf-8", errors="replace"),
    )


# Settings the benchmark decides itself; every other POLICYQA_* setting (embedder, chunking...) is the caller's.
_OWN_SETTINGS = (
    "DATA_DIR",
    "CORPUS_DIR",
    "CHROMA_URL",
    "LLM_BASE_URL",
    "LLM_MODEL",
    "LLM_API_KEY",
    "ADMIN_TOKEN",
)


def child_env(data_dir: Path, corpus_dir: Path) -> dict[str, str]:
    """Embedded Chroma in ``data_dir``, extractive answers, no uploads."""
    from core.settings import ENV_PREFIX, Settings
    from evals.load import serve_env

    callers = Settings(_env_file=None).as_env()  # the caller's embedder, chunking, ... settings
    keep = {k: v for k, v in callers.items() if k.removeprefix(ENV_PREFIX) not in _OWN_SETTINGS}
    env = serve_env(data_dir, corpus_dir, **keep)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return env


def bench_settings(data_dir: Path, corpus_dir: Path):
    """The in-process Settings matching ``child_env`` (no .env file is read, as in the children)."""
    from core.settings import Settings

    return Settings(
        _env_file=None,
        data_dir=data_dir,
        corpus_dir=corpus_dir,
        chroma_url=None,
        llm_base_url=None,
        llm_model=None,
        llm_api_key=None,
        admin_token=None,
    )


def dir_size_mb(path: Path) -> float:
    """Disk usage as du counts it (allocated blocks), MiB."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return round(total / 2**20, 1)


def machine_facts() -> dict:
    def first(path: str, prefix: str) -> str:
        try:
            with open(path, encoding="utf-8") as fh:
                return next((line.split(":", 1)[1].strip() for line in fh if line.startswith(prefix)), "")
        except OSError:
            return ""

    cpu = first("/proc/cpuinfo", "model name")
    mem = first("/proc/meminfo", "MemTotal")
    mem_gb = round(int(mem.split()[0]) / 2**20, 1) if mem else None
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": mem_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
