"""Fixtures and helpers for the read-side web tests (feed, paper, search, API, Atom).

``client``: a TestClient on ``create_app(settings, db)`` with the page cache off (tests see
writes at once). ``as_user(app, user)``: make requests run as that user, standing in for the
accounts middleware (which sets ``request.state.user``). ``count_statements(db)``: counts SQL
statements executed inside the block.
"""

from __future__ import annotations

import contextlib
import dataclasses

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware


@pytest.fixture
def app(settings, db):
    from paperwire.web.app import create_app

    settings = dataclasses.replace(settings, page_cache_seconds=0.0)
    application = create_app(settings, db)
    yield application
    try:
        from paperwire.search.service import close_all

        close_all()
    except ImportError:
        pass


@pytest.fixture
def client(app):
    with TestClient(app, raise_server_exceptions=True) as test_client:
        yield test_client


class _UserHolder:
    user = None


def as_user(app, user) -> None:
    """Make every following request of ``app`` run as ``user`` (None: anonymous)."""
    holder = getattr(app.state, "_test_user_holder", None)
    if holder is None:
        holder = app.state._test_user_holder = _UserHolder()

        async def _set_user(request, call_next):
            request.state.user = holder.user
            request.state.csrf_token = "test-csrf-token" if holder.user else ""
            return await call_next(request)

        # Innermost (appended last), so it runs after the real accounts middleware and wins.
        app.user_middleware.append(Middleware(BaseHTTPMiddleware, dispatch=_set_user))
        app.middleware_stack = None  # rebuilt with the new middleware on the next request
    holder.user = user


@contextlib.contextmanager
def count_statements(db):
    counter = {"n": 0, "sql": []}

    def before(conn, cursor, statement, params, context, executemany):
        counter["n"] += 1
        counter["sql"].append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
