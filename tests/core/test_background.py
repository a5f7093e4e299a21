import threading

import pytest

from formcheck.core.background import BackgroundWorker


def test_items_are_handled_in_order_and_flush_waits():
    seen = []
    worker = BackgroundWorker(seen.append, name="t")
    for i in range(100):
        worker.submit(i)
    worker.flush()
    assert seen == list(range(100))
    worker.close()


def test_drop_when_full_skips_instead_of_waiting():
    gate = threading.Event()
    seen = []
    worker = BackgroundWorker(lambda i: (gate.wait(), seen.append(i)), maxsize=1, drop_when_full=True)
    results = [worker.submit(i) for i in range(10)]
    gate.set()
    worker.close()
    assert not all(results) and worker.dropped == results.count(False)
    assert seen == [i for i, ok in enumerate(results) if ok]


def test_error_is_raised_on_close_and_later_items_still_run():
    seen = []

    def fn(i):
        if i == 1:
            raise ValueError("disk full")
        seen.append(i)

    worker = BackgroundWorker(fn)
    for i in range(4):
        worker.submit(i)
    with pytest.raises(ValueError, match="disk full"):
        worker.close()
    assert seen == [0, 2, 3]


def test_swallowed_errors_do_not_stop_the_worker_nor_raise_on_close():
    seen = []

    def fn(i):
        if i % 2:
            raise ZeroDivisionError("odd")
        seen.append(i)

    worker = BackgroundWorker(fn, swallow_errors=True)
    for i in range(6):
        worker.submit(i)
    worker.close()  # would raise ZeroDivisionError without swallow_errors
    assert seen == [0, 2, 4]
    loud = BackgroundWorker(fn)
    loud.submit(1)
    with pytest.raises(ZeroDivisionError):
        loud.close()
