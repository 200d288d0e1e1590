"""Community writes: upvote, comment, submit, moderation — as HTML forms and as the JSON API.

HTML forms post with the session cookie and a CSRF token (checked by ``SecurityMiddleware``);
the JSON API under ``/api/`` authenticates only by a personal API token
(``Authorization: Bearer``). Both call the same store functions, so the rules are the same:

- a vote or a vote withdrawal only ever concerns the caller's own vote;
- a comment can be deleted by its author or by an administrator, nobody else;
- a comment can be edited by its author only (``services/discussion.py``); administrators
  see its earlier versions;
- hiding a paper is for administrators only;
- every write is rate-limited per user (``settings.rate_limit_per_minute``).

``POST /papers/{id}/upvote`` also answers JSON (``{paperId, upvoted, upvotes}``) when the
request asks for it (``Accept: application/json``), for the page script that votes without a
reload; it then takes the CSRF token from the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Body, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from paperwire.errors import BadInput, NotFound
from paperwire.services import discussion
from paperwire.services.submissions import SubmitRefused, submit_paper, used_today
from paperwire.store import comments as comment_store
from paperwire.store import moderation, votes
from paperwire.store.models import Paper
from paperwire.web import auth
from paperwire.web.errors import Forbidden, Unauthorized, error_responses, wants_json
from paperwire.web.inputs import IdField, IdPath, local_path, parse_id
from paperwire.web.markdown import MAX_COMMENT_CHARS
from paperwire.web.pages import current_user, page_response
from paperwire.web.render import check_paper_id
from paperwire.web.schemas import CommentOut, DailyPaperOut, HiddenOut, MeOut, VoteOut
from paperwire.web.security import rate_limit

router = APIRouter()
html = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["write"])

# What each kind of API write can answer besides success (all as ``ErrorOut``).
WRITE_ERRORS = error_responses(401, 403, 404, 429)


# --- helpers -------------------------------------------------------------------------------

def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _paper_url(paper_id: str, anchor: str = "") -> str:
    return f"/papers/{paper_id}" + (f"#{anchor}" if anchor else "")


def _back(request: Request, default: str) -> str:
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


def _signin_first(request: Request, back_to: str):
    if wants_json(request):
        raise Unauthorized("please sign in first")
    return _redirect(f"/signin?next={quote(back_to, safe='')}")


def _vote_needs_account(request: Request, paper_id: str, back: str, vote: str):
    """An anonymous upvote: remember it (``web/intents.py``), send the visitor to sign in,
    where the page says that voting needs an account and that this vote will be counted."""
    from paperwire.web import intents

    remember = vote not in ("0", "false", "off")
    if wants_json(request):
        response = JSONResponse({"error": "unauthorized",
                                 "detail": "upvoting needs an account: sign in or sign up and "
                                           "your upvote will be counted"}, status_code=401)
    else:
        response = _redirect(f"/signin?next={quote(back, safe='')}")
    if remember:
        intents.remember_vote(response, request.app.state.settings,
                              check_paper_id(paper_id))
    return response


def _invalidate(request: Request) -> None:
    cache = getattr(request.app.state, "cache", None)
    if cache is not None:
        cache.invalidate()


def vote_json(result: votes.VoteResult) -> dict:
    return {"paperId": result.paper_id, "upvoted": result.upvoted, "upvotes": result.upvotes,
            "changed": result.changed}


def comment_json(view: comment_store.CommentView) -> dict:
    c = view.comment
    return {
        "id": c.id, "paperId": c.paper_id, "parentId": c.parent_id,
        "author": {"name": view.username} if view.username else None,
        "body": "" if c.deleted else c.body,
        "bodyHtml": "" if c.deleted else c.body_html,
        "deleted": bool(c.deleted),
        "createdAt": _iso(c.created_at),
        "editedAt": None if c.deleted else _iso(c.edited_at),
    }


def _iso(value) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value is not None else None


def daily_item_json(paper: Paper, entry, submitter: str | None) -> dict:
    """A feed entry in the shape of the public Daily Papers API (as ``/api/daily_papers``)."""
    from paperwire.web.render import feed_item_json

    return feed_item_json(paper, entry, submitter)


def comments_for(db, paper_id: str, user=None) -> list[dict]:
    """The discussion of a paper for ``templates/actions/comments.html`` (the paper page
    calls this): thread order, with each comment's depth, its edit time, and whether ``user``
    may delete it, edit it (its author) or read its earlier versions (administrators)."""
    with db.session() as session:
        views = comment_store.list_comments(session, paper_id)
    depths = comment_store.comment_depths(views)
    items = []
    for view in views:
        c = view.comment
        items.append({
            "id": c.id, "author": view.username, "html": "" if c.deleted else c.body_html,
            "created_at": c.created_at, "depth": depths.get(c.id, 0), "deleted": bool(c.deleted),
            "can_delete": (user is not None and not c.deleted
                           and (user.is_admin or c.user_id == user.id)),
            "edited_at": None if c.deleted else c.edited_at,
            "can_edit": user is not None and not c.deleted and c.user_id == user.id,
            "can_see_history": bool(user is not None and user.is_admin and c.edited_at
                                    and not c.deleted),
        })
    return items


def _make_comment(request: Request, user, paper_id: str, body: str,
                  parent_id: int | None) -> comment_store.CommentView:
    posted = discussion.post_comment(request.app.state.db, user, paper_id, body, parent_id)
    _invalidate(request)
    return posted.view


def _edit_comment(request: Request, user, comment_id: int,
                  body: str) -> comment_store.CommentView:
    view = discussion.edit_comment(request.app.state.db, user, comment_id, body)
    _invalidate(request)
    return view


def _delete_comment(request: Request, user, comment_id: int) -> comment_store.CommentView:
    with request.app.state.db.session() as session:
        comment = comment_store.get_comment(session, comment_id)
        if comment is None:
            raise NotFound(f"no comment with id {comment_id}")
        if comment.user_id != user.id and not user.is_admin:
            raise Forbidden("only the author of a comment or an administrator can delete it")
        comment_store.delete_comment(session, comment_id)
    _invalidate(request)
    return comment_store.CommentView(comment, None)


def _set_hidden(request: Request, user, paper_id: str, hidden: bool) -> bool:
    auth.require_admin(user)
    with request.app.state.db.session() as session:
        changed = moderation.set_hidden(session, paper_id, hidden)
    if changed:
        # Search drops hidden papers at query time (and follows modified_at), so no index
        # work is needed here.
        _invalidate(request)
    return changed


def _paper_title(request: Request, paper_id: str) -> Paper:
    with request.app.state.db.session() as session:
        paper = session.get(Paper, paper_id)
    if paper is None:
        raise NotFound(f"no paper with id {paper_id}")
    return paper


# --- HTML forms ----------------------------------------------------------------------------

@html.post("/papers/{paper_id:path}/upvote")
def upvote_form(request: Request, paper_id: str, vote: str = Form("")):
    """Toggle (or, with ``vote=1``/``vote=0``, set) the signed-in user's vote."""
    user = auth.current_user(request)
    back = _back(request, _paper_url(paper_id))
    if user is None:
        return _vote_needs_account(request, paper_id, back, vote)
    rate_limit(request, "vote", user=user)
    with request.app.state.db.session() as session:
        if vote in ("1", "true", "on"):
            result = votes.add_vote(session, user.id, paper_id)
        elif vote in ("0", "false", "off"):
            result = votes.remove_vote(session, user.id, paper_id)
        else:
            result = votes.toggle_vote(session, user.id, paper_id)
    if result.changed:
        _invalidate(request)
    if wants_json(request):
        return JSONResponse(vote_json(result))
    return _redirect(back)


@html.post("/papers/{paper_id:path}/comments")
def comment_form(request: Request, paper_id: str, body: str = Form(""),
                 parent_id: str = Form("")):
    user = auth.current_user(request)
    if user is None:
        return _signin_first(request, _paper_url(paper_id, "comments"))
    rate_limit(request, "comment", user=user)
    try:
        parent = parse_id(parent_id, "parent_id")
        view = _make_comment(request, user, paper_id, body, parent)
    except BadInput as exc:
        # Nothing typed is lost: the form comes back with the text and the reason.
        paper = _paper_title(request, paper_id)
        return page_response(request, "comment_form.html",
                             {"page_title": "Your comment", "paper": paper, "body": body,
                              "parent_id": parent_id, "error": str(exc)},
                             status_code=400 if body.strip() else 422)
    if wants_json(request):
        return JSONResponse(comment_json(view), status_code=201)
    return _redirect(_paper_url(paper_id, f"comment-{view.id}"))


@html.post("/comments/{comment_id}/delete")
def delete_comment_form(request: Request, comment_id: IdPath):
    user = auth.current_user(request)
    if user is None:
        return _signin_first(request, _back(request, "/"))
    view = _delete_comment(request, user, comment_id)
    return _redirect(_paper_url(view.comment.paper_id, "comments"))


@html.post("/papers/{paper_id:path}/comments/{comment_id}/delete")
def delete_paper_comment_form(request: Request, paper_id: str, comment_id: IdPath):
    """Same as ``/comments/{id}/delete``; the paper page's delete buttons post here."""
    return delete_comment_form(request, comment_id)


@html.get("/comments/{comment_id}/edit")
def edit_comment_page(request: Request, comment_id: IdPath):
    user = auth.current_user(request)
    if user is None:
        return _signin_first(request, f"/comments/{comment_id}/edit")
    with request.app.state.db.session() as session:
        comment = comment_store.get_comment(session, comment_id)
        if comment is None or comment.deleted:
            raise NotFound(f"no comment with id {comment_id}")
        if comment.user_id != user.id:
            raise Forbidden("only the author of a comment can edit it")
        paper = session.get(Paper, comment.paper_id)
    return page_response(request, "actions/edit_comment.html",
                         {"page_title": "Edit your comment", "paper": paper,
                          "comment": comment, "body": comment.body, "error": None})


@html.post("/comments/{comment_id}/edit")
def edit_comment_form(request: Request, comment_id: IdPath, body: str = Form("")):
    user = auth.current_user(request)
    if user is None:
        return _signin_first(request, f"/comments/{comment_id}/edit")
    rate_limit(request, "comment", user=user)
    try:
        view = _edit_comment(request, user, comment_id, body)
    except BadInput as exc:
        # Nothing typed is lost: the form comes back with the text and the reason.
        with request.app.state.db.session() as session:
            comment = comment_store.get_comment(session, comment_id)
            paper = session.get(Paper, comment.paper_id) if comment else None
        if comment is None:
            raise NotFound(f"no comment with id {comment_id}") from None
        return page_response(request, "actions/edit_comment.html",
                             {"page_title": "Edit your comment", "paper": paper,
                              "comment": comment, "body": body, "error": str(exc)},
                             status_code=400 if body.strip() else 422)
    return _redirect(_paper_url(view.comment.paper_id, f"comment-{view.id}"))


@html.get("/comments/{comment_id}/history")
def comment_history_page(request: Request, comment_id: IdPath):
    """Earlier versions of an edited comment (administrators)."""
    user = auth.current_user(request)
    if user is None:
        return _signin_first(request, f"/comments/{comment_id}/history")
    history = discussion.comment_history(request.app.state.db, user, comment_id)
    return page_response(request, "actions/comment_history.html",
                         {"page_title": f"History of comment {comment_id}",
                          "history": history})


@html.post("/papers/{paper_id:path}/hide")
def hide_form(request: Request, paper_id: str):
    user = auth.current_user(request)
    if user is None:
        return _signin_first(request, _paper_url(paper_id))
    _set_hidden(request, user, paper_id, True)
    return _redirect(_paper_url(paper_id))


@html.post("/papers/{paper_id:path}/unhide")
def unhide_form(request: Request, paper_id: str):
    user = auth.current_user(request)
    if user is None:
        return _signin_first(request, _paper_url(paper_id))
    _set_hidden(request, user, paper_id, False)
    return _redirect(_paper_url(paper_id))


def _submit_context(request: Request, user, **extra) -> dict:
    settings = request.app.state.settings
    context = {"page_title": "Submit a paper", "error": None, "value": "", "done": None,
               "quota": settings.submit_daily_quota, "max_age": settings.submit_max_age_days,
               "used": 0}
    if user is not None:
        context["used"] = used_today(settings, request.app.state.db, user)
    context.update(extra)
    return context


@html.get("/submit")
def submit_page(request: Request, done: str = "", paper: str = ""):
    """The submit form; ``paper`` fills it in (the "not here yet" page of an unknown arXiv
    paper links here; nothing is fetched until the form is posted)."""
    paper = paper.strip()[:300]
    user = auth.current_user(request)
    if user is None:
        back = "/submit" + (f"?paper={quote(paper, safe='')}" if paper else "")
        return _redirect(f"/signin?next={quote(back, safe='')}")
    done_paper = None
    if done:
        with request.app.state.db.session() as session:
            done_paper = session.get(Paper, done)
    return page_response(request, "submit.html",
                         _submit_context(request, user, done=done_paper, value=paper))


@html.post("/submit")
def submit_form(request: Request, paper: str = Form("")):
    user = auth.current_user(request)
    if user is None:
        return _redirect("/signin?next=%2Fsubmit")
    rate_limit(request, "submit", user=user)
    try:
        result = submit_paper(request.app.state.settings, request.app.state.db, user, paper)
    except SubmitRefused as exc:
        return page_response(request, "submit.html",
                             _submit_context(request, user, error=exc, value=paper),
                             status_code=exc.status_code, headers=exc.headers)
    _invalidate(request)  # (a fetched paper was already announced to search by the fetch)
    return _redirect(f"/submit?done={quote(result.paper.id, safe='/')}")


# --- JSON API (personal API token) ---------------------------------------------------------

class SubmitBody(BaseModel):
    id: str = Field(..., description="arXiv id (2104.12255, hep-th/9901001) or abs/pdf URL",
                    max_length=300)


class CommentBody(BaseModel):
    body: str = Field(..., description="Markdown text", max_length=MAX_COMMENT_CHARS * 2)
    parentId: IdField | None = Field(None, description="id of the comment this one answers")


class CommentEditBody(BaseModel):
    body: str = Field(..., description="The new Markdown text", max_length=MAX_COMMENT_CHARS * 2)


@api.get("/me", summary="The user of the API token", response_model=None,
         responses={200: {"model": MeOut}, **error_responses(401)})
def api_me(request: Request, user=Depends(auth.require_api_user)):
    return {"name": user.username, "isAdmin": bool(user.is_admin)}


@api.post("/papers/submit", status_code=201, summary="Put a paper on today's feed",
          response_model=None, responses={201: {"model": DailyPaperOut}, **WRITE_ERRORS,
                                          **error_responses(409, 503)})
def api_submit(request: Request, body: SubmitBody, user=Depends(auth.require_api_user)):
    rate_limit(request, "submit", user=user)
    result = submit_paper(request.app.state.settings, request.app.state.db, user, body.id)
    _invalidate(request)
    return daily_item_json(result.paper, result.entry, user.username)


@api.post("/papers/{paper_id:path}/upvote", summary="Upvote a paper (idempotent)",
          response_model=None, responses={200: {"model": VoteOut}, **WRITE_ERRORS})
def api_upvote(request: Request, paper_id: str, user=Depends(auth.require_api_user)):
    rate_limit(request, "vote", user=user)
    with request.app.state.db.session() as session:
        result = votes.add_vote(session, user.id, paper_id)
    if result.changed:
        _invalidate(request)
    return vote_json(result)


@api.delete("/papers/{paper_id:path}/upvote", summary="Withdraw your upvote (idempotent)",
            response_model=None, responses={200: {"model": VoteOut}, **WRITE_ERRORS})
def api_unvote(request: Request, paper_id: str, user=Depends(auth.require_api_user)):
    rate_limit(request, "vote", user=user)
    with request.app.state.db.session() as session:
        result = votes.remove_vote(session, user.id, paper_id)
    if result.changed:
        _invalidate(request)
    return vote_json(result)


@api.get("/papers/{paper_id:path}/comments", summary="A paper's comments in thread order",
         response_model=None, responses={200: {"model": list[CommentOut]},
                                         **error_responses(404)})
def api_comments(request: Request, paper_id: str):
    paper_id = check_paper_id(paper_id)
    user = current_user(request)
    with request.app.state.db.session() as session:
        paper = session.get(Paper, paper_id)
        # A hidden paper is hidden everywhere (as on its page): only administrators see it.
        if paper is None or (paper.hidden and not getattr(user, "is_admin", False)):
            raise NotFound(f"no paper with id {paper_id}")
        views = comment_store.list_comments(session, paper_id)
    return [comment_json(v) for v in views]


@api.post("/papers/{paper_id:path}/comments", status_code=201, summary="Comment on a paper",
          response_model=None, responses={201: {"model": CommentOut}, **WRITE_ERRORS})
def api_comment(request: Request, paper_id: str, body: CommentBody = Body(...), user=Depends(auth.require_api_user)):
    rate_limit(request, "comment", user=user)
    return comment_json(_make_comment(request, user, paper_id, body.body, body.parentId))


@api.patch("/comments/{comment_id}", summary="Edit your comment (its author only)",
           response_model=None, responses={200: {"model": CommentOut}, **WRITE_ERRORS})
def api_edit_comment(request: Request, comment_id: IdPath, body: CommentEditBody = Body(...),
                     user=Depends(auth.require_api_user)):
    rate_limit(request, "comment", user=user)
    return comment_json(_edit_comment(request, user, comment_id, body.body))


@api.delete("/comments/{comment_id}", summary="Delete a comment (its author or an admin)",
            response_model=None, responses={200: {"model": CommentOut}, **WRITE_ERRORS})
def api_delete_comment(request: Request, comment_id: IdPath,
                       user=Depends(auth.require_api_user)):
    view = _delete_comment(request, user, comment_id)
    return comment_json(view)


@api.post("/papers/{paper_id:path}/hide", summary="Hide a paper from the feed (admins)",
          response_model=None, responses={200: {"model": HiddenOut}, **WRITE_ERRORS})
def api_hide(request: Request, paper_id: str, user=Depends(auth.require_api_user)):
    changed = _set_hidden(request, user, paper_id, True)
    return {"paperId": paper_id, "hidden": True, "changed": changed}


@api.post("/papers/{paper_id:path}/unhide", summary="Show a hidden paper again (admins)",
          response_model=None, responses={200: {"model": HiddenOut}, **WRITE_ERRORS})
def api_unhide(request: Request, paper_id: str, user=Depends(auth.require_api_user)):
    changed = _set_hidden(request, user, paper_id, False)
    return {"paperId": paper_id, "hidden": False, "changed": changed}


router.include_router(html)
router.include_router(api)
