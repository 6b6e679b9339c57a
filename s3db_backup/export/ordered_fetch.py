"""Fetches a run of keys with bounded concurrency and yields the objects in key order, so the cursor can
always say "everything up to this key is in the file".

Worker threads take the next key themselves and leave each object in its slot; the consumer waits only when
the object it needs next is not there yet. A thread pool with one future per key costs more client CPU than
the GET it wraps on a slow machine (measured 0.75 against 0.67 ms per obstore GET with 16 threads): every
key paid a queue hand-off to a worker and a condition per future.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from s3db_backup.archive.lines import StoredObject
from s3db_backup.export.reader import Getter

_PENDING = object()


class _Run:
    """The shared state of one fetch_in_order call, guarded by one lock."""

    def __init__(self, get: Getter, keys: Sequence[str], window: int) -> None:
        self.get, self.keys, self.window = get, keys, window
        self.slots: list[object] = [_PENDING] * len(keys)
        self.claimed = 0  # next index a worker takes
        self.consumed = 0  # next index the consumer yields, and so the only one it ever waits for
        self.stopped = False
        self.lock = threading.Lock()
        self.ready = threading.Condition(self.lock)  # the consumer's object has arrived
        self.room = threading.Condition(self.lock)  # the window moved on

    def work(self) -> None:
        keys, slots = self.keys, self.slots
        while True:
            with self.lock:
                while not self.stopped and self.claimed < len(keys) and self.claimed >= self.consumed + self.window:
                    self.room.wait()
                if self.stopped or self.claimed >= len(keys):
                    return
                index = self.claimed
                self.claimed += 1
            try:
                result: object = self.get(keys[index])
            except BaseException as exc:  # handed to the consumer, raised where this key's turn comes
                result = _Failure(exc)
            with self.lock:
                slots[index] = result
                if index == self.consumed:
                    self.ready.notify()

    def take(self, index: int) -> object:
        with self.lock:
            while self.slots[index] is _PENDING:
                self.ready.wait()
            result, self.slots[index] = self.slots[index], None
            self.consumed = index + 1
            self.room.notify()
        return result

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            self.room.notify_all()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class OrderedFetcher:
    """Fetches keys with `concurrency` GETs in flight and at most twice that many objects held, in order."""

    def __init__(self, get: Getter, concurrency: int) -> None:
        self._get = get
        self._concurrency = max(1, concurrency)
        # Twice as many keys taken as GETs run, so a slow object at the head of the order never leaves workers
        # idle while the ones behind it wait to be yielded.
        self._window = 2 * self._concurrency

    def fetch_in_order(self, keys: Sequence[str]) -> Iterator[tuple[str, StoredObject | None]]:
        """(key, object or None when it vanished) for each key, in order. A GET's error is raised at its
        key's turn. Closing the iterator early waits for the GETs in flight and starts no more."""
        if not keys:
            return
        run = _Run(self._get, keys, self._window)
        workers = [threading.Thread(target=run.work, name=f"fetch-{i}", daemon=True)
                   for i in range(min(self._concurrency, len(keys)))]
        for worker in workers:
            worker.start()
        try:
            for index, key in enumerate(keys):
                result = run.take(index)
                if isinstance(result, _Failure):
                    raise result.exc
                yield key, result  # type: ignore[misc]
        finally:
            run.stop()
            for worker in workers:
                worker.join()
