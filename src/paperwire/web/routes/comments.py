"""Comments: the paper page's forms (post, reply, edit, delete, earlier versions) and the JSON
API. Both call ``services/discussion.py`` (post, edit, notifications) and
``services/comments.py`` (delete, read), so the rules are the same:

- a comment can be deleted by its author or by an administrator, nobody else;
- a comment can be edited by its author only; administrators see its earlier versions;
- every post and edit is rate-limited per user (``settings.rate_limit_per_minute``).

A form that fails validation comes back with the text typed and the reason: nothing typed
is lost.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from paperwire.errors import BadInput
from paperwire.markup.markdown import MAX_COMMENT_CHARS
from paperwire.services import comments, discussion
from paperwire.services.api_objects import comment_json
from paperwire.store.comments import CommentView
from paperwire.store.models import User
from paperwire.web import auth
from paperwire.web.appcontext import app_context, invalidate_pages
from paperwire.web.errors import error_responses, wants_json
from paperwire.web.forms import back, paper_url, redirect, signin_first
from paperwire.web.inputs import IdField, IdPath, parse_id
from paperwire.web.page_common import check_paper_id
from paperwire.web.pages import current_user, page_response
from paperwire.web.schemas import CommentOut
from paperwire.web.security import rate_limit

router = APIRouter()
html = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["write"])

# What each kind of API write can answer besides success (all as ``ErrorOut``).
WRITE_ERRORS = error_responses(401, 403, 404, 429)


def _post(
    request: Request, user: User, paper_id: str, body: str, parent_id: int | None
) -> CommentView:
    rate_limit(request, "comment", user=user)
    posted = discussion.post_comment(app_context(request).db, user, paper_id, body, parent_id)
    invalidate_pages(request)
    return posted.view


def _edit(request: Request, user: User, comment_id: int, body: str) -> CommentView:
    rate_limit(request, "comment", user=user)
    view = discussion.edit_comment(app_context(request).db, user, comment_id, body)
    invalidate_pages(request)
    return view


def _delete(request: Request, user: User, comment_id: int) -> CommentView:
    view = comments.delete_comment(app_context(request).db, user, comment_id)
    invalidate_pages(request)
    return view


def _status(body: str) -> int:
    """A refused form: 422 when nothing was typed, else 400."""
    return 400 if body.strip() else 422


# --- HTML forms ----------------------------------------------------------------------------


@html.post("/papers/{paper_id:path}/comments")
def comment_form(request: Request, paper_id: str, body: str = Form(""), parent_id: str = Form("")):
    user = auth.current_user(request)
    if user is None:
        return signin_first(request, paper_url(paper_id, "comments"))
    try:
        view = _post(request, user, paper_id, body, parse_id(parent_id, "parent_id"))
    except BadInput as exc:
        paper = comments.paper_to_comment_on(app_context(request).db, paper_id)
        return page_response(
            request,
            "comment_form.html",
            {
                "page_title": "Your comment",
                "paper": paper,
                "body": body,
                "parent_id": parent_id,
                "error": str(exc),
            },
            status_code=_status(body),
        )
    if wants_json(request):
        return JSONResponse(comment_json(view), status_code=201)
    return redirect(paper_url(paper_id, f"comment-{view.id}"))


@html.post("/comments/{comment_id}/delete")
def delete_comment_form(request: Request, comment_id: IdPath) -> RedirectResponse:
    user = auth.current_user(request)
    if user is None:
        return signin_first(request, back(request, "/"))
    view = _delete(request, user, comment_id)
    return redirect(paper_url(view.comment.paper_id, "comments"))


@html.post("/papers/{paper_id:path}/comments/{comment_id}/delete")
def delete_paper_comment_form(
    request: Request, paper_id: str, comment_id: IdPath
) -> RedirectResponse:
    """Same as ``/comments/{id}/delete``; the paper page's delete buttons post here."""
    return delete_comment_form(request, comment_id)


def _edit_page(
    request: Request,
    found: comments.CommentOnPaper,
    body: str,
    error: str | None,
    status_code: int = 200,
) -> HTMLResponse:
    return page_response(
        request,
        "actions/edit_comment.html",
        {
            "page_title": "Edit your comment",
            "paper": found.paper,
            "comment": found.comment,
            "body": body,
            "error": error,
        },
        status_code=status_code,
    )


@html.get("/comments/{comment_id}/edit")
def edit_comment_page(request: Request, comment_id: IdPath):
    user = auth.current_user(request)
    if user is None:
        return signin_first(request, f"/comments/{comment_id}/edit")
    found = comments.comment_for_edit(app_context(request).db, user, comment_id)
    return _edit_page(request, found, found.comment.body, None)


@html.post("/comments/{comment_id}/edit")
def edit_comment_form(request: Request, comment_id: IdPath, body: str = Form("")):
    user = auth.current_user(request)
    if user is None:
        return signin_first(request, f"/comments/{comment_id}/edit")
    try:
        view = _edit(request, user, comment_id, body)
    except BadInput as exc:
        found = comments.comment_with_paper(app_context(request).db, comment_id)
        return _edit_page(request, found, body, str(exc), _status(body))
    return redirect(paper_url(view.comment.paper_id, f"comment-{view.id}"))


@html.get("/comments/{comment_id}/history")
def comment_history_page(request: Request, comment_id: IdPath):
    """Earlier versions of an edited comment (administrators)."""
    user = auth.current_user(request)
    if user is None:
        return signin_first(request, f"/comments/{comment_id}/history")
    history = discussion.comment_history(app_context(request).db, user, comment_id)
    return page_response(
        request,
        "actions/comment_history.html",
        {"page_title": f"History of comment {comment_id}", "history": history},
    )


# --- JSON API (personal API token) ---------------------------------------------------------


class CommentBody(BaseModel):
    body: str = Field(..., description="Markdown text", max_length=MAX_COMMENT_CHARS * 2)
    parentId: IdField | None = Field(None, description="id of the comment this one answers")


class CommentEditBody(BaseModel):
    body: str = Field(..., description="The new Markdown text", max_length=MAX_COMMENT_CHARS * 2)


@api.get(
    "/papers/{paper_id:path}/comments",
    summary="A paper's comments in thread order",
    response_model=None,
    responses={200: {"model": list[CommentOut]}, **error_responses(404)},
)
def api_comments(request: Request, paper_id: str) -> list[dict[str, Any]]:
    # A hidden paper is hidden everywhere (as on its page): only administrators see it.
    views = comments.paper_thread(
        app_context(request).db, current_user(request), check_paper_id(paper_id)
    )
    return [comment_json(v) for v in views]


@api.post(
    "/papers/{paper_id:path}/comments",
    status_code=201,
    summary="Comment on a paper",
    response_model=None,
    responses={201: {"model": CommentOut}, **WRITE_ERRORS},
)
def api_comment(
    request: Request,
    paper_id: str,
    body: CommentBody = Body(...),
    user: User = Depends(auth.require_api_user),
) -> dict[str, Any]:
    return comment_json(_post(request, user, paper_id, body.body, body.parentId))


@api.patch(
    "/comments/{comment_id}",
    summary="Edit your comment (its author only)",
    response_model=None,
    responses={200: {"model": CommentOut}, **WRITE_ERRORS},
)
def api_edit_comment(
    request: Request,
    comment_id: IdPath,
    body: CommentEditBody = Body(...),
    user: User = Depends(auth.require_api_user),
) -> dict[str, Any]:
    return comment_json(_edit(request, user, comment_id, body.body))


@api.delete(
    "/comments/{comment_id}",
    summary="Delete a comment (its author or an admin)",
    response_model=None,
    responses={200: {"model": CommentOut}, **WRITE_ERRORS},
)
def api_delete_comment(
    request: Request, comment_id: IdPath, user: User = Depends(auth.require_api_user)
) -> dict[str, Any]:
    return comment_json(_delete(request, user, comment_id))


router.include_router(html)
router.include_router(api)
