"""Key positions keep the keys' order, so ranges cut at them partition a folder whatever the estimates say."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from s3db_backup.export.keyspace import KeySpace, cut_points, density

BASE = "resource=notes/data/id="
ids = st.text(alphabet="0123456789abcXYZ-_é\U0010ffff", max_size=30)


@given(ids, ids, st.text(alphabet="0123456789ab", min_size=1, max_size=12))
def test_positions_never_reverse_the_order_of_keys(a: str, b: str, alphabet: str) -> None:
    space = KeySpace(BASE, "".join(sorted(set(alphabet))))
    low, high = sorted([BASE + a, BASE + b])
    assert space.position(low) <= space.position(high) <= space.size


@given(st.text(alphabet="0123456789", min_size=1, max_size=10))
def test_a_prefix_holds_its_keys_between_its_position_and_past_it(prefix: str) -> None:
    space = KeySpace(BASE, "0123456789")
    for tail in ("", "0", "99999", "5" * 40):
        assert space.position(BASE + prefix) <= space.position(BASE + prefix + tail) < space.past(BASE + prefix)


@given(st.integers(min_value=0, max_value=11**24 - 2), st.integers(min_value=2, max_value=50))
def test_cut_points_increase_and_bounds_stay_inside(start: int, pieces: int) -> None:
    space = KeySpace(BASE, "0123456789")
    end = min(space.size, start + pieces * 7 + 1)
    points = cut_points(space, start, end, pieces)
    assert all(start < p < end for p in points) and points == sorted(set(points))
    for p in points:
        assert space.position(space.key_at(p)) <= p  # a bound at or just below its position


def test_density_of_sequential_ids_counts_keys_per_position() -> None:
    space = KeySpace(BASE, "0123456789")
    rate = density(space, BASE + "0000001", BASE + "0010000", 10_000)
    assert rate is not None
    # The rest of the `00` group holds about 90,000 keys: 9 of the 10 digits at the third place.
    estimate = rate * (space.past(BASE + "00") - space.position(BASE + "0010000"))
    assert 80_000 < estimate < 110_000
    assert density(space, BASE + "5", BASE + "5", 1) is None
