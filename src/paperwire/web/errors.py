"""HTTP errors: every failure leaves as ``{"error": code, "detail": message}`` (API and feeds)
or as an error page (HTML), with the right status, never a 500 for bad input.

Raise ``paperwire.errors.NotFound`` / ``BadInput`` (404 / 400) or one of the classes below from
any handler or dependency; ``install_error_handlers`` turns them into responses. Any exception
with an integer ``status_code`` attribute and a message is honoured the same way.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from paperwire.errors import BadInput, NotFound, PaperwireError
from paperwire.web.jsonresp import JSONResponse

log = logging.getLogger(__name__)


class HTTPError(PaperwireError):
    """A PaperwireError with an HTTP status; subclasses fix the status and error code."""

    status_code = 400
    code = "bad_request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.headers = headers or {}


class Unauthorized(HTTPError):
    status_code, code = 401, "unauthorized"


class Forbidden(HTTPError):
    status_code, code = 403, "forbidden"


class Conflict(HTTPError):
    status_code, code = 409, "conflict"


class RateLimited(HTTPError):
    status_code, code = 429, "rate_limited"

    def __init__(self, detail: str, *, retry_after: int = 60) -> None:
        super().__init__(detail, headers={"Retry-After": str(int(retry_after))})


class Unavailable(HTTPError):
    """Something this operation needs is not ready yet (the search model on a first start)
    or not working: 503 with a Retry-After saying when to ask again."""

    status_code, code = 503, "unavailable"

    def __init__(self, detail: str, *, retry_after: int = 30) -> None:
        super().__init__(detail, headers={"Retry-After": str(int(retry_after))})


class ErrorOut(BaseModel):
    """The body of every error answer of the API and the feeds."""

    error: str
    detail: str


_DESCRIPTIONS = {
    400: "Bad input (a parameter, a form field or the body breaks the input policy)",
    401: "No valid API token",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    422: "A parameter or the body does not match the declared schema",
    429: "Rate limited (see Retry-After)",
    503: "A service this operation needs (arXiv) could not be reached; nothing was changed",
}


def error_responses(*statuses: int) -> dict[int | str, dict]:
    """OpenAPI ``responses=`` entries declaring errors with their real shape (``ErrorOut``);
    400, 413 and 422 (input policy, schema validation) are always included."""
    wanted = sorted({400, 413, 422, *statuses})
    return {status: {"model": ErrorOut, "description": _DESCRIPTIONS[status]} for status in wanted}


def unavailable_response(description: str) -> dict[int | str, dict]:
    """The OpenAPI ``responses=`` entry of a 503 whose cause is not arXiv (see
    ``error_responses``), with its Retry-After header declared."""
    return {
        503: {
            "model": ErrorOut,
            "description": description,
            "headers": {
                "Retry-After": {
                    "description": "Seconds after which to ask again",
                    "schema": {"type": "integer"},
                }
            },
        }
    }


_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "rate_limited",
    503: "unavailable",
}


def wants_json(request: Request) -> bool:
    """API and feed paths always answer JSON errors; pages answer HTML unless asked for JSON."""
    path = request.url.path
    if path.startswith("/api/") or path.startswith("/feeds/") or path == "/openapi.json":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def retry_text(seconds: int, now=None) -> str:
    """When to try again, in words: "in 45 seconds (at 10:31:12 UTC)", "in about 2 minutes
    (at 10:33 UTC)". ``now``: an aware UTC datetime (default: the clock)."""
    import datetime as dt

    seconds = max(1, int(seconds))
    now = now or dt.datetime.now(dt.UTC)
    at = now + dt.timedelta(seconds=seconds)
    if seconds < 90:
        unit = "second" if seconds == 1 else "seconds"
        return f"in {seconds} {unit} (at {at:%H:%M:%S} UTC)"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"in about {minutes} minutes (at {at:%H:%M} UTC)"
    hours = round(seconds / 3600)
    return f"in about {hours} hour{'s' if hours != 1 else ''} (at {at:%Y-%m-%d %H:%M} UTC)"


def error_response(
    request: Request,
    status: int,
    detail: str,
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
):
    code = code or _CODES.get(status, "error")
    if wants_json(request):
        return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)
    from paperwire.web.pages import page_response

    retry = None
    after = (headers or {}).get("Retry-After", "")
    if after.isdigit():
        # The page says when, in words and as a time, besides the Retry-After header.
        retry = retry_text(int(after))
    return page_response(
        request,
        "error.html",
        {
            "status": status,
            "code": code,
            "detail": detail,
            "retry": retry,
            "page_title": _TITLES.get(status, "Error"),
        },
        status_code=status,
        headers=headers,
    )


_TITLES = {
    400: "Bad request",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Already there",
    422: "Invalid input",
    429: "Slow down",
    500: "Something went wrong",
    503: "Not available yet",
}


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ()) if x not in ("query", "body", "path", "header")]
        where = ".".join(loc) or "request"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PaperwireError)
    async def _paperwire_error(request: Request, exc: PaperwireError):
        status = getattr(exc, "status_code", None)
        if not isinstance(status, int):
            status = 404 if isinstance(exc, NotFound) else 400
        code = getattr(exc, "code", None)
        if isinstance(exc, NotFound):
            code = "not_found"
        elif isinstance(exc, BadInput) and not isinstance(exc, HTTPError):
            code = "bad_request"
        return error_response(
            request, status, str(exc), code=code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        return error_response(request, 422, _describe_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"nothing at {request.url.path}"
        return error_response(
            request, exc.status_code, detail, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(request, 500, "internal error; it has been logged", code="internal")
