"""Accounts: sign up, sign in, sign out, the profile page (submissions, upvotes, comments, API
tokens) and public user pages.

Thin handlers: validation and hashing live in ``paperwire.web.auth``, SQL in
``paperwire.store.users``. ``install(app)`` adds ``SecurityMiddleware`` (session user, CSRF,
security headers) to the whole app.

An upvote pressed before signing in is counted by the sign-in or sign-up that follows
(``web/intents.py``); both pages say so.

Form errors re-render the form with the message and the values typed (never the password)
and a 4xx status; success redirects (303) so a reload does not resubmit.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from paperwire.errors import BadInput, NotFound
from paperwire.store import users as user_store
from paperwire.store.users import AlreadyExists
from paperwire.web import auth, intents
from paperwire.web.appcontext import app_context, invalidate_pages
from paperwire.web.inputs import IdPath, local_path
from paperwire.web.pages import page_response
from paperwire.web.security import SecurityMiddleware, rate_limit

router = APIRouter(include_in_schema=False)


def install(app) -> None:
    app.add_middleware(SecurityMiddleware, settings=app_context(app).settings)


def safe_next(value: str | None, default: str = "/") -> str:
    """A local path to go to after signing in; anything pointing off-site (``inputs.local_path``)
    or at sign-out becomes ``default``."""
    value = local_path(value, default)
    return default if value.startswith("/signout") else value


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _signin_redirect(request: Request) -> RedirectResponse:
    from urllib.parse import quote

    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return _redirect(f"/signin?next={quote(target, safe='')}")


# --- sign up -------------------------------------------------------------------------------


@router.get("/signup")
def signup_form(request: Request, next: str = ""):
    if auth.current_user(request) is not None:
        return _redirect(safe_next(next))
    return _credentials_page(request, "signup", next)


@router.post("/signup")
def signup(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    password_confirm: str = Form(""),
    email: str = Form(""),
    next: str = Form(""),
):
    rate_limit(request, "signup")
    username, email = username.strip(), email.strip()
    values = {"username": username, "email": email}
    errors = auth.check_new_credentials(username, password, email or None)
    if not errors and password != password_confirm:
        errors.append("The two passwords differ; please type the same password twice.")
    status = 400
    user = None
    if not errors:
        try:
            user = auth.create_user(
                app_context(request).db, username, password, email=email or None
            )
        except AlreadyExists as exc:
            errors.append(_sentence(str(exc)) + " Please choose another or sign in.")
            status = 409
        except BadInput as exc:
            errors.append(_sentence(str(exc)))
    if user is None:
        return _credentials_page(
            request, "signup", next, errors=errors, values=values, status_code=status
        )
    response = _redirect(safe_next(next))
    auth.set_session_cookie(
        response, app_context(request).settings, auth.new_session(app_context(request).db, user.id)
    )
    intents.apply_pending_vote(request, response, user.id)
    return response


def _credentials_page(
    request: Request,
    which: str,
    next: str,
    *,
    errors: list[str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The sign-up or sign-in form (``which``: "signup" or "signin"), blank or with what was
    typed and why it was refused."""
    return page_response(
        request,
        f"accounts/{which}.html",
        {
            "page_title": {"signup": "Sign up", "signin": "Sign in"}[which],
            "next": safe_next(next, ""),
            "errors": errors or [],
            "values": values or {},
            "vote_for": _vote_for(request),
        },
        status_code=status_code,
    )


def _vote_for(request: Request) -> str | None:
    """Title of the paper whose upvote waits for this sign-in (``web/intents.py``)."""
    return intents.paper_title(request, intents.pending_vote(request))


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


# --- sign in / out -------------------------------------------------------------------------


@router.get("/signin")
def signin_form(request: Request, next: str = ""):
    if auth.current_user(request) is not None:
        return _redirect(safe_next(next))
    return _credentials_page(request, "signin", next)


@router.post("/signin")
def signin(
    request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("")
):
    username = username.strip()
    rate_limit(request, "signin", extra_keys=(f"name:{username.lower()}",) if username else ())
    db = app_context(request).db
    with db.session() as session:
        user = auth.authenticate(session, username, password)
    if user is None:
        return _credentials_page(
            request,
            "signin",
            next,
            errors=["Wrong username or password."],
            values={"username": username},
            status_code=400,
        )
    # A fresh id on every sign-in: a session id planted before sign-in is worthless after.
    auth.end_session(db, request.state.session_id)
    response = _redirect(safe_next(next))
    auth.set_session_cookie(response, app_context(request).settings, auth.new_session(db, user.id))
    intents.apply_pending_vote(request, response, user.id)
    return response


@router.post("/signout")
def signout(request: Request):
    auth.end_session(app_context(request).db, request.state.session_id)
    response = _redirect("/")
    auth.clear_session_cookie(response, app_context(request).settings)
    return response


# --- profile -------------------------------------------------------------------------------


def _profile_context(request: Request, user, **extra) -> dict:
    with app_context(request).db.session() as session:
        context = {
            "page_title": "Your profile",
            "user": user,
            "submissions": user_store.user_submissions(session, user.id),
            "upvotes": user_store.user_upvotes(session, user.id),
            "comments": user_store.user_comments(session, user.id, limit=20),
            "tokens": user_store.list_api_tokens(session, user.id),
            "new_token": None,
            "token_errors": [],
            "password_errors": [],
            "password_changed": False,
            "delete_errors": [],
            "subscription_url": _subscription_url(request, user),
            "notify": _notify_context(request, user),
        }
    context.update(extra)
    return context


def _notify_context(request: Request, user) -> dict:
    """The notification-mail preference (``routes/notifications.py`` handles the form)."""
    from paperwire.services import notifications

    state = request.query_params.get("notify", "")
    on = notifications.overview(app_context(request).db, user, limit=0)["email_on"]
    return {
        "email_on": on,
        "has_email": bool(user.email),
        "state": state if state in ("on", "off", "check-mail") else "",
    }


def _subscription_url(request: Request, user) -> str:
    """Where the user manages e-mail digests: the digest area's /subscribe page (it shows
    the preferences of a signed-in subscriber), when that area is installed."""
    if not _has_subscriptions():
        return ""
    return "/subscribe"


def _has_subscriptions() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("paperwire.web.routes.subscriptions") is not None
    except ImportError:
        return False


@router.get("/profile")
def profile(request: Request):
    user = auth.current_user(request)
    if user is None:
        return _signin_redirect(request)
    return page_response(request, "profile.html", _profile_context(request, user))


@router.post("/profile/tokens")
def create_token(request: Request, name: str = Form("")):
    user = auth.require_signed_in(request)
    rate_limit(request, "token", user=user)
    name = name.strip()
    if len(name) > 128:
        return page_response(
            request,
            "profile.html",
            _profile_context(
                request, user, token_errors=["A token name has at most 128 characters."]
            ),
            status_code=400,
        )
    token = auth.new_api_token(app_context(request).db, user.id, name)
    # Shown once, on this response only; it must not be cached anywhere.
    return page_response(
        request,
        "profile.html",
        _profile_context(request, user, new_token=token),
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


@router.post("/profile/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: IdPath):
    user = auth.require_signed_in(request)
    with app_context(request).db.session() as session:
        revoked = user_store.revoke_api_token(session, user.id, token_id)
    if not revoked:
        # Someone else's token id looks exactly like a missing one: no probing of token ids.
        raise NotFound(f"you have no API token with id {token_id}")
    return _redirect("/profile#tokens")


@router.post("/profile/password")
def change_password(
    request: Request,
    current_password: str = Form(""),
    new_password: str = Form(""),
    new_password_confirm: str = Form(""),
):
    user = auth.require_signed_in(request)
    rate_limit(request, "signin", user=user)
    db = app_context(request).db
    errors: list[str] = []
    with db.session() as session:
        if auth.authenticate(session, user.username, current_password) is None:
            errors.append("The current password is wrong.")
    if not errors:
        errors = auth.check_password(new_password, user.username)
    if not errors and new_password != new_password_confirm:
        errors.append("The two new passwords differ.")
    if errors:
        return page_response(
            request,
            "profile.html",
            _profile_context(request, user, password_errors=errors),
            status_code=400,
        )
    with db.session() as session:
        user_store.set_password_hash(session, user.id, auth.hash_password(new_password))
        # Every other browser signed in as this user is signed out.
        user_store.delete_user_sessions(
            session, user.id, keep=auth.digest(request.state.session_id)
        )
    return page_response(
        request, "profile.html", _profile_context(request, user, password_changed=True)
    )


@router.post("/profile/delete")
def delete_account(request: Request, password: str = Form(""), confirm: str = Form("")):
    """Delete the signed-in user's account: needs the current password and the username typed
    again (a stolen session alone cannot do it; a slip of the mouse cannot either). What goes
    and what stays is ``store.users.delete_account``'s docstring (votes removed, comments
    emptied and shown as "[deleted]" where replies keep them, submissions stay unattributed).
    The last administrator cannot delete themselves (the site would have no moderator)."""
    user = auth.require_signed_in(request)
    rate_limit(request, "signin", user=user)
    db = app_context(request).db
    errors: list[str] = []
    with db.session() as session:
        if auth.authenticate(session, user.username, password) is None:
            errors.append("The password is wrong.")
        elif confirm.strip().lower() != user.username.lower():
            errors.append(f"Type your username ({user.username}) in the confirmation box.")
        elif user.is_admin and user_store.count_admins(session) <= 1:
            errors.append(
                "You are the only administrator: make another user an administrator "
                "first (`paperwire user admin NAME`)."
            )
    if errors:
        return page_response(
            request,
            "profile.html",
            _profile_context(request, user, delete_errors=errors),
            status_code=400,
        )
    with db.session() as session:
        user_store.delete_account(session, user.id)
    invalidate_pages(request)  # their votes and comments left the lists
    request.state.user = None
    response = page_response(
        request,
        "accounts/deleted.html",
        {"page_title": "Account deleted", "username": user.username},
        headers={"Cache-Control": "no-store"},
    )
    auth.clear_session_cookie(response, app_context(request).settings)
    return response


# --- public user pages ---------------------------------------------------------------------


@router.get("/users/{username}")
def user_page(request: Request, username: str):
    with app_context(request).db.session() as session:
        user = user_store.get_user_by_username(session, username)
        if user is None or user.disabled:
            raise NotFound(f"no user named {username!r}")
        submissions = user_store.user_submissions(session, user.id)
        comments = user_store.user_comments(session, user.id, limit=50)
        from paperwire.store.author_claims import approved_names

        authored = approved_names(session, user.id)
    return page_response(
        request,
        "accounts/user.html",
        {
            "page_title": user.display_name or user.username,
            "user": user,
            "submissions": submissions,
            "comments": comments,
            "authored": authored,
        },
    )
