"""The corpus manifest: metadata for documents we know by name."""

from __future__ import annotations

import datetime
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ManifestError

MANIFEST_NAME = "manifest.toml"


@dataclass(frozen=True)
class ManifestEntry:
    doc_id: str
    title: str
    publisher: str = ""
    date: str = ""
    language: str = "ja"
    landing_page: str = ""
    licence: str = ""
    bundled: bool = False


def load_manifest(corpus_dir: Path) -> dict[str, ManifestEntry]:
    """Entries by doc_id; an absent manifest is simply empty."""
    path = corpus_dir / MANIFEST_NAME
    if not path.exists():
        return {}
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise ManifestError(f"{path}: not UTF-8 text; save it as UTF-8 (TOML files must be)") from None
    entries = {}
    documents = data.get("document", [])
    if not isinstance(documents, list):
        raise ManifestError(f"{path}: documents must be [[document]] tables")
    for n, raw in enumerate(documents, start=1):
        if (
            not isinstance(raw, dict)
            or not isinstance(raw.get("doc_id"), str)
            or not raw["doc_id"]
            or not isinstance(raw.get("title"), str)
        ):
            raise ManifestError(f"{path}: [[document]] number {n} needs a doc_id and a title")
        known = {
            k: _field_value(path, n, k, v) for k, v in raw.items() if k in ManifestEntry.__dataclass_fields__
        }
        entry = ManifestEntry(**known)
        if entry.doc_id in entries:
            raise ManifestError(f"{path}: doc_id {entry.doc_id!r} is listed twice")
        entries[entry.doc_id] = entry
    return entries


def _field_value(path: Path, n: int, name: str, value: Any) -> Any:
    """A field as the entry stores it: an unquoted TOML date (``date = 2024-05-01``) becomes its
    ISO text, as it would be if quoted; any other value of the wrong type is reported."""
    if name == "bundled":
        if not isinstance(value, bool):
            raise ManifestError(f"{path}: [[document]] number {n}: bundled must be true or false")
        return value
    if isinstance(value, (datetime.date, datetime.time)):  # datetime.datetime is a date too
        return value.isoformat()
    if not isinstance(value, str):
        raise ManifestError(
            f"{path}: [[document]] number {n}: {name} must be text, not {type(value).__name__}"
        )
    return value


def missing_documents(manifest: dict[str, ManifestEntry], present: set[str]) -> list[ManifestEntry]:
    return [entry for doc_id, entry in manifest.items() if doc_id not in present]
