"""Single messages outside an edition run: the opt-in confirmation, and previews."""

from __future__ import annotations

import datetime as dt
import uuid

from paperwire.digest import build, recommended
from paperwire.digest.compose import compose_confirmation, compose_digest, message_id, sender_domain
from paperwire.digest.edition import Edition
from paperwire.digest.model import MailIdentity
from paperwire.digest.tokens import make_token
from paperwire.errors import NotFound


def confirm_url(settings, subscription_id: int, token_version: int) -> str:
    token = make_token(settings.effective_secret_key(), "confirm", subscription_id, token_version)
    return f"{settings.base_url.rstrip('/')}/subscribe/confirm/{token}"


def confirmation_message(settings, *, email: str, subscription_id: int, token_version: int):
    ident = MailIdentity.from_settings(settings)
    mid = message_id("confirm", f"{subscription_id}.{uuid.uuid4().hex[:12]}",
                     sender_domain(ident))
    return compose_confirmation(email, confirm_url(settings, subscription_id, token_version),
                                ident, date=dt.datetime.now(dt.UTC), msg_id=mid)


def send_confirmation(settings, *, email: str, subscription_id: int, token_version: int,
                      transport=None) -> None:
    """Mail the double opt-in link (raises the transport's failures)."""
    from paperwire.digest.transport import open_transport

    msg = confirmation_message(settings, email=email, subscription_id=subscription_id,
                               token_version=token_version)
    if transport is not None:
        transport.send(msg)
        return
    with open_transport(settings) as t:
        t.send(msg)


def preview(settings, db, email: str, ed: Edition):
    """(digest, message) this subscriber would get now; records nothing, sends nothing."""
    from paperwire.store import deliveries, subscriptions

    with db.session() as s:
        sub = subscriptions.get_by_email(s, email)
        if sub is None:
            raise NotFound(f"no subscription for {email}")
        data = build.load_edition(settings, s, ed, db=db)
        sent = deliveries.already_sent(s, [sub.id], data.all_ids())
        names = subscriptions.display_names(s, [sub.user_id] if sub.user_id else [])
        trending, personal = build.choose(data, topics=sub.topics or [],
                                          max_papers=sub.max_papers,
                                          already={pid for _, pid in sent})
        already = {pid for _, pid in sent}
        recs = recommended.choose(settings, db, data, sub.user_id, exclude=already | {
            p.id for p in trending} | {i.paper.id for i in personal})
        digest = build.make_digest(settings, data, email=sub.email, name=names.get(sub.user_id),
                                   subscription_id=sub.id, token_version=sub.token_version,
                                   topics=sub.topics or [], trending=trending,
                                   personal=personal, recommended=recs)
        status = sub.status
    ident = MailIdentity.from_settings(settings)
    msg = compose_digest(digest, ident, date=dt.datetime.now(dt.UTC),
                         msg_id=message_id("preview", f"{ed.edition}.{ed.period}",
                                           sender_domain(ident)))
    return digest, msg, status
