"""For you in a real browser: sign up, onboard with two topics and three pasted papers, see
recommendations with their reasons; "not interested" removes the paper and its near duplicate
(a re-submission of it); the member's digest preview has the "Recommended for you" section."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import delete, select

from paperwire.store.models import Embedding, FeedEntry, Paper, SentenceVectors, utcnow
from paperwire.store.recommend_models import MemberRecommendation
from tests.browser.conftest import SCREENSHOTS
from tests.search.embed_fixtures import encoder  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

USERNAME, PASSWORD, EMAIL = "recofan", "a long enough passphrase", "recofan@example.org"
DUP_ID = "2612.99001"


def _embed_candidates(site, encoder):  # noqa: F811
    """Store real vectors of the feed's papers and of a re-submission of one of them (the same
    abstract, a reworded title, not on the feed: a newly harvested paper)."""
    from paperwire.search.embed import paper_text
    from paperwire.store.embeddings import PendingPaper, save_embeddings
    from paperwire.store.papers import upsert_papers
    from tests.factories import make_record

    with site.db.session() as s:
        rows = s.execute(
            select(Paper.id, Paper.title, Paper.abstract, Paper.content_hash)
            .join(FeedEntry, FeedEntry.paper_id == Paper.id)
            .order_by(Paper.id)
        ).all()
    original = rows[0]
    when = utcnow() - dt.timedelta(days=1)
    with site.db.session() as s:
        upsert_papers(
            s,
            [
                make_record(
                    id=DUP_ID,
                    title="Revisited: " + original.title,
                    abstract=original.abstract,
                    published_at=when,
                    updated_at=when,
                )
            ],
        )
        dup_hash = s.scalar(select(Paper.content_hash).where(Paper.id == DUP_ID))
    papers = [PendingPaper(r.id, r.title, r.abstract, r.content_hash) for r in rows]
    papers.append(PendingPaper(DUP_ID, "Revisited: " + original.title, original.abstract, dup_hash))
    vectors = encoder.encode([paper_text(p.title, p.abstract) for p in papers])
    assert float(vectors[0] @ vectors[-1]) >= 0.9
    with site.db.session() as s:
        save_embeddings(s, encoder.model_id, papers, vectors)
    return [r.id for r in rows]


def test_onboard_see_reasons_not_interested_and_the_digest(browser, site, encoder):  # noqa: F811
    from paperwire.services.recommendations import clear_pools

    feed_ids = _embed_candidates(site, encoder)
    clear_pools()
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(site.url + "/signup")
        page.get_by_label("Username").fill(USERNAME)
        page.get_by_label("E-mail").fill(EMAIL)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Password again").fill(PASSWORD)
        page.get_by_role("button", name="Sign up").click()
        page.wait_for_load_state()

        # --- the tab, and the onboarding step on the first visit ---------------------------
        page.get_by_role("navigation", name="Main").get_by_role("link", name="For you").click()
        page.wait_for_url(re.compile(r"/for-you$"))
        assert page.get_by_role("heading", name="Tell us what you read").is_visible()
        boxes = page.locator(".onboarding input[type=checkbox]")
        assert boxes.count() >= 2
        boxes.nth(0).check()
        boxes.nth(1).check()
        # Three papers like the first feed paper (the same subject: its nearest neighbours
        # by vector are found the way a member would paste what they read).
        page.get_by_label("Paste arXiv ids or links").fill(
            f"{feed_ids[1]}\nhttps://arxiv.org/abs/{feed_ids[2]}\n{feed_ids[3]}"
        )
        page.get_by_role("button", name="Start my recommendations").click()
        page.wait_for_load_state()
        assert "following 2 topics and saved 3 papers" in page.locator(".notice").inner_text()

        # --- recommendations with reasons -------------------------------------------------
        cards = page.locator(".recommendation")
        assert cards.count() >= 5
        reasons = page.locator(".recommendation .reason").all_inner_texts()
        assert all(r.startswith("Because you saved “") for r in reasons), reasons
        shown = [
            page.locator(".recommendation input[name=paper_id]").nth(2 * i).get_attribute("value")
            for i in range(cards.count())
        ]
        assert feed_ids[0] in shown and DUP_ID in shown
        assert not {feed_ids[1], feed_ids[2], feed_ids[3]} & set(shown)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "for-you.png"))

        # --- "not interested": the paper and its re-submission go ------------------------
        card = page.locator(
            ".recommendation", has=page.locator(f"input[name=paper_id][value='{feed_ids[0]}']")
        )
        card.get_by_role("button", name="Not interested").click()
        page.wait_for_url(re.compile(r"/for-you$"))
        after = page.locator(".recommendation input[name=paper_id][value]")
        ids_after = {after.nth(i).get_attribute("value") for i in range(after.count())}
        assert feed_ids[0] not in ids_after and DUP_ID not in ids_after
        assert len(ids_after) >= 3
        assert not errors, errors
    finally:
        context.close()

    # --- the member's digest preview shows the section ------------------------------------
    from paperwire.digest.edition import edition_from_settings
    from paperwire.digest.mailer import preview
    from paperwire.services.recommendations import recommendations_for
    from paperwire.store.users import get_user_by_username
    from tests.factories import make_subscription

    with site.db.session() as s:
        uid = get_user_by_username(s, USERNAME).id
    make_subscription(site.db, EMAIL, user_id=uid)
    digest, msg, _ = preview(
        site.settings,
        site.db,
        EMAIL,
        edition_from_settings(site.settings, "daily", dt.date.today()),
        recommender=recommendations_for,
    )
    assert digest.recommended
    assert "RECOMMENDED FOR YOU" in msg.get_body(("plain",)).get_content()
    with site.db.session() as s:  # leave the shared site as the other tests expect it
        for model in (Embedding, SentenceVectors, MemberRecommendation, Paper):
            column = model.paper_id if hasattr(model, "paper_id") else model.id
            s.execute(delete(model).where(column == DUP_ID))
    clear_pools()
