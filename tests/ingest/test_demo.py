import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from paperwire.ingest.demo import load_demo_if_empty
from paperwire.store.models import FeedEntry, Paper
from tests.factories import make_papers
from tests.ingest.helpers import dump_tables


def test_demo_loads_seed_on_last_seven_days_and_arxiv_sample(settings, db):
    assert load_demo_if_empty(settings, db) is True
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Paper)) == 255
        days = dict(session.execute(select(FeedEntry.day, func.count())
                                    .group_by(FeedEntry.day)).all())
        mamba = session.scalar(select(Paper).where(Paper.title.startswith("Mamba: Linear")))
    today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
    assert sorted(days) == [today - dt.timedelta(days=d) for d in range(6, -1, -1)]
    assert sum(days.values()) == 55
    assert mamba.upvotes == 12 and mamba.source == "seed" and mamba.author_count == 2


def test_demo_is_idempotent(settings, db):
    load_demo_if_empty(settings, db)
    before = dump_tables(db)
    assert load_demo_if_empty(settings, db) is False
    assert dump_tables(db) == before


def test_demo_not_loaded_into_a_database_with_papers(settings, db):
    make_papers(db, 1)
    assert load_demo_if_empty(settings, db) is False
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Paper)) == 1
