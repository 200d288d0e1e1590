"""kill -9 in the middle of `paperwire digest send`, then a rerun: exactly one digest per
subscriber, counted by a real SMTP server."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading

import pytest
from sqlalchemy import select

from paperwire.store.models import DigestDelivery
from tests.digest.kit import SEND_DAY, seed_day
from tests.factories import make_subscription
from tests.support.smtp_sink import SmtpSink

N = 30


SEND_CMD = [
    sys.executable,
    "-m",
    "paperwire",
    "digest",
    "send",
    "--date",
    SEND_DAY.isoformat(),
    "--no-progress",
]


def seed_subscribers(db, n: int) -> None:
    """A day on the feed and ``n`` confirmed subscribers readerNN@example.org."""
    seed_day(db)
    for i in range(n):
        make_subscription(db, f"reader{i:02d}@example.org")


def _env(settings, sink) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERWIRE_")}
    env.update(
        PAPERWIRE_DATA_DIR=str(settings.data_dir),
        PAPERWIRE_DATABASE_URL=settings.database_url,
        PAPERWIRE_SECRET_KEY="k",
        PAPERWIRE_SMTP_URL=sink.smtp_url,
        PAPERWIRE_MAIL_FROM="news@paperwire.test",
        PAPERWIRE_LOAD_DEMO_DATA="0",
        PAPERWIRE_LOG_LEVEL="WARNING",
    )
    return env


@pytest.mark.slow
@pytest.mark.parametrize("kill_at_rcpt", [1, 12])
def test_kill_9_mid_run_then_rerun_delivers_exactly_one_each(settings, db, kill_at_rcpt):
    seed_subscribers(db, N)
    cmd = SEND_CMD
    procs: list[subprocess.Popen] = []
    killed = threading.Event()

    def on_rcpt(n: int) -> None:
        # Kill the sender while it waits for the reply to RCPT of message n: it has claimed
        # that row ('sending') and the server has not accepted that message.
        if n == kill_at_rcpt and not killed.is_set():
            os.kill(procs[0].pid, signal.SIGKILL)
            killed.set()

    with SmtpSink(on_rcpt=on_rcpt) as sink:
        env = _env(settings, sink)
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        procs[0].wait(60)  # reaped, so its pid is gone for the rerun's liveness check
        assert killed.is_set() and procs[0].returncode == -signal.SIGKILL
        before = sink.count
        assert before == kill_at_rcpt - 1
        with db.session() as s:
            statuses = collections.Counter(s.scalars(select(DigestDelivery.status)))
        assert statuses["sending"] >= 1 and statuses["sent"] == before
        sink.on_rcpt = None
        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        assert sink.wait_for(N, timeout=10)
        received = collections.Counter(r for m in sink.messages for r in m.rcpt_tos)
    assert len(received) == N and set(received.values()) == {1}
    with db.session() as s:
        assert set(s.scalars(select(DigestDelivery.status))) == {"sent"}
