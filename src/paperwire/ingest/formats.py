"""The input formats `paperwire import` reads, and how `--format auto` recognises them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from paperwire.errors import BadInput
from paperwire.ingest.beir import parse_beir
from paperwire.ingest.daily_papers import parse_daily_item
from paperwire.ingest.export_format import parse_export
from paperwire.ingest.items import Item
from paperwire.ingest.kaggle import parse_kaggle
from paperwire.ingest.seed import parse_seed

Parser = Callable[[Any], Item]

PARSERS: dict[str, Parser] = {
    "kaggle": parse_kaggle,
    "hf-daily": parse_daily_item,
    "jsonl": parse_export,
    "beir": parse_beir,
    "seed": parse_seed,
}
FORMAT_NAMES = ("auto", *PARSERS)

DESCRIPTIONS = {
    "kaggle": "the arXiv metadata snapshot (JSON Lines with id, authors_parsed, versions...)",
    "hf-daily": "the Daily Papers API JSON (a list of {paper, submittedOnDailyAt, ...})",
    "jsonl": "Paperwire's own export (`paperwire export`)",
    "beir": "a BEIR corpus (JSON Lines with _id, title, text)",
    "seed": "the demo seed (JSON Lines with title, abstract, n_authors, published, upvotes)",
}


def detect_format(first: Any, source: str) -> str:
    """Name the format from the first record's keys; BadInput when nothing fits."""
    if not isinstance(first, dict):
        raise BadInput(
            f"{source}: cannot detect the format: the first record is a "
            f"{type(first).__name__}, not a JSON object; pass --format"
        )
    keys = set(first)
    if "authors_parsed" in keys or (
        {"id", "versions", "abstract"} <= keys
        and isinstance(first.get("versions"), list)
        and isinstance(first.get("authors"), str)
    ):
        return "kaggle"
    if isinstance(first.get("paper"), dict):
        return "hf-daily"
    if "_id" in keys and "text" in keys:
        return "beir"
    if "n_authors" in keys and "title" in keys:
        return "seed"
    if {"id", "source", "title"} <= keys:
        return "jsonl"
    shown = ", ".join(sorted(keys)[:8])
    raise BadInput(
        f"{source}: cannot detect the format from the first record (keys: {shown}); "
        f"pass --format {'|'.join(PARSERS)}"
    )
