"""The durable-once window (D13): a sender killed after the mail server's 250 reply and before
its ``sent`` commit. Over SMTP the rerun sends that one message again, with the
same papers under the same Message-ID, and says so; into the outbox it adds no copy."""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import re
import signal
import subprocess
import threading
import time

import pytest
from sqlalchemy import select, update

from paperwire.digest.outbox import list_messages, outbox_dir
from paperwire.digest.send import send_edition, worker_id
from paperwire.digest.transport import open_transport
from paperwire.store.models import DigestDelivery
from tests.digest.kit import daily, seed_day
from tests.digest.test_crash import SEND_CMD, _env, seed_subscribers
from tests.factories import make_subscription
from tests.support.smtp_sink import SmtpSink

N = 5


def _wait_until_stopped(pid: int, timeout: float = 10.0) -> None:
    """Return once every thread of ``pid`` is stopped. kill(SIGSTOP) only queues the stop:
    one thread must take the signal and stop the others, and on a busy machine the sender's
    SMTP thread could still read the 250 and commit ``sent`` in that gap (seen: 1 ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = []
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(FileNotFoundError):
                with open(f"/proc/{pid}/task/{task}/stat") as f:
                    states.append(f.read().rsplit(")", 1)[1].split()[0])
        if states and all(state in "Tt" for state in states):
            return
        time.sleep(0.001)
    raise AssertionError(f"sender {pid} did not stop within {timeout} s")


@pytest.mark.slow
def test_sender_killed_after_the_servers_250_resends_that_one_message_on_rerun(settings, db):
    seed_subscribers(db, N)
    cmd = SEND_CMD
    procs: list[subprocess.Popen] = []
    killed = threading.Event()

    def on_data(n: int) -> None:
        # Message 1 is stored. Freeze the sender before it can read the 250 (which goes out
        # when this returns), then kill it: it dies after the 250, before its `sent` commit.
        if n == 1 and not killed.is_set():
            pid = procs[0].pid
            os.kill(pid, signal.SIGSTOP)
            _wait_until_stopped(pid)

            def kill_later() -> None:
                time.sleep(0.5)
                os.kill(pid, signal.SIGKILL)
                killed.set()

            threading.Thread(target=kill_later, daemon=True).start()

    with SmtpSink(on_data=on_data) as sink:
        env = _env(settings, sink)
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        procs[0].wait(60)
        assert killed.is_set() and procs[0].returncode == -signal.SIGKILL
        assert sink.count == 1
        with db.session() as s:
            statuses = collections.Counter(s.scalars(select(DigestDelivery.status)))
        # The server has the message; the ledger does not know: the window.
        assert statuses["sent"] == 0 and statuses["sending"] >= 1
        sink.on_data = None
        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        assert sink.wait_for(N + 1, timeout=10)
        assert "1 resent after an interrupted run (possible duplicates)" in rerun.stdout
        assert "may have been delivered" in rerun.stderr
    per_reader = collections.Counter(r for m in sink.messages for r in m.rcpt_tos)
    (twice,) = [r for r, n in per_reader.items() if n == 2]
    assert len(per_reader) == N and sorted(per_reader.values()) == [1] * (N - 1) + [2]
    first, second = [m for m in sink.messages if twice in m.rcpt_tos]
    # The duplicate is the same digest under the same Message-ID (the Date, the MIME
    # boundaries and the signing time in its links are made anew).
    assert first.message["Message-ID"] == second.message["Message-ID"]
    assert first.message["Subject"] == second.message["Subject"]
    body = [
        re.sub(
            r"/(unsubscribe|subscription)/\S+",
            "/TOKEN",
            m.message.get_body(("plain",)).get_content(),
        )
        for m in (first, second)
    ]
    assert body[0] == body[1]
    with db.session() as s:
        assert set(s.scalars(select(DigestDelivery.status))) == {"sent"}


def test_outbox_rerun_after_a_crash_in_the_window_adds_no_copy(settings, db):
    settings = dataclasses.replace(settings, mail_from="Paperwire <news@paperwire.test>")
    seed_day(db)
    for i in range(3):
        make_subscription(db, f"reader{i}@example.org")
    with open_transport(settings) as transport:
        assert send_edition(settings, db, daily(), transport, progress=False).sent == 3
    # The state a kill -9 right after the outbox write leaves: the file is there, the row
    # is still 'sending' under a claimer whose process is gone.
    dead = worker_id().rsplit(":", 2)[0] + ":999999999:dead"
    with db.session() as s:
        rid = s.scalar(select(DigestDelivery.id).order_by(DigestDelivery.id).limit(1))
        s.execute(
            update(DigestDelivery)
            .where(DigestDelivery.id == rid)
            .values(status="sending", claimed_by=dead, sent_at=None)
        )
    with open_transport(settings) as transport:
        summary = send_edition(settings, db, daily(), transport, progress=False)
    assert (summary.sent, summary.resent) == (1, 0)
    assert list_messages(outbox_dir(settings))[1] == 3
    with db.session() as s:
        assert set(s.scalars(select(DigestDelivery.status))) == {"sent"}
