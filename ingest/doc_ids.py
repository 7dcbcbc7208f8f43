"""The one rule for document ids, shared by the CLI's ingest and the API's uploads.

A document id is the PDF's file name without ``.pdf`` (NFC). It appears in citation URLs
(``/v1/documents/{doc_id}/pdf``) and names the stored upload, so it must be a plain word:
1–128 letters (any script), digits, ``_``, ``.`` or ``-``, starting with a letter or digit.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

_SAFE_ID = re.compile(r"\w[\w.\-]{0,127}")  # \w is Unicode-aware: Japanese names are fine
RULE = "1-128 letters, digits, '_', '.' or '-', starting with a letter or digit"


def is_safe_doc_id(value: str) -> bool:
    return bool(_SAFE_ID.fullmatch(value))


def doc_id_of(path: Path) -> tuple[str | None, str | None, str | None]:
    """(doc_id, None, None) for a usable file name, else (None, error_code, message).

    A name that is not valid UTF-8 (what unzipping a Windows archive gives: Shift_JIS bytes) is
    reported with its bytes escaped, so one odd file never stops a whole ingest."""
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path.name).decode("utf-8", "backslashreplace")
        return (
            None,
            "undecodable_file_name",
            (
                f"{shown}: the file name is not valid UTF-8 (Shift_JIS from a Windows archive?); rename the file"
            ),
        )
    stem = unicodedata.normalize("NFC", path.stem if path.suffix.lower() == ".pdf" else path.name)
    if not is_safe_doc_id(stem):
        return (
            None,
            "invalid_doc_id",
            (f"{path.name}: the file name does not make a document id ({RULE}); rename the file"),
        )
    return stem, None, None
