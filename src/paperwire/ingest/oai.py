"""`paperwire harvest`: new and changed papers from arXiv's OAI-PMH interface.

Invariants:
- One ``ListRecords`` page = one transaction holding the page's papers and the checkpoint
  (``harvest:arxiv``) with the next resumption token. A harvest interrupted at any point
  resumes at the same page when run again with the same (or no) options.
- A finished harvest records the largest datestamp it saw; the next harvest without ``--from``
  starts there (inclusive: re-reading that day is harmless, the upsert is idempotent), so a
  daily cron call is enough. With no history it starts yesterday.
- ``noRecordsMatch`` is an empty harvest, not an error; other OAI-PMH errors and broken XML are
  ``RemoteError``/``BadInput`` with the code and message.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from tqdm import tqdm

from paperwire.errors import BadInput
from paperwire.ingest.http import Pacer, RemoteError
from paperwire.ingest.items import PapersChanged, announce
from paperwire.ingest.oai_parse import OaiError, OaiPage, parse_list_records
from paperwire.store.checkpoints import get_checkpoint, save_checkpoint
from paperwire.store.models import utcnow
from paperwire.store.papers import upsert_papers
from paperwire.store.stats import HARVEST_CHECKPOINT

log = logging.getLogger(__name__)


@dataclass
class HarvestSummary:
    pages: int = 0
    records: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    deleted: int = 0
    from_: str | None = None
    until: str | None = None
    set_: str | None = None
    last_datestamp: str | None = None
    resumed: bool = False

    def line(self) -> str:
        text = (
            f"new {self.new}, updated {self.updated}, unchanged {self.unchanged}, "
            f"rejected {self.rejected}"
        )
        if self.deleted:
            text += f", deleted upstream {self.deleted}"
        window = f"from {self.from_ or '-'} until {self.until or 'now'}"
        if self.set_:
            window += f", set {self.set_}"
        return f"{text} ({window}; last datestamp {self.last_datestamp or '-'})"


def _check_date(value: str | None, option: str) -> str | None:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise BadInput(f"{option} {value!r} is not a date (expected YYYY-MM-DD)") from None


def harvest(
    settings,
    db,
    from_: str | None = None,
    until: str | None = None,
    set_: str | None = None,
    progress: bool = True,
    *,
    sleep: Callable[[float], None] = time.sleep,
    client=None,
    on_change: PapersChanged | None = None,
) -> HarvestSummary:
    """Harvest ListRecords pages into the store; see the module invariants. ``on_change`` is
    told each page's new and changed papers after the page committed."""
    from_ = _check_date(from_, "--from")
    until = _check_date(until, "--until")
    if from_ and until and from_ > until:
        raise BadInput(f"--from {from_} is after --until {until}")
    set_ = set_ if set_ is not None else (settings.harvest_set or None)
    with db.session() as session:
        state = get_checkpoint(session, HARVEST_CHECKPOINT) or {}
    summary = HarvestSummary(until=until, set_=set_)
    token = None
    pending = state.get("pending")
    requested = {"from": from_, "until": until, "set": set_}
    if (
        pending
        and (from_ is None or pending["params"]["from"] == from_)
        and (until is None or pending["params"]["until"] == until)
        and pending["params"]["set"] == set_
    ):
        token = pending["token"]
        requested = pending["params"]
        summary.resumed = True
        summary.pages = pending.get("pages", 0)
        log.info("resuming the interrupted harvest at page %d", summary.pages + 1)
    else:
        if from_ is None:
            from_ = (
                state.get("last_datestamp")
                or (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
            )
            requested["from"] = from_
    summary.from_, summary.until, summary.set_ = (
        requested["from"],
        requested["until"],
        requested["set"],
    )
    max_datestamp = (pending or {}).get("max_datestamp") if summary.resumed else None
    bar = tqdm(
        unit="rec", desc="harvest", file=sys.stderr, disable=not progress, dynamic_ncols=True
    )
    with Pacer(settings, client=client, sleep=sleep) as pacer:
        while True:
            if token:
                params = {"verb": "ListRecords", "resumptionToken": token}
            else:
                params = {"verb": "ListRecords", "metadataPrefix": "arXiv"}
                for key in ("from", "until", "set"):
                    if requested[key]:
                        params[key] = requested[key]
            page = _fetch_page(pacer, settings.arxiv_oai_url, params)
            if page is None:  # the resumption token expired: start the window again
                log.warning(
                    "arXiv no longer knows the resumption token; restarting from %s",
                    requested["from"],
                )
                token = None
                continue
            summary.pages += 1
            if page.complete_list_size and bar.total is None:
                bar.total = page.complete_list_size
            if page.max_datestamp and (max_datestamp is None or page.max_datestamp > max_datestamp):
                max_datestamp = page.max_datestamp
            with db.session() as session:
                result = upsert_papers(session, page.records)
                state = dict(state)
                if page.token:
                    state["pending"] = {
                        "token": page.token,
                        "params": requested,
                        "pages": summary.pages,
                        "max_datestamp": max_datestamp,
                    }
                else:
                    state.pop("pending", None)
                    if max_datestamp and max_datestamp > (state.get("last_datestamp") or ""):
                        state["last_datestamp"] = max_datestamp
                    state["finished_at"] = utcnow().isoformat(timespec="seconds")
                save_checkpoint(session, HARVEST_CHECKPOINT, state)
            summary.records += len(page.records)
            summary.new += result.new
            summary.updated += result.updated
            summary.unchanged += result.unchanged
            summary.rejected += len(page.rejected)
            summary.deleted += len(page.deleted)
            for reason in page.rejected:
                tqdm.write(f"harvest page {summary.pages}: rejected {reason}", file=sys.stderr)
            bar.update(len(page.records) + len(page.rejected) + len(page.deleted))
            announce(on_change, result.new_ids + result.updated_ids)
            token = page.token
            if not token:
                break
    bar.close()
    summary.last_datestamp = state.get("last_datestamp")
    return summary


def _fetch_page(pacer: Pacer, url: str, params: dict) -> OaiPage | None:
    response = pacer.get(url, params, what="arXiv OAI-PMH")
    if response.status_code != 200:
        raise RemoteError(
            f"arXiv OAI-PMH answered HTTP {response.status_code} for {response.request.url}"
        )
    try:
        return parse_list_records(response.content)
    except OaiError as exc:
        if exc.code == "badResumptionToken":
            return None
        if exc.code in ("badArgument", "cannotDisseminateFormat", "noSetHierarchy"):
            raise BadInput(f"arXiv OAI-PMH rejected the request: {exc}") from None
        if exc.code == "badXml":
            raise RemoteError(f"arXiv OAI-PMH sent a broken reply: {exc.message}") from None
        raise RemoteError(f"arXiv OAI-PMH error {exc}") from None
