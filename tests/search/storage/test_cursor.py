"""ChangeCursor (search/storage/cursor.py): watermark, overlap window, persistence."""

from __future__ import annotations

import datetime as dt

from paperwire.search.storage import OVERLAP, ChangeCursor

T0 = dt.datetime(2026, 1, 1, 12, 0, 0)


def test_change_cursor_rereads_the_overlap():
    cursor = ChangeCursor()
    assert cursor.watermark is None  # first read: everything
    cursor.advance(T0, [("a", T0 - dt.timedelta(seconds=5)), ("old", T0 - OVERLAP * 2)])
    # The next read starts overlap behind the start of the last one ...
    assert cursor.watermark == T0 - OVERLAP
    # ... so a row stamped inside the window but committed late is read again and applied,
    late = ("b", T0 - dt.timedelta(seconds=30))
    rows = [("a", T0 - dt.timedelta(seconds=5)), late]
    assert cursor.pending(rows) == [late]
    # while a row re-read at the stamp it was applied with is skipped, and one changed since
    # (a new stamp) is not.
    assert cursor.is_applied("a", T0 - dt.timedelta(seconds=5))
    assert not cursor.is_applied("a", T0 + dt.timedelta(seconds=1))


def test_change_cursor_forgets_applied_rows_once_behind_the_watermark():
    cursor = ChangeCursor()
    cursor.advance(T0, [("a", T0 - dt.timedelta(seconds=5))])
    cursor.advance(T0 + OVERLAP, [("b", T0 + dt.timedelta(seconds=10))])
    assert cursor.watermark == T0
    assert cursor.applied == {"b": T0 + dt.timedelta(seconds=10)}


def test_change_cursor_watermark_never_moves_back():
    cursor = ChangeCursor()
    cursor.advance(T0)
    cursor.advance(T0 - dt.timedelta(hours=1))  # a read that started earlier finished later
    assert cursor.watermark == T0 - OVERLAP


def test_change_cursor_round_trips_through_json_and_reset_starts_over():
    cursor = ChangeCursor()
    cursor.advance(T0, [("a", T0 - dt.timedelta(seconds=1))])
    again = ChangeCursor.from_json(cursor.to_json())
    assert again == cursor
    assert ChangeCursor.from_json(None) == ChangeCursor()
    again.reset()
    assert again.watermark is None and again.applied == {}
