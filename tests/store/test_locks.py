"""store/locks.py: the cross-process locks, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

from paperwire.store.db import Database
from paperwire.store.locks import named_lock, transaction_lock


def test_named_lock_excludes_a_second_holder_until_released(db, db_url, tmp_path):
    # A second Database object: its own engine, connections and (for SQLite) file handle,
    # as another process would have.
    other = Database(db_url)
    try:
        with named_lock(db, "test-job", lock_dir=tmp_path, wait=False) as got:
            assert got is True
            with named_lock(other, "test-job", lock_dir=tmp_path, wait=False) as second:
                assert second is False
            with named_lock(other, "another-job", lock_dir=tmp_path, wait=False) as unrelated:
                assert unrelated is True
        with named_lock(other, "test-job", lock_dir=tmp_path, wait=False) as after:
            assert after is True
    finally:
        other.dispose()


def test_named_lock_with_wait_blocks_until_the_holder_releases(db, db_url, tmp_path):
    other = Database(db_url)
    order = []
    try:
        with named_lock(db, "test-job", lock_dir=tmp_path, wait=True):

            def waiter():
                with named_lock(other, "test-job", lock_dir=tmp_path, wait=True) as got:
                    order.append(("waiter", got))

            t = threading.Thread(target=waiter)
            t.start()
            t.join(0.3)
            order.append(("holder", True))
        t.join(10)
        assert order == [("holder", True), ("waiter", True)]
    finally:
        other.dispose()


def test_transaction_lock_is_taken_on_postgresql_only_and_ends_with_the_transaction(db, db_url):
    with db.session() as session:
        taken = transaction_lock(session, 0x7465, 42)
        assert taken is (db.dialect == "postgresql")
    if db.dialect != "postgresql":
        return
    other = Database(db_url)
    try:
        from sqlalchemy import text

        with db.session() as session:
            transaction_lock(session, 0x7465, 42)
            with other.session() as s2:
                held = not s2.scalar(
                    text("SELECT pg_try_advisory_xact_lock(:c, :k)"), {"c": 0x7465, "k": 42}
                )
            assert held
        with other.session() as s2:
            assert s2.scalar(
                text("SELECT pg_try_advisory_xact_lock(:c, :k)"), {"c": 0x7465, "k": 42}
            )
    finally:
        other.dispose()
