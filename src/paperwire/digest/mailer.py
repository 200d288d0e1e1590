"""Single messages outside an edition run: the opt-in confirmation, and previews."""

from __future__ import annotations

import datetime as dt
import uuid
from email.message import EmailMessage

from paperwire.config import Settings
from paperwire.digest import assemble, build, followed_authors
from paperwire.digest.compose import compose_confirmation, compose_digest, message_id, sender_domain
from paperwire.digest.edition import Edition
from paperwire.digest.model import Digest, MailIdentity
from paperwire.digest.recommended import Recommender
from paperwire.digest.tokens import make_token
from paperwire.digest.transport import Transport
from paperwire.errors import NotFound
from paperwire.store.db import Database


def confirm_url(settings: Settings, subscription_id: int, token_version: int) -> str:
    token = make_token(settings.effective_secret_key(), "confirm", subscription_id, token_version)
    return f"{settings.base_url.rstrip('/')}/subscribe/confirm/{token}"


def confirmation_message(
    settings: Settings, *, email: str, subscription_id: int, token_version: int
) -> EmailMessage:
    ident = MailIdentity.from_settings(settings)
    mid = message_id("confirm", f"{subscription_id}.{uuid.uuid4().hex[:12]}", sender_domain(ident))
    return compose_confirmation(
        email,
        confirm_url(settings, subscription_id, token_version),
        ident,
        date=dt.datetime.now(dt.UTC),
        msg_id=mid,
    )


def send_confirmation(
    settings: Settings,
    *,
    email: str,
    subscription_id: int,
    token_version: int,
    transport: Transport | None = None,
) -> None:
    """Mail the double opt-in link (raises the transport's failures)."""
    from paperwire.digest.transport import open_transport

    msg = confirmation_message(
        settings, email=email, subscription_id=subscription_id, token_version=token_version
    )
    if transport is not None:
        transport.send(msg)
        return
    with open_transport(settings) as t:
        t.send(msg)


def preview(
    settings: Settings,
    db: Database,
    email: str,
    ed: Edition,
    *,
    recommender: Recommender | None = None,
) -> tuple[Digest, EmailMessage, str]:
    """(digest, message, status) this subscriber would get now (``assemble``: the parts a
    send would choose); records nothing, sends nothing."""
    from paperwire.store import deliveries, subscriptions

    with db.session() as s:
        sub = subscriptions.get_by_email(s, email)
        if sub is None:
            raise NotFound(f"no subscription for {email}")
        data = build.load_edition(settings, s, ed, db=db)
        sent = deliveries.already_sent(s, [sub.id], data.all_ids())
        names = subscriptions.display_names(s, [sub.user_id] if sub.user_id else [])
        to = assemble.recipient(sub, names)
        follows = followed_authors.candidates(
            settings, s, {sub.id: sub.user_id}, now=ed.send_at_utc, base_url=data.base_url
        )
        parts = assemble.choose(
            settings,
            db,
            data,
            to,
            already={pid for _, pid in sent},
            follows=follows.get(sub.id, ()),
            recommender=recommender,
        )
        status = sub.status
    # Nothing new: still the (empty) digest, which a send would skip.
    digest = assemble.assemble(settings, data, to, parts, keep_empty=True)
    assert digest is not None
    ident = MailIdentity.from_settings(settings)
    msg = compose_digest(
        digest,
        ident,
        date=dt.datetime.now(dt.UTC),
        msg_id=message_id("preview", f"{ed.edition}.{ed.period}", sender_domain(ident)),
    )
    return digest, msg, status
