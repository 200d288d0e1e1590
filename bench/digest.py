"""Digest benchmark: one daily edition for 10,000 confirmed subscribers (1-3 topics each)
over a 1M-paper database, delivered over SMTP to a local sink in another process.

    flock /tmp/paperwire-bench.lock python bench/digest.py [--db /tmp/pwbench/papers_1m.db]

Works on a copy of the database (the source is never modified). Reports total time to compose
and deliver, messages/s, peak memory (RSS of this process), and a baseline measured in the
same run: raw smtplib sends of one pre-built message to the same sink, same count.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import shutil
import smtplib
import subprocess
import sys
import time
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def start_sink():
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.smtp_sink"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    port = int(proc.stdout.readline())
    return proc, port


def stop_sink(proc) -> int:
    proc.terminate()
    out, _ = proc.communicate(30)
    return int(out.strip().splitlines()[-1])


def make_topics(db, n_pool: int, rng: random.Random) -> list[dict]:
    """A pool of realistic topics from the corpus: frequent title words and word pairs, some
    with a category filter, plus categories and authors."""
    from sqlalchemy import text

    with db.engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT p.title, p.categories, p.authors FROM papers p "
                "JOIN feed_entries f ON f.paper_id = p.id LIMIT 3000"
            )
        ).all()
        # Feed papers may have no authors or categories (the Daily Papers file of
        # bench/shared_data.py lists none, and its import replaces them): those topics are
        # drawn from any papers that have some.
        other_rows = c.execute(
            text("SELECT categories, authors FROM papers WHERE author_count > 0 LIMIT 3000")
        ).all()
    words = Counter()
    cats, authors = Counter(), []
    for title, _categories, _auths in rows:
        words.update(w.lower() for w in title.split() if len(w) > 4)
    for categories, auths in [(c, a) for _, c, a in rows] + list(other_rows):
        cats.update(json.loads(categories) if isinstance(categories, str) else categories or [])
        a = json.loads(auths) if isinstance(auths, str) else auths
        name = (a[0].get("name") if a and isinstance(a[0], dict) else None) if a else None
        if name:
            authors.append(name)
    common = [w for w, _ in words.most_common(3000)]
    cat_list = [c for c, _ in cats.most_common(60)]
    if not common or not cat_list:
        raise SystemExit(
            "no feed papers (or no categories) in the database: nothing to draw topics from"
        )
    pool = []
    for _ in range(n_pool):
        r = rng.random()
        if r >= 0.95 and not authors:
            r = rng.random() * 0.95  # no author names anywhere: another kind of topic
        if r < 0.55:
            pool.append({"kind": "query", "value": rng.choice(common), "threshold": None})
        elif r < 0.75:
            pool.append(
                {
                    "kind": "query",
                    "value": f"{rng.choice(common)} {rng.choice(common)}",
                    "threshold": None,
                }
            )
        elif r < 0.85:
            pool.append(
                {
                    "kind": "query",
                    "value": f"{rng.choice(common)} cat:{rng.choice(cat_list).split('.')[0]}.*",
                    "threshold": 0.3,
                }
            )
        elif r < 0.95:
            pool.append({"kind": "category", "value": rng.choice(cat_list), "threshold": None})
        else:
            pool.append({"kind": "author", "value": rng.choice(authors), "threshold": None})
    return pool


def add_subscribers(db, n: int, pool: list[dict], rng: random.Random) -> None:
    from sqlalchemy import delete, insert

    from paperwire.store.models import DigestDelivery, SentPaper, Subscription, utcnow

    weights = [1 / (i + 1) for i in range(len(pool))]  # popular topics are shared (Zipf)
    now = utcnow()
    rows = []
    for i in range(n):
        k = rng.randint(1, 3)
        topics = list({t["value"]: t for t in rng.choices(pool, weights, k=k)}.values())
        rows.append(
            dict(
                email=f"reader{i:05d}@example.org",
                status="active",
                editions="daily",
                max_papers=10,
                topics=topics,
                token_version=0,
                failure_count=0,
                created_at=now,
                confirmed_at=now,
            )
        )
    with db.session() as s:
        s.execute(delete(SentPaper))
        s.execute(delete(DigestDelivery))
        s.execute(delete(Subscription))
        for start in range(0, n, 2000):
            s.execute(insert(Subscription), rows[start : start + 2000])


def baseline(port: int, n: int) -> float:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "news@paperwire.test", "x@example.org", "baseline"
    msg.set_content("x " * 1500)
    msg.add_alternative("<p>" + "x " * 4000 + "</p>", subtype="html")
    t0 = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(n):
            smtp.send_message(msg, to_addrs=[f"reader{i:05d}@example.org"])
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="/tmp/pwbench/papers_1m.db")
    ap.add_argument("--work", default="/tmp/pwbench_digest")
    ap.add_argument("--subscribers", type=int, default=10_000)
    ap.add_argument("--topic-pool", type=int, default=3000)
    ap.add_argument("--date", default="2026-11-26")
    ap.add_argument(
        "--plot",
        default=str(ROOT / "docs/img/bench_digest.png"),
        help="where to draw the figure ('' for none)",
    )
    args = ap.parse_args(argv)

    from paperwire.config import load_settings
    from paperwire.digest.edition import edition_for
    from paperwire.digest.send import send_edition
    from paperwire.digest.transport import open_transport
    from paperwire.store.db import Database
    from paperwire.store.migrate import upgrade

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    copy = work / "papers_1m.db"
    t = time.perf_counter()
    if not copy.exists() or copy.stat().st_size < Path(args.db).stat().st_size:
        shutil.copy(args.db, copy)
    print(f"copied database in {time.perf_counter() - t:.0f}s", file=sys.stderr)
    db = Database(f"sqlite:///{copy}")
    upgrade(db)
    rng = random.Random(7)
    pool = make_topics(db, args.topic_pool, rng)
    add_subscribers(db, args.subscribers, pool, rng)
    with db.engine.connect() as c:
        from sqlalchemy import text

        papers = c.execute(text("SELECT count(*) FROM papers")).scalar()
        distinct = c.execute(text("SELECT count(DISTINCT topics) FROM subscriptions")).scalar()

    sink, port = start_sink()
    settings = load_settings(
        env={},
        data_dir=work / "data",
        database_url=f"sqlite:///{copy}",
        secret_key="bench",
        smtp_url=f"smtp+plain://127.0.0.1:{port}",
        mail_from="Paperwire <news@paperwire.test>",
        base_url="https://paperwire.test",
    )
    ed = edition_for("daily", dt.date.fromisoformat(args.date))
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with open_transport(settings) as transport:
        summary = send_edition(settings, db, ed, transport, progress=True)
    total = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    received = stop_sink(sink)

    sink, port = start_sink()
    base = baseline(port, args.subscribers)
    base_received = stop_sink(sink)
    result = {
        "papers": papers,
        "subscribers": args.subscribers,
        "distinct_topic_sets": distinct,
        "topic_pool": len(pool),
        "edition": f"{ed.edition} {ed.period}",
        "candidates": summary.candidates,
        "sent": summary.sent,
        "skipped": summary.skipped,
        "received_by_sink": received,
        "total_seconds": round(total, 1),
        "messages_per_second": round(summary.sent / total, 1),
        "peak_rss_mb": round(peak_mb),
        "rss_before_run_mb": round(rss0 / 1024),
        "baseline_seconds": round(base, 1),
        "baseline_messages_per_second": round(base_received / base, 1),
    }
    print(json.dumps(result, indent=2))
    print(summary.line(), file=sys.stderr)
    if not args.plot:
        return
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3))
        ax.barh(
            ["raw smtplib\n(fixed message)", "Paperwire digest\n(compose + ledger + SMTP)"],
            [result["baseline_messages_per_second"], result["messages_per_second"]],
            color=["#9ca3af", "#2563eb"],
        )
        ax.set_xlabel("messages per second (higher is better)")
        ax.set_title(f"{args.subscribers:,} subscribers, {papers:,} papers")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)
    except Exception as exc:  # noqa: BLE001
        print(f"plot skipped: {exc}", file=sys.stderr)


if __name__ == "__main__":
    main()
