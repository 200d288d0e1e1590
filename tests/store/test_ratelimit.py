"""store.ratelimit on SQLite and PostgreSQL: a sliding window shared through the database."""

import datetime as dt
import threading

from sqlalchemy import func, select

from paperwire.store import ratelimit
from paperwire.store.models import RateEvent

T0 = dt.datetime(2026, 11, 26, 12, 0, 0)


def test_allows_limit_attempts_then_refuses_with_retry_after(db):
    decisions = [
        ratelimit.hit(db, "vote:u:1", 3, 60, now=T0 + dt.timedelta(seconds=i)) for i in range(4)
    ]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions[:3]] == [2, 1, 0]
    # The oldest attempt (t=0) leaves the window at t=60; asked at t=3: 57 s.
    assert decisions[3].retry_after == 57


def test_window_slides_and_keys_are_independent(db):
    for i in range(2):
        assert ratelimit.hit(db, "k", 2, 60, now=T0 + dt.timedelta(seconds=i)).allowed
    assert not ratelimit.hit(db, "k", 2, 60, now=T0 + dt.timedelta(seconds=30)).allowed
    assert ratelimit.hit(db, "other", 2, 60, now=T0 + dt.timedelta(seconds=30)).allowed
    assert ratelimit.hit(db, "k", 2, 60, now=T0 + dt.timedelta(seconds=60.5)).allowed


def test_refused_attempts_are_not_recorded(db):
    ratelimit.hit(db, "k", 1, 60, now=T0)
    for i in range(5):
        assert not ratelimit.hit(db, "k", 1, 60, now=T0 + dt.timedelta(seconds=10 + i)).allowed
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(RateEvent)) == 1


def test_zero_limit_switches_limiting_off(db):
    assert all(ratelimit.hit(db, "k", 0, 60, now=T0).allowed for _ in range(5))


def test_purge_drops_old_events(db):
    ratelimit.hit(db, "a", 5, 60, now=T0)
    ratelimit.hit(db, "b", 5, 60, now=T0 + dt.timedelta(hours=2))
    assert ratelimit.purge(db, 3600, now=T0 + dt.timedelta(hours=2)) == 1


def test_concurrent_hits_never_exceed_the_limit(db):
    """Twelve threads (own connections, as separate workers would be) race for 5 slots."""
    barrier = threading.Barrier(12)
    allowed = []
    lock = threading.Lock()

    def attempt():
        barrier.wait()
        decision = ratelimit.hit(db, "race", 5, 60, now=T0)
        with lock:
            allowed.append(decision.allowed)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 5
