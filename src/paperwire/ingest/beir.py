"""Parse one document of a BEIR corpus (``{"_id", "title", "text"}``), used for evaluation.

Ids become ``beir:<_id>`` so an evaluation corpus never collides with arXiv papers. The title
may be empty (some BEIR corpora have none); text is kept whole.
"""

from __future__ import annotations

from typing import Any

from paperwire.ingest.items import Item, RecordError
from paperwire.ingest.schema import checked, input_shape, validate_input
from paperwire.ingest.text import collapse
from paperwire.records import PaperRecord

_INPUT = input_shape("BeirDocument", {"_id": str | int, "title": str | None, "text": str})


def parse_beir(obj: Any) -> Item:
    if not isinstance(obj, dict):
        raise RecordError(f"record: expected a JSON object, got {type(obj).__name__}")
    obj = validate_input(_INPUT, obj)
    raw_id = obj.get("_id")
    if raw_id is None or str(raw_id).strip() == "":
        raise RecordError("_id: missing or empty")
    pid = f"beir:{str(raw_id).strip()}"
    if len(pid) > 64:
        raise RecordError(f"_id: too long ({len(pid)} characters, at most 64)")
    text = obj.get("text")
    if text is None:
        raise RecordError("text: missing")
    return checked(
        Item(
            PaperRecord(
                id=pid, source="beir", title=collapse(obj.get("title")), abstract=collapse(text)
            )
        )
    )
