"""The HTTP input policy: what every request value must look like before a handler sees it.

One rule set, applied once, at the edge (``InputPolicyMiddleware``, the outermost layer of the
app), so no handler, store function or database driver ever meets a value it cannot hold:

- **Text**: the path, query keys and values, form fields (urlencoded and multipart), JSON
  strings (keys and values, at any depth) and header values carry no NUL, no other C0 or C1
  control character and no lone UTF-16 surrogate. Free text (query values, form fields, JSON
  strings) may contain TAB, LF and CR; the path and header values may not (a header value
  may contain TAB, as HTTP allows). PostgreSQL refuses NUL in text, lxml refuses controls in
  XML, and a lone surrogate cannot be encoded as UTF-8 at all.
- **Integers**: a JSON integer fits in 64 signed bits (nothing we store is wider). Ids in paths
  and bodies are declared with ``IdPath`` / ``IdField``: 1 .. 2^31 - 1, the range of a
  PostgreSQL ``integer`` column and so of every id column on both databases (SQLite's
  2^63 is wider; one bound for both keeps the answers the same).
- **Bodies**: at most ``MAX_BODY_BYTES``; JSON at most ``MAX_JSON_DEPTH`` levels deep.
- **Methods**: a write (POST, PUT, PATCH, DELETE) that no route accepts is answered here with
  404 or 405 (and ``Allow``), before the CSRF check, which would otherwise say 403.
- **Dates** are checked where they are parsed (``paperwire.web.periods``: every period the
  feed can show, and its neighbours, are representable dates).

A refused request gets 400 (413 for a large body) with ``{"error", "detail"}`` JSON or the
HTML error page (``paperwire.web.errors.error_response``); the detail names the part of the
request and the character (as ``U+0000``), never echoes the value. The property tests in
``tests/web/test_input_policy.py`` send arbitrary bytes in each part and expect no 500.

Redirect targets taken from a request (``next=``, ``Referer``) go through ``local_path``.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import Path
from pydantic import Field
from starlette.requests import Request
from starlette.routing import Match

MAX_ID = 2**31 - 1
"""Largest id a path or body may name: fits PostgreSQL ``integer`` (and SQLite's wider one)."""
MAX_INT = 2**63 - 1
MAX_BODY_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32

IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="A numeric id (1 to 2^31-1)")]
IdField = Annotated[int, Field(ge=1, le=MAX_ID, description="A numeric id (1 to 2^31-1)")]

# Free text: C0 controls except TAB LF CR, DEL, C1 controls, lone surrogates.
_BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Names and paths: no control character at all.
_BAD_NAME = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Header values (bytes, latin-1 on the wire): controls other than TAB.
_BAD_HEADER = re.compile(b"[\x00-\x08\x0a-\x1f\x7f]")

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class InputRefused(Exception):
    """A request value outside the policy; ``str(exc)`` says which and why."""

    def __init__(self, detail: str, status: int = 400) -> None:
        super().__init__(detail)
        self.status = status


def _char(match: re.Match) -> str:
    ch = match.group(0)
    code = ch[0] if isinstance(ch, bytes) else ord(ch)
    return f"U+{code:04X}"


def text_problem(value: str, *, strict: bool = False) -> str | None:
    """Why ``value`` may not enter (e.g. ``"a control character (U+0000)"``), else None.
    ``strict`` also refuses TAB, LF and CR (paths, names)."""
    match = (_BAD_NAME if strict else _BAD_TEXT).search(value)
    if match is None:
        return None
    what = "a lone surrogate" if 0xD800 <= ord(match.group(0)) <= 0xDFFF else "a control character"
    return f"{what} ({_char(match)})"


def check_text(value: str, where: str, *, strict: bool = False) -> None:
    problem = text_problem(value, strict=strict)
    if problem:
        raise InputRefused(f"{where} contains {problem}")


def check_json(value: Any, where: str = "the JSON body") -> None:
    """Every string (key or value) is clean text, every integer fits 64 bits, nesting is
    bounded. Iterative: a deep document cannot exhaust the stack here."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise InputRefused(f"{where} is nested more than {MAX_JSON_DEPTH} levels deep")
        label = f"{where} field {path}" if path else where
        if isinstance(item, str):
            check_text(item, label)
        elif isinstance(item, bool) or item is None or isinstance(item, float):
            continue
        elif isinstance(item, int):
            if not -MAX_INT - 1 <= item <= MAX_INT:
                raise InputRefused(f"{label} is an integer out of range (more than 64 bits)")
        elif isinstance(item, dict):
            for key, child in item.items():
                check_text(key, f"{where} key {path or '(top)'}")
                stack.append((child, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(item, list):
            for i, child in enumerate(item):
                stack.append((child, f"{path}[{i}]", depth + 1))


def parse_id(value: str | None, name: str) -> int | None:
    """An optional id typed into a form: None when blank, else 1..MAX_ID or ``BadInput``."""
    from paperwire.errors import BadInput

    value = (value or "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_ID:
        raise BadInput(
            f"{name} must be a comment id (a number from 1 to {MAX_ID}), got {value[:40]!r}"
        )
    return int(value)


def local_path(value: str | None, default: str = "/") -> str:
    """``value`` when it is a path on this site (``/...``, not ``//host`` nor ``/\\host``,
    no scheme, no control characters), else ``default``. For redirects to a URL that came
    with the request (``next=``, ``Referer``): never an open redirect."""
    if not value:
        return default
    value = value.strip()
    if (
        not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or text_problem(value, strict=True)
    ):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


# --- the middleware ------------------------------------------------------------------------


def _check_head(scope) -> None:
    check_text(scope.get("path", ""), "the path", strict=True)
    query = scope.get("query_string", b"").decode("latin-1")
    # The same decoding Starlette's QueryParams uses, so we check what handlers will see.
    for key, value in parse_qsl(query, keep_blank_values=True):
        check_text(key, "a query parameter name", strict=True)
        check_text(value, f"query parameter {key!r}")
    for name, value in scope.get("headers", []):
        match = _BAD_HEADER.search(value)
        if match:
            raise InputRefused(
                f"header {name.decode('latin-1')!r} contains a control character ({_char(match)})"
            )


def _content_type(scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return value.decode("latin-1").lower()
    return ""


async def read_body(receive, limit: int = MAX_BODY_BYTES) -> bytes | None:
    """The whole request body, or None as soon as it grows past ``limit`` bytes."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay_body(body: bytes, receive):
    """A ``receive`` that hands ``body`` (already read) to the next reader, then waits on the
    real stream (for the disconnect), as an unread request would."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _check_body(scope, body: bytes, content_type: str) -> None:
    if content_type.startswith("application/json") or content_type.endswith("+json"):
        try:
            document = json.loads(body)  # what Starlette's Request.json() does
        except RecursionError:
            raise InputRefused(
                f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep"
            ) from None
        except ValueError:
            return  # not JSON: the route's own validation answers 422
        check_json(document)
    elif content_type.startswith("application/x-www-form-urlencoded") or content_type.startswith(
        "multipart/form-data"
    ):
        # Starlette's own parser, so the fields checked are the fields handlers get.
        request = Request(scope, replay_body(body, _disconnected))
        try:
            form = await request.form()
        except Exception:  # noqa: BLE001 - an unparsable form is the route's 400/422 to give
            return
        try:
            for key, value in form.multi_items():
                check_text(key, "a form field name", strict=True)
                if isinstance(value, str):
                    check_text(value, f"form field {key!r}")
        finally:
            await form.close()


async def _disconnected():  # pragma: no cover - only reached if a parser reads past the body
    return {"type": "http.disconnect"}


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _routed(scope, method: str) -> bool:
    probe = dict(scope, method=method)
    # Each top-level route (FastAPI's included routers too) answers for its whole subtree;
    # a Mount matches any method (the mounted app answers for itself).
    return any(route.matches(probe)[0] == Match.FULL for route in scope["app"].router.routes)


def _route_for_write(scope) -> tuple[int, str] | None:
    """For a write no route accepts: (404 or 405, the methods that are allowed); else None."""
    if _routed(scope, scope["method"]):
        return None
    allowed = [m for m in _METHODS if m != scope["method"] and _routed(scope, m)]
    return (405, ", ".join(allowed)) if allowed else (404, "")


class InputPolicyMiddleware:
    """Refuses requests outside the policy (module docstring) before anything else runs."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            _check_head(scope)
            if scope["method"] in BODY_METHODS:
                unrouted = _route_for_write(scope)
                if unrouted is not None:
                    status, allow = unrouted
                    return await _refuse(
                        scope,
                        send,
                        status,
                        _unrouted_detail(scope, status, allow),
                        headers={"Allow": allow} if allow else None,
                    )
                body = await read_body(receive)
                if body is None:
                    raise InputRefused(
                        f"the request body is larger than {MAX_BODY_BYTES // 1024} KB", status=413
                    )
                await _check_body(scope, body, _content_type(scope))
                receive = replay_body(body, receive)
        except InputRefused as exc:
            return await _refuse(scope, send, exc.status, str(exc))
        await self.app(scope, receive, send)


def _unrouted_detail(scope, status: int, allow: str) -> str:
    if status == 405:
        return f"{scope['method']} is not allowed here; allowed: {allow}"
    return "nothing to send a request to at this address"


async def _refuse(scope, send, status: int, detail: str, headers: dict | None = None):
    from paperwire.web.errors import error_response
    from paperwire.web.security import STATIC_HEADERS

    request = Request(scope, _disconnected)
    response = error_response(request, status, detail, headers=headers)
    for name, value in STATIC_HEADERS:
        response.headers.setdefault(name.decode(), value.decode())
    await response(scope, _disconnected, send)
