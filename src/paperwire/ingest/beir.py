"""Parse one document of a BEIR corpus (``{"_id", "title", "text"}``), used for evaluation.

Ids become ``beir:<_id>`` so an evaluation corpus never collides with arXiv papers. The title
may be empty (some BEIR corpora have none); text is kept whole.
"""

from __future__ import annotations

from typing import Any

from paperwire.ingest.items import Item, RecordError
from paperwire.ingest.records import PaperRecord
from paperwire.ingest.text import collapse


def parse_beir(obj: Any) -> Item:
    if not isinstance(obj, dict):
        raise RecordError(f"expected a JSON object, got {type(obj).__name__}")
    raw_id = obj.get("_id")
    if raw_id is None or str(raw_id).strip() == "":
        raise RecordError("missing '_id'")
    pid = f"beir:{str(raw_id).strip()}"
    if len(pid) > 64:
        raise RecordError(f"'_id' too long ({len(pid)} characters)")
    text = obj.get("text")
    if not isinstance(text, str):
        raise RecordError("missing 'text'")
    return Item(PaperRecord(id=pid, source="beir", title=collapse(obj.get("title")),
                            abstract=collapse(text)))
