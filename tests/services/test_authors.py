"""Claim rules of services.authors that need no web: the e-mail domain rule, permissions."""

import pytest

from paperwire.errors import NotFound
from paperwire.services import authors as service
from tests.factories import make_papers, make_store_user


@pytest.mark.parametrize(
    "address,affiliations,match",
    [
        ("dana@uni.example.edu", ["CS Dept, uni.example.edu"], True),
        ("dana@uni.example.edu", ["dana@uni.example.edu"], True),
        ("dana@UNI.Example.edu", ["Uni.Example.EDU, Lyon"], True),
        ("dana@example.edu", ["cs.example.edu"], False),  # a subdomain is not the domain
        ("dana@uni.example.edu", ["example.edu"], False),  # nor the parent
        ("dana@example.edu", ["example.edu.au"], False),  # nor a longer one
        ("dana@example.edu", ["myexample.edu"], False),
        ("dana@example.edu", ["Example University"], False),  # names are not domains
        ("dana@example.edu", [], False),
        (None, ["example.edu"], False),  # no proven address
        ("dana@localhost", ["localhost"], False),  # not a dotted domain
    ],
)
def test_domain_rule(address, affiliations, match):
    assert service.domain_matches(address, affiliations) is match


def test_unknown_names_cannot_be_followed_or_claimed(settings, db):
    user = make_store_user(db)
    with pytest.raises(NotFound):
        service.follow(db, user, "Nobody Here")
    with pytest.raises(NotFound):
        service.claim(settings, db, user, "Nobody Here")


def test_only_admins_approve_and_revoke_only_claimant_releases(settings, db):
    make_papers(db, authors=[{"name": "Ann Lee", "affiliations": []}])
    member, other = make_store_user(db), make_store_user(db)
    admin = make_store_user(db, is_admin=True)
    view = service.claim(settings, db, member, "Ann Lee")
    for action in (service.approve, service.revoke):
        with pytest.raises(service.Forbidden):
            action(db, member, view.id)
    with pytest.raises(service.Forbidden):
        service.release(db, other, view.id)
    with pytest.raises(service.Forbidden):
        service.release(db, admin, view.id)
    assert service.approve(db, admin, view.id).status == "approved"
    assert service.approve(db, admin, view.id).status == "approved"  # idempotent
    assert service.release(db, member, view.id).status == "released"
    with pytest.raises(service.Conflict):
        service.approve(db, admin, view.id)


def test_auto_approval_can_be_turned_off(settings, db):
    import dataclasses

    from tests.factories import make_subscription

    make_papers(db, authors=[{"name": "Ann Lee", "affiliations": ["lab.example.org"]}])
    member = make_store_user(db)
    make_subscription(db, "ann@lab.example.org", user_id=member.id)
    off = dataclasses.replace(settings, author_claim_auto_approve=False)
    assert service.claim(off, db, member, "Ann Lee").status == "pending"
