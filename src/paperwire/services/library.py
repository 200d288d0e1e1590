"""The personal library as actions: save, lists, feedback marks, followed topics, list
imports and exports. Web handlers, the CLI and jobs call these; SQL stays in ``store/``.

Invariants:
- **Only the member's own things.** Every action takes the acting ``user`` and changes only
  that member's rows; a list id of someone else is NotFound (as a private list is for every
  reader but its owner), never a 403 that would tell it exists.
- **Idempotent.** Saving, adding, marking, following twice changes nothing the second time;
  an import run twice adds and queues nothing new.
- **Nothing is lost on import.** Every input line ends as added, already there, queued for
  arXiv (a ``pending_imports`` row the ``library-imports`` job completes) or an error naming
  the line and the reason. arXiv is asked once per import for all unknown ids, outside any
  database transaction; when it cannot be reached the ids are queued, not dropped.
- A list is private until its owner makes it public; making it private again drops its
  followers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from paperwire.config import Settings
from paperwire.digest.topics import MAX_TOPIC_CHARS, clean_text
from paperwire.errors import BadInput, NotFound, PaperwireError
from paperwire.services.library_parse import Line, parse_any
from paperwire.store import authors as authors_store
from paperwire.store import library as store
from paperwire.store import lists as list_store
from paperwire.store.db import Database
from paperwire.store.library_models import PaperList
from paperwire.store.models import Paper, User

log = logging.getLogger(__name__)

MAX_LIST_NAME = 100
MAX_LISTS = 200
MAX_TOPICS = 50


# --- validation ------------------------------------------------------------------------------


def clean_list_name(raw: str | None) -> str:
    name = clean_text(raw or "")
    if not name:
        raise BadInput("a list needs a name")
    if len(name) > MAX_LIST_NAME:
        raise BadInput(
            f"a list name has at most {MAX_LIST_NAME} characters; this one has {len(name)}"
        )
    return name


def clean_topic(raw: str | None) -> str:
    """A followed topic is a search query, validated as digest topics are."""
    from paperwire.digest.topics import validate_topics

    value = clean_text(raw or "")
    if not value:
        raise BadInput("a topic needs some words to search for")
    if len(value) > MAX_TOPIC_CHARS:
        raise BadInput(f"a topic has at most {MAX_TOPIC_CHARS} characters")
    try:
        (topic,) = validate_topics([{"kind": "query", "value": value}])
    except BadInput as exc:
        raise BadInput(str(exc).replace("topic 1 ", "the topic ", 1)) from None
    return str(topic["value"])


# --- saves and marks -------------------------------------------------------------------------


@dataclass(frozen=True)
class PaperMarks:
    paper_id: str
    saved: bool
    feedback: str | None  # "more" | "less" | None
    lists: list[int]  # ids of the member's lists holding the paper


def marks(db: Database, user_id: int, paper_id: str) -> PaperMarks:
    with db.session() as s:
        return PaperMarks(
            paper_id,
            paper_id in store.saved_paper_ids(s, user_id, [paper_id]),
            store.feedback_for(s, user_id, [paper_id]).get(paper_id),
            sorted(list_store.lists_containing(s, user_id, paper_id)),
        )


def save(
    db: Database,
    user_id: int,
    paper_id: str,
    *,
    saved: bool = True,
    list_ids: list[int] | None = None,
) -> PaperMarks:
    """Save (or unsave) a paper; ``list_ids`` also puts it in those lists of the member."""
    with db.session() as s:
        if saved:
            store.save_paper(s, user_id, paper_id)
        else:
            store.unsave_paper(s, user_id, paper_id)
        for list_id in list_ids or ():
            list_store.get_owned(s, user_id, list_id)
            list_store.add_item(s, list_id, paper_id)
    return marks(db, user_id, paper_id)


def toggle_save(db: Database, user_id: int, paper_id: str) -> PaperMarks:
    with db.session() as s:
        if not store.unsave_paper(s, user_id, paper_id):
            store.save_paper(s, user_id, paper_id)
    return marks(db, user_id, paper_id)


def set_feedback(db: Database, user_id: int, paper_id: str, kind: str | None) -> PaperMarks:
    if kind not in (None, *store.FEEDBACK_KINDS):
        raise BadInput(f"feedback must be one of more, less or none; not {kind!r}")
    with db.session() as s:
        store.set_feedback(s, user_id, paper_id, kind)
    return marks(db, user_id, paper_id)


def card_marks(db: Database, user: User | None, paper_ids: Iterable[str]) -> dict[str, Any]:
    """What the cards of a page show for ``user``: ``{"saved": set, "feedback": dict}``
    (empty for anonymous visitors; two statements otherwise)."""
    if user is None:
        return {"saved": set(), "feedback": {}}
    ids = list(paper_ids)
    with db.session() as s:
        return {
            "saved": store.saved_paper_ids(s, user.id, ids),
            "feedback": store.feedback_for(s, user.id, ids),
        }


# --- lists -----------------------------------------------------------------------------------


def create_list(db: Database, user_id: int, name: str, *, is_public: bool = False) -> PaperList:
    name = clean_list_name(name)
    with db.session() as s:
        if len(list_store.lists_of(s, user_id)) >= MAX_LISTS:
            raise BadInput(f"you have {MAX_LISTS} lists already; delete one first")
        return list_store.create_list(s, user_id, name, is_public=is_public)


def rename_list(db: Database, user_id: int, list_id: int, name: str) -> PaperList:
    name = clean_list_name(name)
    with db.session() as s:
        return list_store.rename_owned(s, user_id, list_id, name)


def set_public(db: Database, user_id: int, list_id: int, is_public: bool) -> PaperList:
    with db.session() as s:
        return list_store.set_public_owned(s, user_id, list_id, is_public)


def delete_list(db: Database, user_id: int, list_id: int) -> None:
    with db.session() as s:
        list_store.delete_owned(s, user_id, list_id)


def add_to_list(db: Database, user_id: int, list_id: int, paper_id: str) -> bool:
    with db.session() as s:
        list_store.get_owned(s, user_id, list_id)
        store.require_visible_paper(s, paper_id)
        return list_store.add_item(s, list_id, paper_id)


def remove_from_list(db: Database, user_id: int, list_id: int, paper_id: str) -> bool:
    with db.session() as s:
        list_store.get_owned(s, user_id, list_id)
        return list_store.remove_item(s, list_id, paper_id)


def follow_list(db: Database, user_id: int, list_id: int, follow: bool = True) -> bool:
    with db.session() as s:
        if follow:
            return list_store.follow(s, user_id, list_id)
        return list_store.unfollow(s, user_id, list_id)


# --- followed topics -------------------------------------------------------------------------


def follow_topic(db: Database, user_id: int, raw: str) -> str:
    topic = clean_topic(raw)
    with db.session() as s:
        if store.count_followed_topics(s, user_id) >= MAX_TOPICS:
            raise BadInput(f"you follow {MAX_TOPICS} topics already; unfollow one first")
        store.follow_topic(s, user_id, topic)
    return topic


def unfollow_topic(db: Database, user_id: int, topic: str) -> bool:
    with db.session() as s:
        return store.unfollow_topic(s, user_id, topic)


def clear_signals(db: Database, user_id: int) -> None:
    """ "Clear all": upvotes, saves, marks, topics, list contents, followed lists and
    followed authors go; the lists themselves stay (empty), so a public list's address keeps
    working."""
    from paperwire.store import votes

    with db.session() as s:
        sig = store.member_signals(s, user_id)
        for paper_id, _ in sig.upvoted:
            votes.remove_vote(s, user_id, paper_id)
        for paper_id, _ in sig.saved:
            store.unsave_paper(s, user_id, paper_id)
        for paper_id, _ in sig.more_like_this + sig.not_interested:
            store.set_feedback(s, user_id, paper_id, None)
        for topic in sig.topics:
            store.unfollow_topic(s, user_id, topic)
        for lst in sig.lists:
            for paper_id in lst.paper_ids:
                list_store.remove_item(s, lst.id, paper_id)
        for followed, _owner in list_store.followed_lists(s, user_id):
            list_store.unfollow(s, user_id, followed.id)
        for key in authors_store.followed_authors(s, user_id):
            authors_store.unfollow(s, user_id, key)


# --- import ----------------------------------------------------------------------------------


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "line N (text): why"

    def summary(self) -> str:
        parts = [f"{len(self.added)} added"]
        if self.already:
            parts.append(f"{len(self.already)} already in the list")
        if self.queued:
            parts.append(f"{len(self.queued)} waiting for arXiv (added when it answers)")
        if self.errors:
            parts.append(
                f"{len(self.errors)} line{'s' if len(self.errors) != 1 else ''} not understood"
            )
        return ", ".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "already": self.already,
            "queued": self.queued,
            "errors": self.errors,
            "summary": self.summary(),
        }


def import_into_list(
    settings: Settings, db: Database, user_id: int, list_id: int, text: str
) -> ImportReport:
    """Add the papers named in ``text`` (pasted ids/URLs, BibTeX or a JSON export)."""
    limit = settings.library_import_max_lines
    with db.session() as s:
        list_store.get_owned(s, user_id, list_id)
    lines = parse_any(text or "")
    if not lines:
        raise BadInput("nothing to import: paste arXiv ids or URLs, or upload a BibTeX file")
    if len(lines) > limit:
        raise BadInput(
            f"at most {limit} papers per import; this one names {len(lines)} "
            "(split it and import the parts; reruns add nothing twice)"
        )
    report = ImportReport(errors=[ln.message for ln in lines if ln.error])
    wanted: dict[str, Line] = {}
    for ln in lines:
        if ln.paper_id and ln.paper_id not in wanted:
            wanted[ln.paper_id] = ln
    with db.session() as s:
        known = (
            {p.id: p.hidden for p in s.query(Paper).filter(Paper.id.in_(list(wanted)))}
            if wanted
            else {}
        )
    unknown = [pid for pid in wanted if pid not in known]
    arxiv_unknown = [pid for pid in unknown if ":" not in pid]
    for pid in unknown:
        if ":" in pid:
            ln = wanted[pid]
            report.errors.append(
                f"line {ln.line} ({ln.text}): no paper with this id here "
                "(only arXiv papers can be fetched)"
            )
    unreachable = False
    if arxiv_unknown:
        unreachable, missing = _fetch(settings, db, arxiv_unknown)
        for pid in missing:
            ln = wanted[pid]
            report.errors.append(f"line {ln.line} ({ln.text}): arXiv has no paper {pid}")
    with db.session() as s:
        now_known = (
            {p.id: p.hidden for p in s.query(Paper).filter(Paper.id.in_(list(wanted)))}
            if wanted
            else {}
        )
        for pid, ln in wanted.items():
            if pid in now_known:
                if now_known[pid]:
                    report.errors.append(
                        f"line {ln.line} ({ln.text}): paper {pid} was removed by the moderators"
                    )
                elif list_store.add_item(s, list_id, pid):
                    report.added.append(pid)
                else:
                    report.already.append(pid)
            elif unreachable and ":" not in pid:
                list_store.queue_import(s, list_id, pid)
                report.queued.append(pid)
    return report


def _fetch(settings: Settings, db: Database, ids: list[str]) -> tuple[bool, list[str]]:
    """Ask arXiv for ``ids``: (unreachable, ids arXiv said it does not have)."""
    from paperwire.ingest.arxiv_api import fetch_many
    from paperwire.search.notify import announcer

    try:
        fetch_many(settings, db, ids, interactive=True, on_change=announcer(settings, db))
    except NotFound:
        with db.session() as s:
            have = {p.id for p in s.query(Paper.id).filter(Paper.id.in_(ids))}
        return False, [pid for pid in ids if pid not in have]
    except (PaperwireError, OSError) as exc:
        log.warning("library import: arXiv fetch of %d ids failed: %s", len(ids), exc)
        return True, []
    return False, []


def complete_pending(
    settings: Settings, db: Database, *, progress: bool = False, batch: int = 100
) -> str:
    """The ``library-imports`` job: ask arXiv again for every queued id, add the papers it
    returns to their lists, mark the ones it does not know as failed (shown on the list
    page). Idempotent; arXiv down again leaves the queue as it was."""
    from tqdm import tqdm

    from paperwire.ingest.arxiv_api import fetch_many
    from paperwire.search.notify import announcer

    with db.session() as s:
        ids = list_store.pending_ids(s, limit=10000)
    added = failed = 0
    for start in tqdm(
        range(0, len(ids), batch), disable=not progress, unit="batch", desc="pending imports"
    ):
        chunk = ids[start : start + batch]
        try:
            fetch_many(settings, db, chunk, on_change=announcer(settings, db))
        except NotFound:
            pass
        except (PaperwireError, OSError) as exc:
            with db.session() as s:
                for pid in chunk:
                    list_store.fail_import(
                        s, pid, f"arXiv could not be reached: {exc}", final=False
                    )
            return f"arXiv unreachable; {len(ids) - start} ids stay queued"
        with db.session() as s:
            have = {p.id for p in s.query(Paper.id).filter(Paper.id.in_(chunk))}
            for pid in chunk:
                if pid in have:
                    added += list_store.complete_import(s, pid, pid)
                else:
                    list_store.fail_import(s, pid, f"arXiv has no paper {pid}", final=True)
                    failed += 1
    return f"{added} queued papers added to lists, {failed} unknown to arXiv"
