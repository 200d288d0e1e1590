"""arXiv API (Atom) lookups by id: `paperwire fetch` and the web's "submit a paper".

Invariants:
- Ids are validated locally first (``normalize_arxiv_id``): a malformed id is ``BadInput``
  and no request is made.
- Up to 100 ids go in one request; requests are paced like every arXiv call (``http.Pacer``).
- An id arXiv does not know is ``NotFound``; an id arXiv calls malformed is ``BadInput`` with
  arXiv's message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from paperwire.errors import BadInput, NotFound
from paperwire.ingest.arxiv_ids import normalize_arxiv_id
from paperwire.ingest.atom_parse import AtomError, parse_atom
from paperwire.ingest.http import Pacer, RemoteError
from paperwire.ingest.items import PapersChanged, announce
from paperwire.records import PaperRecord
from paperwire.store.papers import get_paper, upsert_papers

log = logging.getLogger(__name__)

MAX_IDS_PER_REQUEST = 100


def lookup(
    settings,
    query_ids: Sequence[str],
    *,
    pacer: Pacer | None = None,
    sleep: Callable[[float], None] = time.sleep,
    interactive: bool = False,
) -> dict[str, PaperRecord]:
    """Ask the arXiv API for these ids (as arXiv spells them, version optional).

    Returns {paper id without version: record} for the papers arXiv knows; raises BadInput
    when arXiv says an id is malformed."""
    own = pacer is None
    pacer = pacer or Pacer(settings, sleep=sleep, interactive=interactive)
    found: dict[str, PaperRecord] = {}
    try:
        for start in range(0, len(query_ids), MAX_IDS_PER_REQUEST):
            chunk = list(query_ids[start : start + MAX_IDS_PER_REQUEST])
            # The parameter set arXiv's own client sends; the order is irrelevant to the API.
            params = {
                "search_query": "",
                "id_list": ",".join(chunk),
                "sortBy": "relevance",
                "sortOrder": "descending",
                "start": "0",
                "max_results": str(MAX_IDS_PER_REQUEST),
            }
            response = pacer.get(settings.arxiv_api_url, params, what="arXiv API")
            if response.status_code not in (200, 400):
                raise RemoteError(
                    f"arXiv API answered HTTP {response.status_code} for {', '.join(chunk)}"
                )
            try:
                reply = parse_atom(response.content)
            except AtomError as exc:
                raise RemoteError(f"arXiv API sent a broken reply: {exc}") from None
            if reply.errors:
                raise BadInput(f"arXiv rejected the id: {'; '.join(reply.errors)}")
            if response.status_code == 400:
                raise BadInput(f"arXiv rejected the request for {', '.join(chunk)}")
            for reason in reply.rejected:
                log.warning("arXiv API sent a record Paperwire cannot use: %s", reason)
            for record in reply.records:
                found[record.id] = record
    finally:
        if own:
            pacer.close()
    return found


def fetch_many(
    settings,
    db,
    raw_ids: Sequence[str],
    *,
    sleep: Callable[[float], None] = time.sleep,
    interactive: bool = False,
    on_change: PapersChanged | None = None,
) -> list[tuple[str, str]]:
    """Fetch and store papers; returns [(paper id, new|updated|unchanged)]. ``on_change`` is
    told the new and updated ones after they committed.

    Every id is validated before any request; ids arXiv does not know raise NotFound after
    the known ones were stored."""
    wanted: dict[str, str] = {}  # query id (as asked, with version) -> paper id
    for raw in raw_ids:
        pid, version = normalize_arxiv_id(raw)
        wanted[f"{pid}v{version}" if version else pid] = pid
    found = lookup(settings, list(wanted), sleep=sleep, interactive=interactive)
    missing = [q for q, pid in wanted.items() if pid not in found]
    results: list[tuple[str, str]] = []
    if found:
        with db.session() as session:
            result = upsert_papers(session, found.values())
        new, updated = set(result.new_ids), set(result.updated_ids)
        for pid in dict.fromkeys(wanted.values()):
            if pid in found:
                results.append(
                    (pid, "new" if pid in new else "updated" if pid in updated else "unchanged")
                )
        announce(on_change, sorted(new | updated))
    if missing:
        stored = f" (stored: {', '.join(p for p, _ in results)})" if results else ""
        raise NotFound(f"arXiv has no paper {', '.join(missing)}{stored}")
    return results


def fetch_and_store(
    settings,
    db,
    id_or_url: str,
    *,
    refresh: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    interactive: bool = False,
    on_change: PapersChanged | None = None,
) -> tuple[str, bool]:
    """Make sure a paper is stored; returns (paper id, created). ``interactive``: a person
    waits (short timeout, no retries; see ``http.Pacer``).

    Without ``refresh``, a paper already stored is returned as is and arXiv is not asked.
    Raises BadInput for a malformed id or URL and NotFound for an id arXiv does not know."""
    pid, _version = normalize_arxiv_id(id_or_url)
    if not refresh:
        with db.session() as session:
            if get_paper(session, pid) is not None:
                return pid, False
    results = fetch_many(
        settings, db, [id_or_url], sleep=sleep, interactive=interactive, on_change=on_change
    )
    return pid, results[0][1] == "new"
