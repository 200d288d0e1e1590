"""Merge rules: what an imported record may change in a paper already stored. Pure.

A record's fidelity is read from the record itself. One with a version history (a non-empty
``versions`` list or a ``version`` number) comes from arXiv (snapshot, API, OAI-PMH) or from
a Paperwire export of such a paper: it is *authoritative* for the bibliographic fields. One
without (Daily Papers, the demo seed, BEIR, exports of such papers) is a *feed* record.

Rules (``merge_records``), for every metadata field but ``id``:

1. An absent or empty value (None, "", [], a count of 0) never erases a stored value.
2. A stored empty value is filled by any record (an older version, a feed record).
3. An authoritative record replaces what a feed record stored. Over an authoritative paper
   it replaces stored values when ``may_replace`` allows it: a newer arXiv version wins, the
   same version refreshes, an older one only fills gaps.
4. A feed record over an arXiv paper only fills gaps: Daily Papers' ``"authors": []`` or its
   name-only authors never replace the snapshot's. Over a paper only feeds know it replaces
   stored values when it is at least as recent (``may_replace`` on the dates).
5. ``versions`` is a history: the union by version number (the replacing side's entry wins
   a tie), oldest first; ``version`` is the newest known; ``author_count`` is at least the
   number of authors kept.

``imported_upvotes`` and the feed entry are not metadata: a source that brings a vote count
sets it, one that brings none (None) leaves it; feed entries are only ever added. Community
data (upvotes, comments, ``hidden``) is never touched by an import (see ``store.papers``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace as dc_replace
from typing import Any

from paperwire.records import METADATA_FIELDS, PaperRecord

_FIELDS = tuple(name for name in METADATA_FIELDS if name not in ("id", "versions", "version"))


def may_replace(
    new_version: int | None,
    new_updated: dt.datetime | None,
    old_version: int | None,
    old_updated: dt.datetime | None,
) -> bool:
    """May metadata with (new_version, new_updated) replace the stored one?

    Versions decide when both are known (the same version may refresh the metadata). Sources
    without version numbers (OAI-PMH, Daily Papers, seed) are judged by their update date: they
    replace a versioned record only when strictly newer (OAI gives dates without time), and a
    versioned record replaces an unversioned one unless it is older.
    """
    if new_version is not None and old_version is not None:
        return new_version >= old_version
    if old_version is None:
        if new_updated is not None and old_updated is not None:
            return new_updated >= old_updated
        return True
    return new_updated is not None and old_updated is not None and new_updated > old_updated


def authoritative(record: PaperRecord) -> bool:
    """Does the record carry an arXiv version history (see the module docstring)?"""
    return bool(record.versions) or record.version is not None


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == 0


def merge_records(stored: PaperRecord, incoming: PaperRecord) -> PaperRecord:
    """The metadata to store when ``incoming`` is imported over ``stored`` (same id)."""
    if authoritative(incoming) != authoritative(stored):
        replaces = authoritative(incoming)  # fidelity decides, whatever the dates say
    else:
        replaces = may_replace(
            incoming.version, incoming.updated_at, stored.version, stored.updated_at
        )
    values: dict[str, Any] = {}
    for name in _FIELDS:
        new, old = getattr(incoming, name), getattr(stored, name)
        values[name] = old if _empty(new) or not (replaces or _empty(old)) else new
    values["versions"] = _versions(stored.versions, incoming.versions, incoming_wins=replaces)
    known = [v for v in (stored.version, incoming.version) if v is not None]
    values["version"] = max(known) if known else None
    values["author_count"] = max(values["author_count"] or 0, len(values["authors"]))
    return dc_replace(stored, **values, imported_upvotes=incoming.imported_upvotes)


def _versions(old: list[Any], new: list[Any], *, incoming_wins: bool) -> list[Any]:
    if not new or new == old:
        return old
    if not old:
        return new
    by_number = {}
    for entry in old + new if incoming_wins else new + old:
        by_number[_number(entry)] = entry
    return [by_number[n] for n in sorted(by_number, key=lambda n: (n is None, n or 0))]


def _number(entry: Any) -> Any:
    return entry.get("version") if isinstance(entry, dict) else None
