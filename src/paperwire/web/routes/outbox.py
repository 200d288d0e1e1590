"""The admin's view of the local outbox (``/admin/outbox``): where mail went on the embedded
default, each message readable.

Safety: messages are data written by Paperwire but made of user-supplied text (names,
titles, topics). The list and the message page show headers and the text part escaped by
the templates; the HTML part is served on its own URL with ``Content-Security-Policy:
sandbox`` (a unique origin, no script, no form, no plugin; no network fetch: ``default-src
'none'``), and the message page embeds it in an ``<iframe sandbox>``: script in a mail never
runs, neither in this page nor in the part's own.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from paperwire.digest.outbox import list_messages, outbox_dir, read_message
from paperwire.errors import NotFound
from paperwire.web.appcontext import app_context
from paperwire.web.pages import page_response

router = APIRouter(include_in_schema=False)

# Inline styles are how mail HTML is styled; everything else is refused.
PART_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
)


def _admin(request: Request):
    from paperwire.web.auth import require_admin, require_signed_in

    return require_admin(require_signed_in(request))


@router.get("/admin/outbox")
async def outbox_page(request: Request):
    from paperwire.digest.transport import describe_mail, mail_target

    _admin(request)
    settings = app_context(request).settings
    items, total = await run_in_threadpool(list_messages, outbox_dir(settings))
    try:
        target = mail_target(settings)
    except Exception:  # noqa: BLE001 - the description says what is wrong
        target = "invalid"
    return page_response(
        request,
        "admin/outbox.html",
        {
            "page_title": "Outbox",
            "items": items,
            "total": total,
            "target": target,
            "where": describe_mail(settings),
        },
    )


def _message(request: Request, key: str):
    msg = read_message(outbox_dir(app_context(request).settings), key)
    if msg is None:
        raise NotFound("no such message in the outbox")
    return msg


@router.get("/admin/outbox/{key}")
async def outbox_message(request: Request, key: str):
    _admin(request)
    msg = await run_in_threadpool(_message, request, key)
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    headers = [
        (name, str(msg[name]))
        for name in (
            "Date",
            "From",
            "To",
            "Reply-To",
            "Subject",
            "Message-ID",
            "List-Unsubscribe",
            "List-Unsubscribe-Post",
        )
        if msg[name] is not None
    ]
    return page_response(
        request,
        "admin/outbox_message.html",
        {
            "page_title": str(msg["Subject"] or "Message"),
            "key": key,
            "headers": headers,
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
        },
    )


@router.get("/admin/outbox/{key}/html")
async def outbox_message_html(request: Request, key: str):
    _admin(request)
    msg = await run_in_threadpool(_message, request, key)
    part = msg.get_body(("html",))
    if part is None:
        raise NotFound("this message has no HTML part")
    return HTMLResponse(
        part.get_content(),
        headers={
            "content-security-policy": PART_CSP,
            "x-frame-options": "SAMEORIGIN",
            "cache-control": "private, no-store",
        },
    )
