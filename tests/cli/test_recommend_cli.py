"""`paperwire recommend USER [--json]` and `--all` (operators), on the real-record fixture."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from paperwire.cli import main
from paperwire.store import library
from paperwire.web import auth
from tests.recommend.shared_fixtures import fresh_pools  # noqa: F401  (fixtures)
from tests.recommend.store_kit import ids_of, load_sample


def _env(settings):
    return {
        "PAPERWIRE_DATABASE_URL": settings.database_url,
        "PAPERWIRE_DATA_DIR": str(settings.data_dir),
        "PAPERWIRE_SECRET_KEY": "k",
        "PAPERWIRE_LOAD_DEMO_DATA": "0",
        "PAPERWIRE_RECOMMEND_NEGATIVES": "100",
    }


@pytest.fixture
def alice(db):
    sample = load_sample(db)
    user = auth.create_user(db, "alice", "correct horse battery")
    with db.session() as s:
        for pid in ids_of(sample, "physics.ao-ph", old=True):
            library.save_paper(s, user.id, pid)
    return user


def test_recommend_prints_papers_with_their_reasons(settings, db, alice):
    r = CliRunner().invoke(main, ["recommend", "alice", "--limit", "3"], env=_env(settings))
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert len(lines) == 6 and lines[0].startswith(" 1. ")
    assert all(line.strip().startswith("because you saved “") for line in lines[1::2])


def test_recommend_json_is_one_document(settings, db, alice):
    r = CliRunner().invoke(main, ["recommend", "alice", "--json"], env=_env(settings))
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["user"] == "alice" and len(doc["recommendations"]) == 10
    assert set(doc["recommendations"][0]) == {
        "paper_id",
        "title",
        "score",
        "reason",
        "reason_kind",
        "reason_label",
        "reason_paper_id",
    }


def test_unknown_user_is_a_clear_error(settings, db):
    r = CliRunner().invoke(main, ["recommend", "nobody"], env=_env(settings))
    assert r.exit_code != 0 and "no user named 'nobody'" in r.output


def test_all_precomputes_every_member_with_signals(settings, db, alice):
    r = CliRunner().invoke(main, ["recommend", "--all"], env=_env(settings))
    assert r.exit_code == 0, r.output
    assert "recommendations for 1 members (30 papers)" in r.output


def _reading_group(db, user, ids):
    from paperwire.services import library as library_service

    row = library_service.create_list(db, user.id, "reading group")
    for pid in ids:
        library_service.add_to_list(db, user.id, row.id, pid)
    return row.id


def test_recommend_for_a_list_prints_its_papers_with_the_lists_reason(settings, db, alice):
    sample = load_sample(db)
    list_id = _reading_group(db, alice, ids_of(sample, "cs.IR", old=True))
    r = CliRunner().invoke(
        main, ["recommend", "alice", "--list", str(list_id), "--limit", "3"], env=_env(settings)
    )
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert len(lines) == 6 and lines[0].startswith(" 1. ")
    assert all(
        line.strip().startswith("close to your list “reading group”: similar to “")
        for line in lines[1::2]
    )


def test_recommend_for_a_list_as_json(settings, db, alice):
    sample = load_sample(db)
    in_list = ids_of(sample, "cs.IR", old=True)
    list_id = _reading_group(db, alice, in_list)
    r = CliRunner().invoke(
        main, ["recommend", "alice", "--list", str(list_id), "--json"], env=_env(settings)
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["user"] == "alice" and doc["list"] == list_id
    assert len(doc["recommendations"]) == 10
    assert {x["reason_paper_id"] for x in doc["recommendations"]} <= set(in_list)


def test_recommend_for_another_members_list_is_a_clear_error(settings, db, alice):
    bob = auth.create_user(db, "bob", "correct horse battery")
    sample = load_sample(db)
    list_id = _reading_group(db, alice, ids_of(sample, "cs.IR", old=True)[:3])
    r = CliRunner().invoke(main, ["recommend", "bob", "--list", str(list_id)], env=_env(settings))
    assert r.exit_code != 0 and f"no list with id {list_id}" in r.output
    assert bob


def test_every_digest_entry_point_gives_a_member_the_recommended_section(
    settings, db, alice, tmp_path
):
    """The digest is below services/, so the entry points hand it the recommender: the CLI's
    preview, dry run and send, and the worker's digest job all give an account-linked
    subscriber the "Recommended for you" section."""
    import dataclasses
    import datetime as dt
    import email
    import email.policy

    from paperwire.jobs.definitions import digest_part
    from tests.factories import make_subscription
    from tests.support.smtp_sink import SmtpSink

    make_subscription(db, "alice@example.org", user_id=alice.id)
    env = _env(settings)
    r = CliRunner().invoke(main, ["digest", "preview", "alice@example.org"], env=env)
    assert r.exit_code == 0, r.output
    assert "RECOMMENDED FOR YOU" in r.output and "Because you saved “" in r.output

    out = tmp_path / "eml"
    r = CliRunner().invoke(
        main, ["digest", "send", "--dry-run", str(out), "--no-progress"], env=env
    )
    assert r.exit_code == 0, r.output
    (eml,) = out.glob("*.eml")
    written = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert "RECOMMENDED FOR YOU" in written.get_body(("plain",)).get_content()

    with SmtpSink() as sink:
        mail = dataclasses.replace(
            settings, smtp_url=sink.smtp_url, mail_from="news@paperwire.test"
        )
        digest_part(mail, db, f"daily:{dt.date.today().isoformat()}")
        assert sink.wait_for(1)
        body = sink.messages[0].message.get_body(("plain",)).get_content()
    assert "RECOMMENDED FOR YOU" in body
