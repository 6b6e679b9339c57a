"""OrderedFetcher: objects come back in key order whatever order their GETs finish in, an error surfaces at
its key's turn, an early stop starts no more GETs, and the GETs in flight and objects held stay bounded."""

from __future__ import annotations

import random
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3db_backup.archive.lines import StoredObject
from s3db_backup.export.ordered_fetch import OrderedFetcher

WAIT = 10.0  # seconds before a test that would otherwise hang fails instead


def _object(key: str) -> StoredObject:
    return StoredObject(key=key, metadata={"_v": "v1"}, content_type=None, body=key.encode())


class _Gets:
    """A getter that counts what is in flight; `gate(key)` may block a GET until the test releases it."""

    def __init__(self, gate: dict[str, threading.Event] | None = None) -> None:
        self.gate = gate or {}
        self.started: dict[str, threading.Event] = {}
        self.lock = threading.Lock()
        self.in_flight = self.most_in_flight = self.calls = 0

    def __call__(self, key: str) -> StoredObject | None:
        with self.lock:
            self.calls += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.started.setdefault(key, threading.Event()).set()
        try:
            if key in self.gate:
                assert self.gate[key].wait(WAIT), f"{key} was never released"
            return None if key.endswith("-gone") else _object(key)
        finally:
            with self.lock:
                self.in_flight -= 1


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), concurrency=st.integers(1, 6), blocks=st.integers(1, 5))
def test_objects_come_back_in_key_order_whatever_order_their_gets_finish(seed: int, concurrency: int,
                                                                          blocks: int) -> None:
    keys = [f"k{i:03d}" for i in range(concurrency * blocks)]
    gates = {k: threading.Event() for k in keys}
    gets = _Gets(gates)
    rng = random.Random(seed)

    def release_shuffled() -> None:
        # Each run of `concurrency` keys is in flight at once, and finishes in a random order.
        for b in range(blocks):
            block = keys[b * concurrency:(b + 1) * concurrency]
            for key in block:
                gets.started.setdefault(key, threading.Event()).wait(WAIT)
            for key in rng.sample(block, len(block)):
                gates[key].set()

    releaser = threading.Thread(target=release_shuffled, daemon=True)
    releaser.start()
    got = list(OrderedFetcher(gets, concurrency).fetch_in_order(keys))
    releaser.join(WAIT)
    assert [k for k, _ in got] == keys
    assert [o.body.decode() if o else None for _, o in got] == keys
    assert gets.most_in_flight <= concurrency


def test_a_vanished_object_is_none_in_its_place() -> None:
    keys = ["a", "b-gone", "c"]
    assert list(OrderedFetcher(_Gets(), 4).fetch_in_order(keys)) == [("a", _object("a")), ("b-gone", None),
                                                                      ("c", _object("c"))]


def test_a_get_that_fails_raises_at_its_keys_turn_after_every_key_before_it() -> None:
    class Boom(Exception):
        pass

    def get(key: str) -> StoredObject:
        if key == "k05":
            raise Boom(key)
        return _object(key)

    yielded: list[str] = []
    with pytest.raises(Boom, match="k05"):
        for key, _ in OrderedFetcher(get, 4).fetch_in_order([f"k{i:02d}" for i in range(20)]):
            yielded.append(key)
    assert yielded == [f"k{i:02d}" for i in range(5)]


def test_stopping_early_waits_for_the_gets_in_flight_and_starts_no_more() -> None:
    gets = _Gets()
    fetched = OrderedFetcher(gets, 4).fetch_in_order([f"k{i:04d}" for i in range(1000)])
    for _ in range(3):
        next(fetched)
    fetched.close()
    after_close = gets.calls
    assert gets.in_flight == 0
    assert after_close <= 3 + 2 * 4  # what was yielded plus the window taken ahead of it
    assert gets.calls == after_close


def test_no_more_than_twice_the_concurrency_is_taken_ahead_of_the_consumer() -> None:
    head = threading.Event()
    gets = _Gets({"k000": head})
    fetched = OrderedFetcher(gets, 3).fetch_in_order([f"k{i:03d}" for i in range(100)])
    consumer = threading.Thread(target=lambda: list(fetched), daemon=True)
    consumer.start()
    # The head GET blocks: the workers run ahead of it up to the window (6 keys) and then wait.
    assert all(gets.started.setdefault(f"k{i:03d}", threading.Event()).wait(WAIT) for i in range(6))
    with gets.lock:
        assert "k006" not in gets.started or not gets.started["k006"].is_set()
    head.set()
    consumer.join(WAIT)
    assert not consumer.is_alive()
    assert gets.calls == 100 and gets.most_in_flight <= 3
