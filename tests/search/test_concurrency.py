"""Many threads search one LexicalIndex while another process adds papers and folds them in.

Regression test for issue 10 point 9: ``_read_delta`` pruned the shared delta cache outside
any lock, so two searches could both delete the same entry and one died with a KeyError.
The other process's refreshes make papers leave the delta at once in every searching thread.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from paperwire.search.filters import Constraints
from paperwire.search.lexical import LexicalIndex
from paperwire.search.query import parse_query
from tests.factories import make_papers

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent("""
    import sys
    from paperwire.config import load_settings
    from paperwire.search.lexical import LexicalIndex
    from paperwire.store.db import Database
    from tests.factories import make_papers

    settings = load_settings(env={}, data_dir=sys.argv[1], database_url=sys.argv[2],
                             load_demo_data=False, secret_key="x")
    db = Database(sys.argv[2])
    index = LexicalIndex(settings, db)
    for _ in range(int(sys.argv[3])):
        make_papers(db, 150)          # new papers: in every searcher's delta ...
        index.refresh(block=True)     # ... then folded: they leave it, pruned by every thread
    db.dispose()
""")


def test_threads_searching_while_another_process_adds_papers_never_fail(settings, db):
    make_papers(db, 20)
    index = LexicalIndex(settings, db)
    index.rebuild()
    errors: list[BaseException] = []
    done = threading.Event()

    def searcher() -> None:
        query = parse_query("graph protein")
        while not done.is_set():
            try:
                index.search(query, Constraints(), limit=10)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often: the race shows within seconds
    threads = [threading.Thread(target=searcher) for _ in range(8)]
    try:
        for t in threads:
            t.start()
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")]
            ),
        }
        writer = subprocess.run(
            [sys.executable, "-c", WRITER, str(settings.data_dir), settings.database_url, "12"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        done.set()
        for t in threads:
            t.join(timeout=60)
        sys.setswitchinterval(old_interval)
    assert writer.returncode == 0, writer.stderr
    assert errors == [], repr(errors[:3])
    # And the searchers' view converged: every paper is found.
    assert (
        index.search(
            parse_query(""), Constraints(categories=("cs", "q-bio", "astro-ph", "hep-th")), limit=1
        ).total
        == 20 + 12 * 150
    )
    index.close()


def test_each_thread_analyzes_with_its_own_analyzers():
    """tantivy's analyzers are borrowed mutably while they analyze: a shared one failed in CI
    with ``RuntimeError: Already borrowed`` when two searching threads met inside it."""
    from paperwire.search import analyzer

    seen: dict[str, object] = {}  # the objects themselves: ids of dead ones get reused

    def grab(name: str) -> None:
        seen[name] = analyzer.analyzers()[analyzer.STEM]
        assert analyzer.stems("Proteins folding") == ["protein", "fold"]

    threads = [threading.Thread(target=grab, args=(f"t{i}",)) for i in range(3)]
    keep = [analyzer.analyzers()]  # this thread's, alive while the others run
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(a) for a in [*seen.values(), keep[0][analyzer.STEM]]}) == 4
