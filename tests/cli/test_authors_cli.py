"""`paperwire authors claims | approve | revoke | reindex` (SQLite and PostgreSQL)."""

import json

from click.testing import CliRunner
from sqlalchemy import delete, func, select

from paperwire.cli import main
from paperwire.services import authors as service
from paperwire.store.models import PaperAuthor
from tests.factories import make_papers, make_store_user


def _run(settings, *args):
    env = {
        "PAPERWIRE_DATABASE_URL": settings.database_url,
        "PAPERWIRE_DATA_DIR": str(settings.data_dir),
        "PAPERWIRE_LOAD_DEMO_DATA": "0",
    }
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_list_approve_and_revoke_a_claim(settings, db):
    make_papers(db, authors=[{"name": "Ann Lee", "affiliations": []}])
    member = make_store_user(db, "annlee")
    claim = service.claim(settings, db, member, "ann lee")
    r = _run(settings, "authors", "claims", "--status", "pending")
    assert r.exit_code == 0 and "@annlee claims 'Ann Lee'" in r.output
    r = _run(settings, "authors", "approve", str(claim.id))
    assert r.exit_code == 0 and "is approved" in r.output
    rows = json.loads(_run(settings, "authors", "claims", "--json").stdout)
    assert [(x["id"], x["status"], x["rule"]) for x in rows] == [(claim.id, "approved", "admin")]
    r = _run(settings, "authors", "revoke", str(claim.id))
    assert r.exit_code == 0 and "is revoked" in r.output
    # A revoked claim cannot be approved again: one line saying why, non-zero exit.
    r = _run(settings, "authors", "approve", str(claim.id))
    assert r.exit_code != 0 and "only a pending claim" in r.output
    r = _run(settings, "authors", "approve", "424242")
    assert r.exit_code != 0 and "no authorship claim with id 424242" in r.output


def test_reindex_rebuilds_the_author_index(settings, db):
    make_papers(
        db,
        3,
        authors=[{"name": "Ann Lee", "affiliations": []}, {"name": "Bo Chen", "affiliations": []}],
    )
    with db.session() as s:
        s.execute(delete(PaperAuthor))
    r = _run(settings, "authors", "reindex", "--no-progress", "--batch-size", "2")
    assert r.exit_code == 0 and "3 papers indexed" in r.output
    _run(settings, "authors", "reindex", "--no-progress")  # idempotent
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(PaperAuthor)) == 6
