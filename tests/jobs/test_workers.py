"""Real `paperwire worker` processes: two on Redis share a digest and send each once; the
embedded SQLite queue needs nothing else running."""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import select

from paperwire.store.models import DigestDelivery, JobRun
from tests.digest.kit import SEND_DAY, seed_day
from tests.factories import make_subscription
from tests.support.smtp_sink import SmtpSink

REDIS_URL = os.environ.get("PAPERWIRE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_REDIS = os.environ.get("PAPERWIRE_TEST_REQUIRE_REDIS") == "1"
N = 40


def _redis_or_skip():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        if REQUIRE_REDIS:
            raise
        pytest.skip(
            f"Redis not reachable at {REDIS_URL} ({exc}); start one or set "
            "PAPERWIRE_TEST_REDIS_URL to run the multi-worker test"
        )


def _env(settings, sink, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERWIRE_")}
    env.update(
        PAPERWIRE_DATA_DIR=str(settings.data_dir),
        PAPERWIRE_DATABASE_URL=settings.database_url,
        PAPERWIRE_SECRET_KEY="k",
        PAPERWIRE_SMTP_URL=sink.smtp_url,
        PAPERWIRE_MAIL_FROM="news@paperwire.test",
        PAPERWIRE_LOAD_DEMO_DATA="0",
        PAPERWIRE_SCHEDULED_JOBS="",
        PAPERWIRE_WORKER_THREADS="2",
        PAPERWIRE_LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


def _wait_all_sent(db, n, timeout=90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.session() as s:
            statuses = collections.Counter(s.scalars(select(DigestDelivery.status)))
        if statuses.get("sent", 0) == n:
            return
        time.sleep(0.3)
    raise AssertionError(f"not all sent: {statuses}")


@pytest.mark.slow
def test_two_workers_on_redis_send_each_digest_once(settings, db):
    _redis_or_skip()
    import redis

    seed_day(db)
    for i in range(N):
        make_subscription(db, f"r{i:02d}@example.org")
    queue_name = f"pwtest-{uuid.uuid4().hex[:10]}"
    # Slow the server a little so both workers are busy at the same time.
    with SmtpSink(on_rcpt=lambda n: time.sleep(0.01)) as sink:
        env = _env(settings, sink, PAPERWIRE_QUEUE_URL=REDIS_URL, PAPERWIRE_QUEUE_NAME=queue_name)
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "paperwire", "worker"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for _ in range(2)
        ]
        try:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "paperwire",
                    "jobs",
                    "enqueue",
                    "digest",
                    f"daily:{SEND_DAY.isoformat()}",
                ],
                env=env,
                check=True,
                timeout=60,
            )
            _wait_all_sent(db, N)
            time.sleep(0.5)
            received = collections.Counter(r for m in sink.messages for r in m.rcpt_tos)
        finally:
            for w in workers:
                w.terminate()
            for w in workers:
                w.wait(30)
            r = redis.Redis.from_url(REDIS_URL)
            for key in r.scan_iter(f"*{queue_name}*"):
                r.delete(key)
    assert len(received) == N and set(received.values()) == {1}
    with db.session() as s:
        senders = {c.split(":")[1] for c in s.scalars(select(DigestDelivery.claimed_by))}
        parts = s.scalars(select(JobRun).where(JobRun.name == "digest-send")).all()
    assert {w.pid for w in workers} >= {int(p) for p in senders}
    assert len(parts) >= 2 and all(p.status == "ok" for p in parts)


@pytest.mark.slow
def test_embedded_worker_once_runs_the_due_digest_from_sqlite_queue(settings, db):
    seed_day(db)
    make_subscription(db, "a@example.org")
    with SmtpSink() as sink:
        env = _env(settings, sink, PAPERWIRE_SCHEDULED_JOBS="digest,cleanup")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "paperwire",
                "jobs",
                "enqueue",
                "digest",
                f"daily:{SEND_DAY.isoformat()}",
            ],
            env=env,
            check=True,
            timeout=60,
        )
        out = subprocess.run(
            [sys.executable, "-m", "paperwire", "worker", "--once"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        assert (settings.data_dir / "queue.db").exists()
        assert sink.wait_for(1) and sink.count == 1
        jobs_out = subprocess.run(
            [sys.executable, "-m", "paperwire", "jobs"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    assert "digest-send" in jobs_out and "ok" in jobs_out
