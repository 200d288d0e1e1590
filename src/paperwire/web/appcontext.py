"""``AppContext``: everything a request handler may use besides the request, built once by
``create_app`` and kept on ``app.state.context``; read it through ``app_context(...)``.

Invariants:
- ``app.state`` holds this one object (plus what Starlette itself keeps there): no other
  module adds attributes to it or probes it with ``getattr``. A new shared thing is a new
  field here, typed, with its default.
- The context lives as long as the app (one per worker process); its caches are per worker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.templating import Jinja2Templates
from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from paperwire.config import Settings
from paperwire.store.db import Database
from paperwire.web.cache import PageCache

if TYPE_CHECKING:
    from paperwire.search.service import SearchService

Hook = Callable[[FastAPI], None]


@dataclass
class AppContext:
    settings: Settings
    db: Database
    # Jinja environment; ``paperwire.web.pages.page_response`` renders with it.
    templates: Jinja2Templates
    # Anonymous pages and contexts; call ``invalidate()`` after a write that changes what
    # lists show (a vote, a comment).
    cache: PageCache
    # Similar papers change only when papers are embedded: kept for minutes, not seconds.
    similar_cache: PageCache
    # Set once the semantic side is loaded: paper pages show similar papers only then, so a
    # page view never waits for a model to load (the JSON similar endpoint does wait).
    similar_ready: threading.Event = field(default_factory=threading.Event)
    # Callables(app) run by the lifespan when the server starts / stops; a route module's
    # ``install(app)`` may append to them.
    startup_hooks: list[Hook] = field(default_factory=list)
    shutdown_hooks: list[Hook] = field(default_factory=list)
    # Path prefixes that carry their own proof instead of a CSRF token
    # (``paperwire.web.security.csrf_exempt``).
    csrf_exempt: list[str] = field(default_factory=list)

    def search(self) -> SearchService:
        """The process-wide search service of this settings and database."""
        from paperwire.search.service import get_search_service

        return get_search_service(self.settings, self.db)


def app_context(source: HTTPConnection | Starlette) -> AppContext:
    """The app's context, from a request (or websocket) or from the app itself."""
    app = source.app if isinstance(source, HTTPConnection) else source
    context = app.state.context
    assert isinstance(context, AppContext), "create_app() sets app.state.context"
    return context


def invalidate_pages(source: HTTPConnection | Starlette) -> None:
    """Drop this worker's cached anonymous pages: call after a write that changes what lists
    show (a vote, a comment, a hidden paper, a deleted account)."""
    app_context(source).cache.invalidate()
