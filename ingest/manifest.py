"""The corpus manifest: metadata for documents we know by name."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

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
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    entries = {}
    for raw in data.get("document", []):
        known = {k: v for k, v in raw.items() if k in ManifestEntry.__dataclass_fields__}
        entry = ManifestEntry(**known)
        entries[entry.doc_id] = entry
    return entries


def missing_documents(manifest: dict[str, ManifestEntry], present: set[str]) -> list[ManifestEntry]:
    return [entry for doc_id, entry in manifest.items() if doc_id not in present]
