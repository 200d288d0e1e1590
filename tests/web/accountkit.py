"""Fixtures and helpers for the write-side web tests (accounts, actions, security, write API).

Unlike ``readkit.as_user``, these go through the real ``SecurityMiddleware``: users sign up or
sign in with forms, CSRF tokens are read from the pages like a browser would.

- ``fast_hashing`` (autouse in modules that import it): argon2id with small parameters, so a
  sign-in costs milliseconds; one test checks the production parameters on their own.
- ``wapp``: ``create_app`` for the ``settings`` fixture (page cache off); ``web``: a TestClient.
- ``make_user(db, name, admin=False)``: an account created through ``auth.create_user``.
- ``signin(client, name)``, ``csrf(client, path)``, ``post_form(client, url, data)``.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def fast_hashing():
    from paperwire.web import auth

    previous = auth.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    auth.use_hasher(previous)


def make_app(settings, db, **overrides):
    from paperwire.web.app import create_app

    settings = dataclasses.replace(settings, page_cache_seconds=0.0, **overrides)
    return create_app(settings, db)


@pytest.fixture
def wapp(settings, db):
    return make_app(settings, db)


@pytest.fixture
def web(wapp):
    with TestClient(wapp) as client:
        yield client


def new_client(app) -> TestClient:
    return TestClient(app)


def make_user(db, username: str = "alice", *, admin: bool = False, email: str | None = None):
    from paperwire.web import auth

    return auth.create_user(db, username, PASSWORD, email=email, is_admin=admin)


def csrf(client: TestClient, path: str = "/signin") -> str:
    """The CSRF token a page at ``path`` puts in its forms for this client."""
    response = client.get(path)
    match = _CSRF_RE.search(response.text)
    assert match, f"no csrf_token on {path} ({response.status_code})"
    return match.group(1)


def post_form(
    client: TestClient, url: str, data: dict | None = None, *, token_from: str = "/", **kwargs
):
    data = dict(data or {})
    data.setdefault("csrf_token", csrf(client, token_from))
    kwargs.setdefault("follow_redirects", False)
    return client.post(url, data=data, **kwargs)


def signin(client: TestClient, username: str, password: str = PASSWORD):
    response = post_form(
        client, "/signin", {"username": username, "password": password}, token_from="/signin"
    )
    assert response.status_code == 303, response.text[:500]
    return response


def token_for(db, user) -> str:
    from paperwire.web import auth

    return auth.new_api_token(db, user.id, "test").token


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
