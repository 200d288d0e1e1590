"""What the HTML form handlers of every area share: the redirect after a post, the page a
form came from, and sending a visitor to sign in first.

Invariant: a redirect target taken from the request (the Referer) is always a path of this
site (``inputs.local_path``); a form post never sends the browser off-site.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse

from paperwire.web.errors import Unauthorized, wants_json
from paperwire.web.inputs import local_path


def redirect(url: str) -> RedirectResponse:
    """The answer to a form post: 303 See Other, so a reload does not post again."""
    return RedirectResponse(url, status_code=303)


def paper_url(paper_id: str, anchor: str = "") -> str:
    return f"/papers/{paper_id}" + (f"#{anchor}" if anchor else "")


def back(request: Request, default: str) -> str:
    """The page the form was on (a path of this site only), else ``default``. The Referer is
    the client's to write: ``http://HOST//evil.example/x`` names this host but a path that a
    browser would follow off-site, so the path goes through ``local_path`` too."""
    referer = request.headers.get("referer", "")
    if referer:
        parts = urlsplit(referer)
        host = request.headers.get("host", "")
        if parts.netloc == host:
            return local_path(parts.path + (f"?{parts.query}" if parts.query else ""), default)
    return default


def signin_first(request: Request, back_to: str) -> RedirectResponse:
    """A visitor's post that needs an account: to the sign-in page (and back to ``back_to``
    afterwards); a JSON request gets 401 instead."""
    if wants_json(request):
        raise Unauthorized("please sign in first")
    return redirect(f"/signin?next={quote(back_to, safe='')}")
