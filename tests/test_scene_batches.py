"""The scene reader's look-ahead: order kept, bounded, one reading thread (GDAL's), errors and cancels passed on."""

from __future__ import annotations

import threading

import pytest

from sarclip_core.scene.batches import prefetch


def reader(count: int, log: list, fail_at: int | None = None):
    """A batch generator that records which thread reads, how far it got and which thread closed it."""
    try:
        for i in range(count):
            if i == fail_at:
                raise OSError("read error")
            log.append(("read", i, threading.get_ident()))
            yield i
    finally:
        log.append(("closed", None, threading.get_ident()))


def test_batches_come_in_order_read_and_closed_by_one_other_thread():
    log: list = []
    assert list(prefetch(reader(5, log))) == [0, 1, 2, 3, 4]
    threads = {thread for _, _, thread in log}
    assert len(threads) == 1 and threading.get_ident() not in threads and log[-1][0] == "closed"


def test_reading_stays_at_most_depth_batches_ahead_and_stops_on_close():
    log: list = []
    batches = prefetch(reader(100, log), depth=2)
    assert next(batches) == 0
    batches.close()
    reads = [i for kind, i, _ in log if kind == "read"]
    assert reads == list(range(len(reads))) and len(reads) <= 3 and log[-1][0] == "closed"  # 100 were there


def test_a_read_error_reaches_the_consumer_after_the_batches_before_it():
    log: list = []
    got = []
    with pytest.raises(OSError, match="read error"):
        for batch in prefetch(reader(5, log, fail_at=3)):
            got.append(batch)
    assert got == [0, 1, 2] and log[-1][0] == "closed"


def test_an_interrupt_while_the_reader_thread_starts_leaves_the_reader_closed_in_its_own_thread(monkeypatch):
    """A SIGTERM (raised as an interrupt in the main thread) can land inside Thread.start; the generator must
    then be closed by the reader thread or never started, never closed later from another thread (rasterio's
    GDAL environment is thread-local: closing it elsewhere fails at exit)."""
    start = threading.Thread.start

    def interrupted_start(thread):
        start(thread)
        raise KeyboardInterrupt

    monkeypatch.setattr(threading.Thread, "start", interrupted_start)
    log: list = []
    with pytest.raises(KeyboardInterrupt):
        next(prefetch(reader(100, log)))
    monkeypatch.undo()
    threads = {thread for _, _, thread in log}
    assert log == [] or (len(threads) == 1 and threading.get_ident() not in threads and log[-1][0] == "closed")
    assert [t for t in threading.enumerate() if t.name == "sarclip-scene-reader"] == []


def test_an_error_closing_the_reader_reaches_the_consumer():
    def fails_on_close(count: int):
        try:
            yield from range(count)
        finally:
            raise OSError("close failed")

    with pytest.raises(OSError, match="close failed"):
        list(prefetch(fails_on_close(2)))
    batches = prefetch(fails_on_close(100))
    next(batches)
    with pytest.raises(OSError, match="close failed"):
        batches.close()  # a cancel: the close error still surfaces


def test_depth_below_two_is_refused():
    with pytest.raises(ValueError, match="at least 2"):
        next(prefetch(reader(3, []), depth=1))
