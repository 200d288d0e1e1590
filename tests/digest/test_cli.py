"""`paperwire digest send --dry-run`, `digest preview`, `subscribe`."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import func, select

from paperwire.cli import main
from paperwire.store.models import DigestDelivery, SentPaper, Subscription
from tests.digest.kit import SEND_DAY, seed_day
from tests.factories import make_subscription


def _env(settings, **extra):
    env = {
        "PAPERWIRE_DATABASE_URL": settings.database_url,
        "PAPERWIRE_DATA_DIR": str(settings.data_dir),
        "PAPERWIRE_SECRET_KEY": "k",
        "PAPERWIRE_MAIL_FROM": "news@paperwire.test",
        "PAPERWIRE_LOAD_DEMO_DATA": "0",
    }
    env.update(extra)
    return env


def test_dry_run_writes_eml_and_records_nothing(settings, db, tmp_path):
    seed_day(db)
    make_subscription(db, "a@example.org")
    make_subscription(db, "b@example.org")
    out = tmp_path / "eml"
    r = CliRunner().invoke(
        main,
        ["digest", "send", "--date", SEND_DAY.isoformat(), "--dry-run", str(out), "--no-progress"],
        env=_env(settings),
    )
    assert r.exit_code == 0, r.output
    assert "2 sent" in r.output and len(list(out.glob("*.eml"))) == 2
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(DigestDelivery)) == 0
        assert s.scalar(select(func.count()).select_from(SentPaper)) == 0


def test_preview_prints_the_digest_and_sends_nothing(settings, db):
    _feed, cells = seed_day(db)
    make_subscription(
        db, "a@example.org", topics=[{"kind": "category", "value": "q-bio.*", "threshold": None}]
    )
    r = CliRunner().invoke(
        main,
        ["digest", "preview", "a@example.org", "--date", SEND_DAY.isoformat()],
        env=_env(settings),
    )
    assert r.exit_code == 0, r.output
    assert "TRENDING" in r.output and "FOR YOUR TOPICS" in r.output
    assert "Matched your category q-bio.*" in r.output and cells[0].id in r.output
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(DigestDelivery)) == 0


def test_preview_of_unknown_address_is_a_clear_error(settings, db):
    r = CliRunner().invoke(main, ["digest", "preview", "nobody@example.org"], env=_env(settings))
    assert r.exit_code != 0 and "no subscription for nobody@example.org" in r.output


def test_operator_subscribe_confirmed(settings, db):
    r = CliRunner().invoke(
        main,
        ["subscribe", "Op@Example.org", "--confirmed", "--topic", '"single-cell" cat:q-bio.*'],
        env=_env(settings),
    )
    assert r.exit_code == 0, r.output
    with db.session() as s:
        sub = s.scalar(select(Subscription))
        assert (sub.email, sub.status) == ("op@example.org", "active")
        assert sub.topics[0]["value"] == '"single-cell" cat:q-bio.*'


def test_bad_date_is_a_clear_error(settings, db):
    r = CliRunner().invoke(main, ["digest", "send", "--date", "26/11/2026"], env=_env(settings))
    assert r.exit_code != 0 and "--date must be YYYY-MM-DD" in r.output
