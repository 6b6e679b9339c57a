"""SplitUnit reuses the answers of its one-key LISTs under narrower prefixes: a reused answer must be the one
the server would give, or the split would misplace a group's bounds."""

from __future__ import annotations

import bisect
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from s3db_backup.export.keyspace import PAST
from s3db_backup.export.split import _Probes
from s3db_backup.locations import S3Location

chars = st.text(alphabet="abz0-\U0010ffff", max_size=4)


class SortedBucket:
    """ListObjectsV2 of one key over a sorted key list, counting the requests."""

    def __init__(self, keys: list[str]) -> None:
        self.keys, self.requests = sorted(set(keys)), 0

    def list_objects_v2(self, Bucket: str, Prefix: str, MaxKeys: int, StartAfter: str = "") -> dict[str, Any]:
        self.requests += 1
        i = max(bisect.bisect_right(self.keys, StartAfter), bisect.bisect_left(self.keys, Prefix))
        found = self.keys[i:i + 1] if i < len(self.keys) and self.keys[i].startswith(Prefix) else []
        return {"Contents": [{"Key": k} for k in found]}


def first_after(keys: list[str], base: str, after: str | None) -> str | None:
    return next((k for k in sorted(keys) if k.startswith(base) and (after is None or k > after)), None)


@given(st.lists(chars, max_size=12), st.lists(st.tuples(chars, st.one_of(st.none(), chars), st.booleans()),
                                              min_size=1, max_size=12))
def test_a_reused_answer_is_the_one_the_server_would_give(ids: list[str], questions: list[Any]) -> None:
    source = S3Location.parse("s3://src-bucket/db")
    bucket = SortedBucket([f"db/{i}" for i in ids])
    probes = _Probes(bucket, source)
    for base, after, past in questions:
        after = None if after is None else after + PAST if past else after
        assert probes.first_after(base, after) == first_after(ids, base, after)
    assert bucket.requests == probes.asked <= len(questions)


def test_a_narrower_question_after_a_wider_answer_costs_no_request() -> None:
    bucket = SortedBucket(["db/p-1", "db/p-2", "db/u-1"])
    probes = _Probes(bucket, S3Location.parse("s3://src-bucket/db"))
    assert probes.first_after("", "p-" + PAST) == "u-1"
    assert probes.first_after("p", "p-" + PAST) is None and probes.first_after("u", "p-" + PAST) == "u-1"
    assert bucket.requests == 1
