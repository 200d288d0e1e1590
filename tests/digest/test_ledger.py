"""The delivery ledger: idempotent planning, atomic claims, safe take-over of dead claims."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import select

from paperwire.store import deliveries
from paperwire.store.models import DigestDelivery, utcnow
from tests.factories import make_subscription


def _subs(db, n):
    return [make_subscription(db, f"r{i}@example.org") for i in range(n)]


def test_planning_twice_adds_nothing(db):
    ids = _subs(db, 5)
    with db.session() as s:
        assert deliveries.plan(s, "daily", "2026-11-26", ids) == 5
    with db.session() as s:
        assert deliveries.plan(s, "daily", "2026-11-26", ids) == 0
        assert deliveries.plan(s, "weekly", "2026-W48", ids[:2]) == 2


def test_concurrent_claims_never_overlap(db):
    ids = _subs(db, 60)
    with db.session() as s:
        deliveries.plan(s, "daily", "2026-11-26", ids)
    got: dict[str, list[int]] = {"w1": [], "w2": [], "w3": []}

    def worker(name):
        while True:
            with db.session() as s:
                rows = deliveries.claim(
                    s, edition="daily", period="2026-11-26", worker=name, limit=7, lease_seconds=900
                )
            if not rows:
                return
            got[name] += [r.id for r in rows]

    threads = [threading.Thread(target=worker, args=(n,)) for n in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [i for v in got.values() for i in v]
    assert len(everything) == len(set(everything)) == 60


def test_a_live_claim_is_left_alone_a_dead_or_stale_one_is_taken_over(db):
    [sid] = _subs(db, 1)
    with db.session() as s:
        deliveries.plan(s, "daily", "p", [sid])
        [row] = deliveries.claim(
            s, edition="daily", period="p", worker="host:1:a", limit=5, lease_seconds=900
        )
    with db.session() as s:
        assert (
            deliveries.claim(
                s,
                edition="daily",
                period="p",
                worker="w2",
                limit=5,
                lease_seconds=900,
                is_dead=lambda w: False,
            )
            == []
        )
    with db.session() as s:
        [again] = deliveries.claim(
            s,
            edition="daily",
            period="p",
            worker="w2",
            limit=5,
            lease_seconds=900,
            is_dead=lambda w: w == "host:1:a",
        )
        assert again.id == row.id and again.attempts == 2
    later = utcnow() + dt.timedelta(seconds=901)
    with db.session() as s:
        [third] = deliveries.claim(
            s, edition="daily", period="p", worker="w3", limit=5, lease_seconds=900, now=later
        )
        assert third.attempts == 3
    with db.session() as s:
        # The old claimer can no longer finish it: its mark is refused.
        assert not deliveries.mark_sent(s, row.id, "w2")
        assert deliveries.mark_sent(s, row.id, "w3")
        assert s.scalar(select(DigestDelivery.status)) == "sent"


def test_dead_claimer_detection(monkeypatch):
    import os
    import subprocess
    import sys

    from paperwire.digest import claimers

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert claimers.claimer_is_dead(f"{claimers._HOST}:{proc.pid}:x")
    assert not claimers.claimer_is_dead(f"{claimers._HOST}:{os.getpid()}:x")
    assert not claimers.claimer_is_dead(f"other-host:{proc.pid}:x")
    assert not claimers.claimer_is_dead("garbage")
