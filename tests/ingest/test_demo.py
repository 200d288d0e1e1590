import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from paperwire.ingest.demo import SEED_FILE, demo_file, load_demo_if_empty
from paperwire.store.models import FeedEntry, Paper
from tests.factories import make_papers
from tests.ingest.helpers import dump_tables

SHARED = "/work/shared/data/seed_papers_arxiv.jsonl"  # where the demo's arXiv data came from


def _seed_lines() -> list[dict]:
    return [
        json.loads(line) for line in demo_file(SEED_FILE).read_text().splitlines() if line.strip()
    ]


def _counts(db) -> tuple[int, int]:
    with db.session() as session:
        return (
            session.scalar(select(func.count()).select_from(Paper)),
            session.scalar(select(func.count()).select_from(FeedEntry)),
        )


def test_demo_loads_seed_on_last_seven_days_and_arxiv_sample(settings, db):
    assert load_demo_if_empty(settings, db) is True
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Paper)) == 255
        days = dict(
            session.execute(select(FeedEntry.day, func.count()).group_by(FeedEntry.day)).all()
        )
        mamba = session.get(Paper, "2312.00752")
    today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
    assert sorted(days) == [today - dt.timedelta(days=d) for d in range(6, -1, -1)]
    assert sum(days.values()) == 55
    assert mamba.title.startswith("Mamba: Linear")
    assert mamba.upvotes == 12 and mamba.author_count == 2


def test_demo_seed_papers_are_real_arxiv_papers(settings, db):
    """Ids, authors in order, categories, first-version dates and links of the 55 seed papers
    are those of the resolved arXiv records; unconfirmed fields stay empty."""
    load_demo_if_empty(settings, db)
    lines = _seed_lines()
    assert len(lines) == 55 and all(line["arxiv_id"] for line in lines)
    with db.session() as session:
        papers = {
            p.id: p
            for p in session.scalars(
                select(Paper).where(Paper.id.in_([line["arxiv_id"] for line in lines]))
            )
        }
        on_feed = set(session.scalars(select(FeedEntry.paper_id)))
    assert set(papers) == on_feed  # exactly the seed papers are on the feed
    for line in lines:
        paper = papers[line["arxiv_id"]]
        assert paper.source == "arxiv" and paper.upvotes == line["upvotes"]
        assert [a["name"] for a in paper.authors] == (line["authors"] or [])
        assert paper.author_count == len(line["authors"] or []) or line["n_authors"]
        assert paper.categories == line["categories"]
        assert paper.primary_category == (
            line["primary_category"] or (line["categories"] or [None])[0]
        )
        first = line["v1_date"] or line["published"]
        assert paper.published_at == dt.datetime.fromisoformat(first)
        assert paper.abs_url == f"https://arxiv.org/abs/{paper.id}"
        assert paper.pdf_url == f"https://arxiv.org/pdf/{paper.id}"
    mamba = papers["2312.00752"]
    assert [a["name"] for a in mamba.authors] == ["Albert Gu", "Tri Dao"]


@pytest.mark.skipif(not os.path.exists(SHARED), reason="the shared data folder is not here")
def test_demo_seed_matches_the_shared_resolution_line_for_line():
    shared = [json.loads(line) for line in open(SHARED, encoding="utf-8")]
    ours = _seed_lines()
    assert len(ours) == len(shared) == 55
    for mine, theirs in zip(ours, shared):
        assert mine["seq_search_rank"] == theirs["seq_search_rank"]
        assert mine["title"] == theirs["title"]
        for key in ("arxiv_id", "authors", "primary_category", "categories", "v1_date", "code_url"):
            assert mine[key] == theirs[key], (theirs["arxiv_id"], key)


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


@pytest.mark.parametrize("stop_before", ["_put_seed_on_feed", "arxiv"])
def test_demo_interrupted_anywhere_is_finished_once_by_the_next_load(
    settings, db, monkeypatch, stop_before
):
    """A Ctrl+C between the demo's steps (papers imported, feed not yet filled) used to leave
    the papers without feed entries forever: the loader looked only for an empty table."""
    import paperwire.ingest.demo as demo

    real_import, real_feed = demo._import, demo._put_seed_on_feed

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    if stop_before == "_put_seed_on_feed":
        monkeypatch.setattr(demo, "_put_seed_on_feed", interrupt)
    else:
        monkeypatch.setattr(
            demo,
            "_import",
            lambda s, d, name, fmt, **kw: (
                interrupt() if name == demo.ARXIV_FILE else real_import(s, d, name, fmt, **kw)
            ),
        )
    with pytest.raises(KeyboardInterrupt):
        load_demo_if_empty(settings, db)
    monkeypatch.setattr(demo, "_import", real_import)
    monkeypatch.setattr(demo, "_put_seed_on_feed", real_feed)
    assert load_demo_if_empty(settings, db) is True
    assert _counts(db) == (255, 55)
    assert load_demo_if_empty(settings, db) is False
    assert _counts(db) == (255, 55)


def test_demo_killed_after_its_papers_is_finished_by_the_next_process(settings, db, tmp_path):
    """kill -9 of a real process right after the seed papers committed (before the feed):
    the next process's load puts every seed paper on the feed, each once."""
    script = textwrap.dedent("""
        import os, signal, sys
        from paperwire.config import load_settings
        from paperwire.store.db import open_database
        import paperwire.ingest.demo as demo
        demo._put_seed_on_feed = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
        settings = load_settings()
        demo.load_demo_if_empty(settings, open_database(settings, migrate=False))
    """)
    env = {
        **os.environ,
        "PAPERWIRE_DATA_DIR": str(settings.data_dir),
        "PAPERWIRE_DATABASE_URL": settings.effective_database_url,
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == -9, done.stderr
    assert _counts(db) == (55, 0)
    assert load_demo_if_empty(settings, db) is True
    assert _counts(db) == (255, 55)
