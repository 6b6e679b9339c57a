"""Key positions: how far through a folder's keys a key lies, to estimate how many keys a range holds from the
keys one page listed, and to cut a range into pieces of about equal size without listing it.

A key's position reads the characters after the folder's prefix as the digits of a number in base
(alphabet size + 1): digit 0 is the end of the key and the others are ranks in the alphabet, so positions
keep the keys' order (a key that is a prefix of another sorts first). The alphabet is what the first page's
keys use where they differ (decimal digits for sequential ids, 64 characters for s3db.js ids), so keys spread
evenly over positions when their ids do. A key with a character outside it lies at the top of the slot of the
alphabet's character just below, whatever follows, which keeps the order (ties allowed). Estimates only size
the shards: which keys a range holds never depends on them.
The space's base is where the keys start to differ (`resource=x/data/id=`), so the digits are the ids'.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

#: Sorts after every key that starts with a given prefix (U+10FFFF is the largest code point): `prefix + PAST`
#: bounds a folder or a group of keys in a LIST's StartAfter.
PAST = "\U0010ffff"
#: Characters of a key read as digits: far beyond where s3db.js ids differ; Python integers are exact.
DIGITS = 24


@dataclass(frozen=True)
class KeySpace:
    base: str  # the folder (relative prefix) every key of the space starts with
    alphabet: str  # sorted, distinct

    @property
    def radix(self) -> int:
        return len(self.alphabet) + 1

    @property
    def size(self) -> int:
        """Every position is below this."""
        return self.radix**DIGITS

    def position(self, key: str) -> int:
        """Where `key` lies (keys outside the base are clamped to its ends)."""
        if not key.startswith(self.base):
            return 0 if key < self.base else self.size
        value = 0
        tail = key[len(self.base):len(self.base) + DIGITS]
        for used, c in enumerate(tail, start=1):
            rank = bisect_left(self.alphabet, c)
            if rank < len(self.alphabet) and self.alphabet[rank] == c:
                value = value * self.radix + rank + 1
                continue
            # Between two characters of the alphabet: the top of the slot of the one below it, whatever follows.
            rest = self.radix ** (DIGITS - used)
            return (value * self.radix + rank) * rest + rest - 1
        return value * self.radix ** (DIGITS - len(tail))

    def past(self, prefix: str) -> int:
        """The position just past every key that starts with `prefix` (`prefix` + PAST)."""
        if not prefix.startswith(self.base):
            return 0 if prefix < self.base else self.size
        depth = len(prefix) - len(self.base)
        if depth >= DIGITS:
            return self.position(prefix) + 1
        return self.position(prefix) + self.radix ** (DIGITS - depth)

    def key_at(self, position: int) -> str:
        """A key at `position` or just below it: a bound between ranges, not necessarily a key that exists."""
        digits: list[int] = []
        for _ in range(DIGITS):
            position, digit = divmod(position, self.radix)
            digits.append(digit)
        chars: list[str] = []
        for digit in reversed(digits):
            if digit == 0:
                break
            chars.append(self.alphabet[digit - 1])
        return self.base + "".join(chars)


def cut_points(space: KeySpace, start: int, end: int, pieces: int) -> list[int]:
    """`pieces - 1` positions cutting [start, end) into pieces of equal width, strictly increasing."""
    points = [start + (end - start) * i // pieces for i in range(1, pieces)]
    return [p for i, p in enumerate(points) if start < p < end and (i == 0 or p > points[i - 1])]


def density(space: KeySpace, first: str, last: str, count: int) -> float | None:
    """Keys per unit of position of a page of `count` keys from `first` to `last`; None when it spans no width."""
    width = space.position(last) - space.position(first)
    return count / width if width > 0 else None


def shared_length(a: str, b: str) -> int:
    """How many leading characters `a` and `b` share."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
