"""PageCache: TTL entries, single flight on a miss, invalidation wins over a value computed
before it."""

from __future__ import annotations

import threading
import time

from paperwire.web.appcontext import app_context
from paperwire.web.cache import PageCache


def test_concurrent_misses_compute_once_and_all_get_the_value():
    cache = PageCache(ttl_seconds=60)
    calls = []
    started = threading.Event()

    def compute():
        calls.append(1)
        started.set()
        time.sleep(0.2)
        return "page"

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_compute("k", compute)))
        for _ in range(6)
    ]
    threads[0].start()
    started.wait(5)
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join(10)
    assert results == ["page"] * 6
    assert len(calls) == 1


def test_invalidation_during_compute_is_not_undone_by_the_stale_value():
    cache = PageCache(ttl_seconds=60)

    def compute():
        cache.invalidate()  # a vote lands while the page is being built
        return "stale"

    assert cache.get_or_compute("k", compute) == "stale"
    assert cache.peek("k") is None
    assert cache.get_or_compute("k", lambda: "fresh") == "fresh"
    assert cache.peek("k") == "fresh"


def test_a_failed_compute_lets_waiters_compute_themselves():
    cache = PageCache(ttl_seconds=60)
    started = threading.Event()

    def failing():
        started.set()
        time.sleep(0.1)
        raise RuntimeError("db down")

    errors = []

    def owner():
        try:
            cache.get_or_compute("k", failing)
        except RuntimeError as exc:
            errors.append(str(exc))

    t = threading.Thread(target=owner)
    t.start()
    started.wait(5)
    assert cache.get_or_compute("k", lambda: "ok") == "ok"
    t.join(5)
    assert errors == ["db down"]


def test_zero_ttl_disables_caching():
    cache = PageCache(ttl_seconds=0)
    assert cache.get_or_compute("k", lambda: 1) == 1
    assert cache.get_or_compute("k", lambda: 2) == 2
    assert cache.peek("k") is None


def test_worker_warm_up_compiles_every_template_before_the_first_request(settings, db):
    """The production app (``warm_search=True``) runs ``_warm_pages`` at startup; after it no
    page view pays for compiling a template."""
    from paperwire.web.app import _warm_pages, create_app

    app = create_app(settings, db)
    env = app_context(app).templates.env
    names = env.list_templates(extensions=["html"])
    assert "paper.html" in names and "similar_fragment.html" in names
    assert not {key[1] for key in env.cache} & set(names)  # nothing compiled yet
    _warm_pages(app)
    assert set(names) <= {key[1] for key in env.cache}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_expired_entry_is_served_while_one_thread_recomputes_it():
    clock = FakeClock()
    cache = PageCache(ttl_seconds=5, clock=clock)
    assert cache.get_or_compute("k", lambda: "old") == "old"
    clock.now += 6  # expired
    recomputing, release = threading.Event(), threading.Event()
    calls = []

    def slow_new():
        calls.append(1)
        recomputing.set()
        release.wait(5)
        return "new"

    owner = threading.Thread(target=lambda: cache.get_or_compute("k", slow_new))
    owner.start()
    recomputing.wait(5)
    # Others do not wait for the recompute, and do not start their own.
    assert cache.get_or_compute("k", slow_new) == "old"
    assert len(calls) == 1
    release.set()
    owner.join(5)
    assert cache.get_or_compute("k", lambda: "other") == "new"


def test_nothing_stale_is_served_after_an_invalidation():
    clock = FakeClock()
    cache = PageCache(ttl_seconds=5, clock=clock)
    cache.get_or_compute("k", lambda: "before the vote")
    clock.now += 6
    cache.invalidate()
    recomputing, release = threading.Event(), threading.Event()

    def slow():
        recomputing.set()
        release.wait(5)
        return "after the vote"

    owner = threading.Thread(target=lambda: cache.get_or_compute("k", slow))
    owner.start()
    recomputing.wait(5)
    results = []
    waiter = threading.Thread(target=lambda: results.append(cache.get_or_compute("k", slow)))
    waiter.start()
    # Stale would be served at once: the waiter must still be waiting for the recompute (a
    # slow machine can only make this pass without exercising the wait, never fail falsely).
    waiter.join(0.2)
    assert waiter.is_alive() and results == []
    release.set()
    owner.join(5)
    waiter.join(5)
    assert results == ["after the vote"]
