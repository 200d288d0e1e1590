"""Page contexts: one function per page, returning the dict that BOTH the HTML template and
the JSON response are made from (thin handlers call these and choose the output format).

Invariants:
- Paper dicts follow the public Daily Papers API (camelCase: ``id, title, summary,
  authors[{name}], publishedAt, upvotes, ...``); templates read the same keys, so HTML and
  JSON can never disagree.
- Anonymous requests share a per-worker TTL cache (``app.state.cache``); signed-in users
  always get fresh data plus their own upvote marks (one extra statement).
- Every context is built with a constant number of SQL statements.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from paperwire import stored
from paperwire.authors.names import strict_key
from paperwire.errors import BadInput, NotFound, PaperwireError, SemanticUnavailable
from paperwire.store import author_claims, listing
from paperwire.store import comments as comment_store
from paperwire.store.authors import strict_keys_of as stored_keys
from paperwire.store.feed import trending as store_trending
from paperwire.store.models import FeedEntry, Paper, utcnow
from paperwire.summary.read import KIND as KEY_SENTENCE_KIND
from paperwire.summary.read import text_of_paper as key_sentence_text
from paperwire.web import links as web_links
from paperwire.web import periods
from paperwire.web.errors import Unavailable

log = logging.getLogger(__name__)

MAX_LIMIT = 100
CARD_AUTHORS = 4
TEASER_CHARS = 320


# --- shapes ----------------------------------------------------------------------------------

def _iso(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat() + ("Z" if value.tzinfo is None else "")
    return value.isoformat()


def paper_json(paper: Paper) -> dict[str, Any]:
    """The API's paper object (also what templates and feeds read).

    Built through ``paperwire.stored``: a row stored before the record schema existed (authors
    as strings, numbers among the categories, control characters, ``javascript:`` links) still
    gives a well-typed object, so it cannot break a page, the API or a feed."""
    authors = stored.authors(paper.authors)
    for author in authors:
        # The public API's author object: ``_id`` (here the strict key of the name, so
        # ``/api/authors/{_id}`` is this author's page), ``hidden``, and ``user`` (the member
        # who claimed the name; filled where a context looks claims up, else None).
        author["_id"] = strict_key(author["name"])
        author["hidden"] = False
        author["user"] = None
    categories = stored.strings(paper.categories)
    key_sentence = key_sentence_text(paper)
    return {
        "id": paper.id,
        "title": stored.text(paper.title),
        "summary": stored.text(paper.abstract),
        # The public API's field name; here an abstract sentence chosen without a language
        # model (summary/read.py), hence summary_kind "extracted".
        "ai_summary": key_sentence,
        "summary_kind": KEY_SENTENCE_KIND if key_sentence else None,
        "authors": authors,
        "authorCount": max(paper.author_count or 0, len(authors)),
        "publishedAt": _iso(paper.published_at),
        "updatedAt": _iso(paper.updated_at),
        "upvotes": paper.upvotes or 0,
        "numComments": paper.num_comments or 0,
        "categories": categories,
        "primaryCategory": (stored.optional_text(paper.primary_category)
                            or (categories[0] if categories else None)),
        "version": paper.version,
        "versions": stored.versions(paper.versions),
        "doi": stored.optional_text(paper.doi),
        "journalRef": stored.optional_text(paper.journal_ref),
        "comments": stored.optional_text(paper.comments),
        "license": stored.optional_text(paper.license),
        "absUrl": stored.http_url(paper.abs_url),
        "pdfUrl": stored.http_url(paper.pdf_url),
        "source": paper.source,
        "hidden": bool(paper.hidden),
    }


def feed_item_json(paper: Paper, entry: FeedEntry | None, submitter: str | None,
                   score: float | None = None) -> dict[str, Any]:
    """The API's daily-paper object: ``{paper, submittedOnDailyAt, submittedBy, numComments}``."""
    item = {
        "paper": paper_json(paper),
        "title": stored.text(paper.title),
        "publishedAt": _iso(paper.published_at),
        "submittedOnDailyAt": _iso(entry.submitted_at) if entry else None,
        "day": _iso(entry.day) if entry else None,
        "submittedBy": {"name": submitter} if submitter else None,
        "numComments": paper.num_comments or 0,
        # True when a claimed author of the paper has commented (``mark_participation``).
        "isAuthorParticipating": False,
    }
    if score is not None:
        item["trendingScore"] = round(score, 6)
    return item


def mark_participation(session, items: list[dict[str, Any]]) -> None:
    """Set ``isAuthorParticipating`` on feed items (one statement for the whole list)."""
    found = author_claims.participating(session, [i["paper"]["id"] for i in items])
    for item in items:
        item["isAuthorParticipating"] = item["paper"]["id"] in found


def teaser(text: str, limit: int = TEASER_CHARS) -> str:
    """The abstract cut at a word boundary; never cuts inside ``$...$`` math."""
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    cut = cut if cut > limit // 2 else limit
    head = text[:cut]
    if head.count("$") % 2:  # inside math: back off to before it opened
        head = head[:head.rfind("$")].rstrip()
    return head + " …"


# --- cache helpers ---------------------------------------------------------------------------

def _cached(app_state, user, key, compute):
    if user is not None:
        return compute()
    return app_state.cache.get_or_compute(key, compute)


def _page_args(page: int | None, limit: int | None, default_limit: int) -> tuple[int, int]:
    page = 1 if page is None else page
    limit = default_limit if limit is None else limit
    if page < 1:
        raise BadInput(f"p (page) must be 1 or more, got {page}")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    return page, limit


def _upvoted(db, user, items) -> set[str]:
    if user is None or not items:
        return set()
    with db.session() as s:
        return listing.user_upvoted(s, user.id, [i["paper"]["id"] for i in items])


_PAPER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/\-]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_paper_id(paper_id: str | None) -> str:
    """A syntactically possible paper id, or NotFound (before any query: no NUL bytes or
    overlong strings ever reach the database)."""
    paper_id = (paper_id or "").strip().strip("/")
    if not _PAPER_ID.match(paper_id):
        raise NotFound(f"no paper with id {paper_id[:80]!r}")
    return paper_id


def check_text(value: str | None, name: str, max_len: int = 1000) -> str:
    """Free text from a request: control characters (NUL...) are refused with BadInput."""
    value = value or ""
    if _CONTROL.search(value):
        raise BadInput(f"{name} contains control characters")
    if len(value) > max_len:
        raise BadInput(f"{name} is too long (at most {max_len} characters)")
    return value


# --- the feed --------------------------------------------------------------------------------

FEED_SORTS = {"upvotes", "trending", "publishedAt"}


def check_has(has: str | None) -> str | None:
    """The feed's ``has`` filter ("with code"): a link kind, or None."""
    from paperwire.records.links import KINDS

    if not has:
        return None
    if has not in KINDS:
        raise BadInput(f"has must be one of {', '.join(KINDS)}, got {has[:40]!r}")
    return has


def feed_context(state, *, user=None, date: str | None = None, week: str | None = None,
                 month: str | None = None, sort: str | None = None, page: int | None = None,
                 limit: int | None = None, has: str | None = None) -> dict[str, Any]:
    """The daily / weekly / monthly feed. Without a period: today, or the latest day with
    entries when today has none. ``has``: only papers with a visible link of that kind
    (``code``: the "with code" toggle)."""
    has = check_has(has)
    settings, db = state.settings, state.db
    given = [name for name, v in (("date", date), ("week", week), ("month", month)) if v]
    if len(given) > 1:
        raise BadInput(f"give only one of date, week, month (got {', '.join(given)})")
    sort = sort or "upvotes"
    if sort not in FEED_SORTS:
        raise BadInput(f"sort must be one of {', '.join(sorted(FEED_SORTS))}, got {sort!r}")
    page, limit = _page_args(page, limit, settings.feed_page_size)
    today = periods.today(settings)

    if week:
        start, end = periods.parse_week(week)
        kind, label = "week", f"Week {periods.week_label(start)}"
    elif month:
        start, end = periods.parse_month(month)
        kind, label = "month", start.strftime("%B %Y")
    else:
        kind = "day"
        if date:
            start = periods.parse_day(date)
        else:
            start = None
        end = start
        label = None

    def compute() -> dict[str, Any]:
        with db.session() as s:
            nonlocal_start, nonlocal_end = start, end
            latest_fallback = False
            if kind == "day" and nonlocal_start is None:
                day = listing.latest_feed_day(s, on_or_before=today)
                if day is None:
                    day = listing.latest_feed_day(s)
                latest_fallback = day is not None and day != today
                nonlocal_start = nonlocal_end = day or today
            total = count = listing.count_feed(s, start=nonlocal_start, end=nonlocal_end,
                                               has=has)
            offset = (page - 1) * limit
            if sort == "trending":
                rows = store_trending(s, start=nonlocal_start, end=nonlocal_end, now=utcnow(),
                                      limit=limit, offset=offset, has=has)
                names = listing.feed_entries_for(s, [p.id for p, _, _ in rows])
                items = [feed_item_json(p, e, names.get(p.id, (None, None))[1], score)
                         for p, e, score in rows]
            else:
                rows = listing.feed_rows(s, start=nonlocal_start, end=nonlocal_end,
                                         sort="published" if sort == "publishedAt" else "upvotes",
                                         limit=limit, offset=offset, has=has)
                items = [feed_item_json(r.paper, r.entry, r.submitter) for r in rows]
            mark_participation(s, items)
            web_links.attach(s, [i["paper"] for i in items])
            prev_day = next_day = None
            if kind == "day":
                prev_day, next_day = listing.adjacent_feed_days(s, nonlocal_start)
        return {"start": nonlocal_start, "end": nonlocal_end, "items": items, "total": total,
                "count": count, "prev_day": prev_day, "next_day": next_day,
                "latest_fallback": latest_fallback}

    data = _cached(state, user, ("feed", kind, start, end, sort, page, limit, today, has),
                   compute)
    start_d = data["start"]
    ctx: dict[str, Any] = dict(data)
    ctx.update(kind=kind, sort=sort, page=page, limit=limit, today=today, has=has,
               has_more=page * limit < data["total"], upvoted=_upvoted(db, user, data["items"]))
    # Links to neighbouring periods are None where they would leave the representable dates
    # (periods.add_days / add_months / week_of): the first and last pages have no such link.
    if kind == "day":
        ctx["label"] = start_d.strftime("%A, %B %-d, %Y")
        ctx["prev_url"] = f"/papers?date={data['prev_day']}" if data["prev_day"] else None
        ctx["next_url"] = f"/papers?date={data['next_day']}" if data["next_day"] else None
        ctx["prev_label"], ctx["next_label"] = "Previous day", "Next day"
        ctx["week_url"] = _week_url(start_d)
        ctx["month_url"] = f"/papers/month/{periods.month_label(start_d)}"
    elif kind == "week":
        ctx["label"] = label
        ctx["prev_url"] = _week_url(periods.add_days(start_d, -7))
        # "Next" stops at the current period: later ones hold nothing yet.
        ctx["next_url"] = _week_url(periods.next_start("week", start_d, today))
        ctx["prev_label"], ctx["next_label"] = "Previous week", "Next week"
        ctx["day_url"] = f"/papers?date={start_d}"
        ctx["month_url"] = f"/papers/month/{periods.month_label(start_d)}"
    else:
        ctx["label"] = label
        ctx["prev_url"] = _month_url(periods.add_months(start_d, -1))
        ctx["next_url"] = _month_url(periods.next_start("month", start_d, today))
        ctx["prev_label"], ctx["next_label"] = "Previous month", "Next month"
        ctx["week_url"] = _week_url(start_d)
        ctx["day_url"] = f"/papers?date={start_d}"
    here = {"day": f"/papers?date={start_d}", "week": _week_url(start_d) or "/",
            "month": f"/papers/month/{periods.month_label(start_d)}"}[kind]
    if sort != "upvotes":
        here = _with_param(here, "sort", sort)
    _filter_urls(ctx, here, has, ("prev_url", "next_url", "week_url", "month_url", "day_url"))
    return ctx


def _with_param(url: str | None, name: str, value: str | None) -> str | None:
    if url is None or not value:
        return url
    return f"{url}{'&' if '?' in url else '?'}{name}={value}"


def _filter_urls(ctx: dict[str, Any], here: str, has: str | None, keys: tuple[str, ...]) -> None:
    """The "All papers" / "With code" toggle, and the ``has`` filter kept by the pager and the
    links to other periods."""
    ctx["all_url"] = here
    ctx["with_code_url"] = _with_param(here, "has", "code")
    ctx["page_url"] = _with_param(here, "has", has)
    for key in keys:
        if ctx.get(key):
            ctx[key] = _with_param(ctx[key], "has", has)


def _week_url(day: dt.date | None) -> str | None:
    label = periods.week_of(day)
    return f"/papers/week/{label}" if label else None


def _month_url(start: dt.date | None) -> str | None:
    return f"/papers/month/{periods.month_label(start)}" if start else None


TRENDING_WINDOWS = {"day": 1, "week": 7, "month": 30, "all": None}


def trending_context(state, *, user=None, window: str | None = None, page: int | None = None,
                     limit: int | None = None, has: str | None = None) -> dict[str, Any]:
    """Papers of the last day/week/month (or all time) by time-decayed score."""
    settings, db = state.settings, state.db
    has = check_has(has)
    window = window or "week"
    if window not in TRENDING_WINDOWS:
        raise BadInput(f"window must be one of {', '.join(TRENDING_WINDOWS)}, got {window!r}")
    page, limit = _page_args(page, limit, settings.feed_page_size)
    today = periods.today(settings)
    days = TRENDING_WINDOWS[window]
    start = today - dt.timedelta(days=days - 1) if days else None

    def compute() -> dict[str, Any]:
        with db.session() as s:
            total = listing.count_feed(s, start=start, end=None, has=has)
            rows = store_trending(s, start=start, end=None, now=utcnow(), limit=limit,
                                  offset=(page - 1) * limit, has=has)
            names = listing.feed_entries_for(s, [p.id for p, _, _ in rows])
            items = [feed_item_json(p, e, names.get(p.id, (None, None))[1], score)
                     for p, e, score in rows]
            mark_participation(s, items)
            web_links.attach(s, [i["paper"] for i in items])
        return {"items": items, "total": total}

    data = _cached(state, user, ("trending", window, start, page, limit, has), compute)
    ctx = dict(data)
    ctx.update(kind="trending", window=window, windows=list(TRENDING_WINDOWS), page=page, has=has,
               limit=limit, has_more=page * limit < data["total"], start=start,
               upvoted=_upvoted(db, user, data["items"]),
               label="Trending" + ({"day": " today", "week": " this week",
                                    "month": " this month", "all": ""}[window]))
    _filter_urls(ctx, f"/trending?window={window}", has, ())
    return ctx


# --- paper page ------------------------------------------------------------------------------

SIMILAR_PREPARING = ("Similar papers need semantic search, whose model is still being prepared "
                     "(first start, a few minutes); ask again shortly.")
# When to ask again (Retry-After) while the model is prepared, and when semantic search failed.
SIMILAR_RETRY_PREPARING, SIMILAR_RETRY_FAILED = 30, 300


def similar_papers(state, paper_id: str, limit: int = 6) -> tuple[list[dict[str, Any]], list[str]]:
    """Similar papers as (items, notices); search trouble gives a notice, never an error.

    Kept for minutes in ``state.similar_cache`` when there is one: neighbours change only when
    papers are embedded, and the list shows no votes. An empty list is not kept: it mostly
    means the paper is not embedded yet (a first start embeds the demo papers minutes after
    the model is ready), and it would hide the neighbours for the cache's minutes."""
    cache = getattr(state, "similar_cache", None)
    if cache is None:
        return _similar_papers(state, paper_id, limit)
    return cache.get_or_compute(("similar", paper_id, limit),
                                lambda: _similar_papers(state, paper_id, limit),
                                keep=lambda result: bool(result[0]) and not result[1])


def _similar_papers(state, paper_id: str, limit: int) -> tuple[list[dict[str, Any]], list[str]]:
    from paperwire.search.service import get_search_service

    try:
        result = get_search_service(state.settings, state.db).similar(paper_id, limit=limit)
    except NotFound:
        return [], []
    except SemanticUnavailable as exc:
        if exc.preparing:
            return [], [SIMILAR_PREPARING]
        return [], [f"Similar papers are not available yet: {exc}"]
    except PaperwireError as exc:
        return [], [f"Similar papers are not available yet: {exc}"]
    except Exception as exc:  # noqa: BLE001 - the page must render without similar papers
        log.warning("similar papers for %s unavailable: %s", paper_id, exc)
        return [], ["Similar papers are not available right now."]
    hits = getattr(result, "hits", result) or []
    items = []
    for hit in hits:
        paper = getattr(hit, "paper", None)
        if paper is None or getattr(paper, "hidden", False):
            continue
        items.append({"paper": paper_json(paper), "score": float(getattr(hit, "score", 0.0))})
    _attach_links(state, items)
    return items, list(getattr(result, "notices", []) or [])


def _attach_links(state, items: list[dict[str, Any]]) -> None:
    if items:
        with state.db.session() as s:
            web_links.attach(s, [i["paper"] for i in items])


def comment_thread(views: list[comment_store.CommentView],
                   author_users: set[int] | frozenset = frozenset()) -> list[dict[str, Any]]:
    """A paper's comments in thread order (``store.comments.list_comments``) as the page shows
    them: each with its nesting ``depth`` (0 = top level) and ``parentId``; a deleted comment
    appears only when visible replies hang below it, and then without author or body;
    ``editedAt`` is set once its author edited it.
    ``isAuthor``: written by a member who is an approved claimed author of the paper
    (``author_users``)."""
    depths = comment_store.comment_depths(views)
    out = []
    for view in views:
        c = view.comment
        deleted = bool(c.deleted)
        out.append({"id": c.id, "parentId": c.parent_id, "depth": depths.get(c.id, 0),
                    "deleted": deleted, "author": None if deleted else view.username,
                    "userId": None if deleted else c.user_id,
                    "bodyHtml": "" if deleted else c.body_html,
                    "isAuthor": not deleted and c.user_id in author_users,
                    "createdAt": _iso(c.created_at),
                    "editedAt": None if deleted else _iso(c.edited_at)})
    return out


def paper_context(state, paper_id: str, *, user=None, with_similar: bool = True) -> dict[str, Any]:
    db = state.db
    paper_id = check_paper_id(paper_id)
    is_admin = bool(getattr(user, "is_admin", False))

    def compute() -> dict[str, Any]:
        with db.session() as s:
            found = listing.paper_with_entry(s, paper_id)
            if found is None or (found[0].hidden and not is_admin):
                raise NotFound(f"no paper with id {paper_id!r}")
            paper, entry, submitter = found
            # num_comments counts visible comments (kept in step by the comment functions):
            # most papers have none, and then the page needs no second statement.
            views = comment_store.list_comments(s, paper_id) if paper.num_comments else []
            claimants = author_claims.claimants(s, stored_keys(paper.authors))
            item = feed_item_json(paper, entry, submitter)
            web_links.attach(s, [item["paper"]])
        from paperwire.web.author_pages import decorate_authors

        decorate_authors(item["paper"], claimants)
        author_users = {uid for uid, _ in claimants.values()}
        item["comments"] = comment_thread(views, author_users)
        item["isAuthorParticipating"] = any(c["isAuthor"] for c in item["comments"])
        similar, notices = [], []
        if with_similar:
            ready = getattr(state, "similar_ready", None)
            if ready is None or ready.is_set():
                similar, notices = similar_papers(state, paper_id)
            else:
                notices = ["Similar papers will appear here once the search index is ready."]
        item["similar"] = similar
        item["notices"] = notices
        item["bibtex"] = bibtex(paper)
        return item

    data = _cached(state, user, ("paper", paper_id, with_similar), compute)
    ctx = dict(data)
    ctx["upvoted"] = _upvoted(db, user, [data]) if user is not None else set()
    ctx["on_feed"] = data["day"] is not None
    return ctx


_BIB_SPECIAL = re.compile(r"([&%#_{}$\\])")


def _bib_escape(text: str) -> str:
    # Titles keep their $math$ (BibTeX understands it); other specials are escaped.
    out = []
    for i, part in enumerate(re.split(r"(\$[^$]*\$)", text or "")):
        out.append(part if i % 2 else _BIB_SPECIAL.sub(r"\\\1", part))
    return " ".join("".join(out).split())


_BIB_STOP = {"toward", "towards", "with", "from", "using", "into", "over", "when", "what",
             "which", "their", "this", "that", "does", "beyond", "about"}


def bibtex(paper: Paper) -> str:
    """A ``@misc`` entry in arXiv's own style (eprint, archivePrefix, primaryClass)."""
    authors = stored.author_names(paper.authors)
    title = stored.text(paper.title)
    categories = stored.strings(paper.categories)
    primary = stored.optional_text(paper.primary_category)
    year = paper.published_at.year if paper.published_at else None
    last = (authors[0].split()[-1] if authors and authors[0].split() else "anon")
    title_words = re.findall(r"[A-Za-z]+", re.sub(r"\$[^$]*\$", " ", title))
    first_word = next((w for w in title_words if len(w) > 3 and w.lower() not in _BIB_STOP),
                      "paper")
    key = re.sub(r"[^A-Za-z0-9]", "", f"{last}{year or ''}{first_word}").lower() or "paper"
    fields = [("title", "{" + _bib_escape(title) + "}")]
    if authors:
        fields.append(("author", " and ".join(_bib_escape(a) for a in authors)))
    if year:
        fields.append(("year", str(year)))
    if paper.source == "arxiv":
        fields += [("eprint", paper.id), ("archivePrefix", "arXiv")]
        if primary or categories:
            fields.append(("primaryClass", primary or categories[0]))
    if stored.text(paper.doi):
        fields.append(("doi", stored.text(paper.doi)))
    if stored.http_url(paper.abs_url):
        fields.append(("url", stored.http_url(paper.abs_url)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{key},\n{body}\n}}"


# --- search ----------------------------------------------------------------------------------

SEARCH_MODES = ("hybrid", "lexical", "semantic")
SEARCH_SORTS = ("relevance", "newest", "upvotes")


def build_query(q: str, *, category: str | None = None, date_from: str | None = None,
                date_to: str | None = None, has: str | None = None) -> str:
    """The search box text plus the form's filters, written in the query language (so the
    one parser handles both and the URL of a filtered search stays readable)."""
    parts = [(q or "").strip()]
    if category and category.strip():
        cat = category.strip()
        if not re.fullmatch(r"[A-Za-z0-9.\-*]+", cat):
            raise BadInput(f"category must look like cs.CL or q-bio.*, got {cat!r}")
        parts.append(f"cat:{cat}")
    if date_from and date_from.strip():
        parts.append(f"after:{periods.parse_day(date_from, 'from')}")
    if date_to and date_to.strip():
        after_to = periods.add_days(periods.parse_day(date_to, "to"), 1)
        if after_to is not None:  # to=9999-12-31 bounds nothing: every date is on or before it
            parts.append(f"before:{after_to}")
    if check_has(has):
        parts.append(f"has:{has}")
    return " ".join(p for p in parts if p)


def search_context(state, *, q: str, user=None, mode: str | None = None,
                   sort: str | None = None, page: int | None = None, limit: int | None = None,
                   category: str | None = None, date_from: str | None = None,
                   date_to: str | None = None, has: str | None = None) -> dict[str, Any]:
    settings = state.settings
    mode = mode or "hybrid"
    if mode not in SEARCH_MODES:
        raise BadInput(f"mode must be one of {', '.join(SEARCH_MODES)}, got {mode!r}")
    sort = sort or "relevance"
    if sort not in SEARCH_SORTS:
        raise BadInput(f"sort must be one of {', '.join(SEARCH_SORTS)}, got {sort!r}")
    page, limit = _page_args(page, limit, settings.feed_page_size)
    q = (q or "").strip()
    ctx: dict[str, Any] = {"q": q, "mode": mode, "sort": sort, "page": page, "limit": limit,
                           "category": category or "", "date_from": date_from or "",
                           "date_to": date_to or "", "has": has or "", "items": [],
                           "total": 0, "notices": [],
                           "total_is_estimate": False, "suggestions": [],
                           "has_more": False, "upvoted": set()}
    check_text(q, "the query")
    check_text(category, "category", 100)
    query = build_query(q, category=category, date_from=date_from, date_to=date_to, has=has)
    ctx["query"] = query
    if not query:
        return ctx
    from paperwire.search.service import get_search_service

    service = get_search_service(settings, state.db)
    offset = (page - 1) * limit
    # The one search function: set, order, total and pages all come from it.
    response = service.search(query, mode=mode, sort=sort, filters=None, limit=limit,
                              offset=offset)
    items = []
    for hit in response.hits:
        paper = hit.paper
        if paper is None or getattr(paper, "hidden", False):
            continue
        items.append({"paper": paper_json(paper), "score": float(hit.score),
                      "highlights": list(getattr(hit, "highlights", []) or []),
                      "snippetHtml": getattr(hit, "snippet_html", None),
                      "titleHtml": getattr(hit, "title_html", None),
                      "matchedBy": sorted(hit.matched_by),
                      "similarity": (None if hit.similarity is None
                                     else round(float(hit.similarity), 4))})
    _attach_links(state, items)
    ctx.update(items=items, total=int(response.total), notices=list(response.notices or []),
               total_is_estimate=bool(response.total_is_estimate),
               suggestions=list(response.suggestions), has_more=bool(response.has_more))
    ctx["upvoted"] = _upvoted(state.db, user, items)
    return ctx


SIMILAR_ON_PAGE = 6


def similar_fragment_context(state, paper_id: str, *, user=None) -> dict[str, Any]:
    """Similar papers for the paper page's lazily loaded section (``/papers/{id}/similar``):
    the page itself never waits for the nearest-neighbour search. NotFound for a missing
    paper, or a hidden one unless ``user`` is an admin."""
    from paperwire.store.papers import get_paper

    paper_id = check_paper_id(paper_id)
    with state.db.session() as s:
        paper = get_paper(s, paper_id)
        if paper is None or (paper.hidden and not getattr(user, "is_admin", False)):
            raise NotFound(f"no paper with id {paper_id!r}")
        title = stored.text(paper.title)
    ready = getattr(state, "similar_ready", None)
    if ready is None or ready.is_set():
        items, notices = similar_papers(state, paper_id, limit=SIMILAR_ON_PAGE)
    else:
        items, notices = [], ["Similar papers will appear here once the search index is ready."]
    return {"paper": {"id": paper_id, "title": title}, "similar": items, "notices": notices,
            "page_title": "Similar papers"}


def similar_context(state, paper_id: str, *, limit: int = 10) -> dict[str, Any]:
    """Similar papers of an existing, visible paper (NotFound otherwise). Without the
    semantic side there is no answer (an empty list would mean "nothing is similar"): raises
    ``Unavailable`` (503 + Retry-After), which says whether the model is still being
    prepared."""
    from paperwire.store.papers import get_paper

    paper_id = check_paper_id(paper_id)
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    with state.db.session() as s:
        paper = get_paper(s, paper_id)
        if paper is None or paper.hidden:
            raise NotFound(f"no paper with id {paper_id!r}")
    items, notices = similar_papers(state, paper_id, limit=limit)
    if notices:
        preparing = notices[0] == SIMILAR_PREPARING
        raise Unavailable(notices[0], retry_after=SIMILAR_RETRY_PREPARING if preparing
                          else SIMILAR_RETRY_FAILED)
    return {"items": items, "notices": notices}
