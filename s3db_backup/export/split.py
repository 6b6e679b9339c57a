"""SplitUnit: cut a unit into shards of about `shardRecords` keys, listing as little as it can.

Each shard is exported by its own chunk loop into its own file, in parallel with the others, and lists its own
keys as it exports them: listing is paid once, and runs while the GETs of the keys before it run (on a server
that serves one request at a time, such as moto_server, a listing that must end before the first GET adds its
whole time to the backup's).

SplitUnit lists one page of each scope. A scope that fits in it is done: its keys are kept as key batches in
the backup's work folder (export/key_batches.py) and cut into shards exactly. A scope still unfinished is split
by the groups of its remaining keys: LISTs of one key find where those keys stop sharing a prefix (a binary
search) and where each group of the next character starts (`id=A…`, `id=B…`, …; random s3db.js ids give 64
groups, sequential ids fewer). How many keys each group holds is estimated from how densely the first page's
keys lie (export/keyspace.py); a group estimated above `shardRecords` is cut into ranges of about that size
at positions between its keys. Each range is listed by the shard that holds it, under the group's prefix.

A shard is a run of pieces in key order: key batches (exact) and ranges still to list (estimated), so shards
partition the unit exactly whatever the estimates say; estimates only decide how many keys each shard gets.
The plan lives in one side object in the backup's work folder, written after the batches it names; the
workflow state carries only the shard count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, NamedTuple

from s3db_backup.archive.frames import CODECS
from s3db_backup.catalog import BackupPaths, read_json, write_json
from s3db_backup.config import Settings
from s3db_backup.errors import StoreError
from s3db_backup.export.job import ExportJob
from s3db_backup.export.key_batches import BATCH_KEYS, batch_name, write_batch
from s3db_backup.export.keyspace import PAST, KeySpace, cut_points, density, shared_length
from s3db_backup.export.reader import list_page, list_subdirs
from s3db_backup.export.units import Scope, Unit, root_of, scopes_for
from s3db_backup.locations import S3Location

#: Most shards per unit: keeps the shard Map's items (and so the workflow state) far below 256 KB.
MAX_SHARDS = 2000
#: Most groups a scope is split into: one per character of random s3db.js ids (64), with room to spare.
MAX_RANGES = 128
#: Version of the shard plan's layout (2: shards are runs of pieces, batches and ranges still to list).
PLAN_VERSION = 2
#: Listed keys held in memory at once (about 1 KB each while a page is parsed): bounds how many ranges are
#: listed at once to this many keys over the largest page the server has given (AWS gives 1,000).
KEYS_IN_FLIGHT = 20_000


@dataclass
class KeyRange:
    """Keys of scope `scope` in (start, end] (None: the scope's beginning / end), listed under `prefix` (the
    group's, relative; None: the scope's). `after` is where SplitUnit's listing stopped and `batches` the key
    count of each batch it wrote; a range not `done` is listed on from there by its shard, which is expected
    to find about `estimate` keys. `id` names the range's batches: ranges are kept in key order and a split
    inserts new ones, so a range's position is not a stable name."""

    scope: int
    id: int = 0
    start: str | None = None
    end: str | None = None
    prefix: str | None = None
    after: str | None = None
    count: int = 0
    batches: list[int] = field(default_factory=list)
    done: bool = False
    estimate: int = 0


class Piece(NamedTuple):
    """A shard's unit of work: batch `batch` of `range`, or (batch None) what is left of it to list."""

    range: KeyRange
    batch: int | None
    keys: int  # exact for a batch, estimated for what is left to list


@dataclass
class ShardPlan:
    """What SplitUnit leaves for the shards of one unit (`.work/shards/<unit file>.json`). Once `done`,
    `starts` holds the index (in `pieces()` order) of each shard's first piece."""

    scopes: list[list[Any]]
    ranges: list[KeyRange] = field(default_factory=list)
    keys: int = 0  # listed by SplitUnit
    estimate: int = 0  # left for the shards to list, estimated
    done: bool = False
    starts: list[int] = field(default_factory=list)
    version: int = PLAN_VERSION

    @property
    def count(self) -> int:
        """Shards; a unit with no keys still has one (its records file is written, empty)."""
        return max(len(self.starts), 1)

    def scope_of(self, r: KeyRange) -> Scope:
        return Scope.from_list(self.scopes[r.scope])

    def pieces(self) -> list[Piece]:
        """Every batch and every range's rest, in key order."""
        every: list[Piece] = []
        for r in self.ranges:
            every += [Piece(r, n, keys) for n, keys in enumerate(r.batches)]
            if not r.done:
                every.append(Piece(r, None, r.estimate))
        return every

    def shard_pieces(self, index: int) -> list[Piece]:
        every = self.pieces()
        if not self.starts:
            return []
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(every)
        return every[self.starts[index]:end]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShardPlan:
        return cls(scopes=data["scopes"], ranges=[KeyRange(**r) for r in data.get("ranges", [])],
                   keys=data.get("keys", 0), estimate=data.get("estimate", 0), done=data.get("done", False),
                   starts=data.get("starts", []), version=data.get("version", 1))


def unit_base(unit: Unit, settings: Settings) -> str:
    """The unit's unsharded file name: unique per unit, so it names the unit's work objects."""
    return unit.file_key(CODECS[settings.compression], settings.encryption != "none")


def shard_plan_key(paths: BackupPaths, unit: Unit, settings: Settings) -> str:
    return paths.work(f"shards/{unit_base(unit, settings)}.json")


def key_batch_key(paths: BackupPaths, unit: Unit, settings: Settings, range_id: int, number: int) -> str:
    return paths.work(f"keys/{unit_base(unit, settings)}/{batch_name(range_id, number)}")


def read_shard_plan(s3: Any, paths: BackupPaths, unit: Unit, settings: Settings, operation: str) -> ShardPlan:
    data = read_json(s3, paths.store.bucket, shard_plan_key(paths, unit, settings))
    plan = ShardPlan.from_dict(data) if data is not None else None
    if plan is None or not plan.done or plan.version != PLAN_VERSION:
        raise StoreError(
            f"unit {unit.kind}:{unit.resource} of backup {paths.backup_id} was never split",
            description="SplitUnit must finish before the unit's shards are exported (by this version of the "
                        "engine: a plan of another layout cannot be read).",
            operation=operation, backupId=paths.backup_id,
        )
    return plan


def split_unit(
    s3: Any,
    job_data: dict[str, Any],
    cursor_data: dict[str, Any] | None,
    *,
    deadline: float = float("inf"),
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """List one page of each scope, split what is left, answer the shards. The work is bounded (a page per
    scope, a few one-key LISTs per unfinished one), so one invocation does it whatever the deadline; a
    retried or replayed invocation answers from the stored plan once it is written."""
    del deadline, clock  # part of every chunk task's contract; this one always finishes in one invocation
    job = ExportJob.from_dict(job_data)
    unit, settings, source, paths = job.unit, job.settings, job.source, job.paths
    side_key = shard_plan_key(paths, unit, settings)

    def save(range_id: int, number: int, keys: list[str]) -> None:
        write_batch(s3, paths.store.bucket, key_batch_key(paths, unit, settings, range_id, number), keys)

    stored = read_json(s3, paths.store.bucket, side_key)
    plan = ShardPlan.from_dict(stored) if stored else None
    if plan is None or not plan.done or plan.version != PLAN_VERSION:
        lister = _Lister(s3, source, settings, min(BATCH_KEYS, settings.shardRecords), save)
        plan = _discover(s3, source, unit)
        lister.first_pages(plan)
        _split_unfinished(lister, plan)
        _cut(plan, settings.shardRecords)
        write_json(s3, paths.store.bucket, side_key, plan.to_dict())
    count = plan.count
    return {
        "job": job_data,
        "cursor": None,
        "done": True,
        "keys": plan.keys,
        "estimate": plan.estimate,
        # The items of the shard Map: small, so the state stays small for hundreds of shards.
        "shards": [{"index": i, "count": count} for i in range(count)],
    }


Save = Callable[[int, int, list[str]], None]
"""Writes batch `number` of the range with id `range_id`."""


def _discover(s3: Any, source: S3Location, unit: Unit) -> ShardPlan:
    """The unit's scopes, one range each, not listed yet."""
    root = root_of(unit)
    subdirs = list_subdirs(s3, source, root) if root is not None else []
    scopes = [s.to_list() for s in scopes_for(unit, subdirs)]
    return ShardPlan(scopes=scopes, ranges=[KeyRange(index, id=index) for index in range(len(scopes))])


class _Lister:
    """Lists the first page of every scope in parallel, keeps it as key batches, and keeps what the split of
    an unfinished scope needs to know of it: the key space its keys lie in, and its first key."""

    def __init__(self, s3: Any, source: S3Location, settings: Settings, per_batch: int, save: Save) -> None:
        self.s3, self.source, self.settings, self.per_batch, self.save = s3, source, settings, per_batch, save
        #: The largest page seen (pages asked for until one comes back): what one lister may hold.
        self.page_keys = 0
        #: Range id -> what its first page showed, for unfinished deep scopes.
        self.samples: dict[int, _Sample] = {}
        self.probes = _Probes(s3, source)

    def workers(self, ranges: int) -> int:
        held = self.page_keys or self.settings.listPageKeys
        return max(1, min(ranges, self.settings.concurrency, KEYS_IN_FLIGHT // held))

    def first_pages(self, plan: ShardPlan) -> None:
        def walk(r: KeyRange) -> None:
            scope = plan.scope_of(r)
            page = list_page(self.s3, self.source, scope, r.start, None, self.settings.listPageKeys)
            if page.truncated:
                self.page_keys = max(self.page_keys, len(page.keys))
                if page.keys and not scope.shallow:
                    keys = page.keys
                    shared = shared_length(keys[0], keys[-1])
                    self.samples[r.id] = _Sample(keys[0], keys[-1], len(keys), {c for k in keys for c in k[shared:]})
            r.after, r.done = page.resume_after, not page.truncated
            self._keep(r, page.keys)

        if len(plan.ranges) == 1:
            walk(plan.ranges[0])
            return
        with ThreadPoolExecutor(max_workers=self.workers(len(plan.ranges))) as pool:
            list(pool.map(walk, plan.ranges))

    def _keep(self, r: KeyRange, keys: list[str]) -> None:
        """Add listed keys to the range as full batches (the last one may be short)."""
        for start in range(0, len(keys), self.per_batch):
            batch = keys[start:start + self.per_batch]
            self.save(r.id, len(r.batches), batch)
            r.batches.append(len(batch))
            r.count += len(batch)


#: Rounds of splitting a group again when its estimate is above `shardRecords` (each a few one-key LISTs per
#: group): sequential ids share long prefixes, and the keys of a group end where its own groups end.
SPLIT_ROUNDS = 3


@dataclass
class _Sample:
    """What the split of an unfinished scope keeps of its first page."""

    first: str
    last: str
    count: int
    chars: set[str]  # every character past the page's shared prefix


def _split_unfinished(lister: _Lister, plan: ShardPlan) -> None:
    """Split every scope its first page did not finish by the groups of its remaining keys, and the groups
    estimated above `shardRecords` again by theirs (SPLIT_ROUNDS rounds, at most MAX_RANGES groups per scope
    per round); then cut what is still estimated above `shardRecords` into ranges of about that size. A scope
    listed without a sample (a shallow scope, a page of folders only) is left whole to its shard."""
    per_shard = lister.settings.shardRecords
    unfinished = [r for r in plan.ranges if not r.done]
    for r in unfinished:
        r.estimate = max(r.count, 1)
    big = [r for r in unfinished if r.id in lister.samples]
    found = _children_of(lister, plan, big, MAX_RANGES // max(len(big), 1))
    estimated: list[tuple[KeyRange, KeySpace, float | None, int, int]] = []
    for r, (groups, complete, shared) in zip(big, found, strict=True):
        sample = lister.samples[r.id]
        space = _space_of(sample, shared if shared is not None else sample.last, groups)
        rate = density(space, sample.first, sample.last, sample.count)
        estimated += _estimate(plan, space, rate, r, groups, complete, shared, per_shard)
    for _ in range(SPLIT_ROUNDS - 1):
        again = [e for e in estimated if e[0].prefix is not None and e[0].estimate > per_shard]
        if not again or len(plan.ranges) + len(again) > MAX_SHARDS:
            break
        found = _children_of(lister, plan, [e[0] for e in again], max(MAX_RANGES // len(again), 2))
        done_with = {id(e[0]) for e in again}
        estimated = [e for e in estimated if id(e[0]) not in done_with]
        for (r, space, rate, _, _), (groups, complete, shared) in zip(again, found, strict=True):
            estimated += _estimate(plan, space, rate, r, groups, complete, shared, per_shard)
    budget = MAX_SHARDS * 2  # ranges cut from estimates: a few per shard at most
    for r, space, _, low, high in estimated:
        budget -= _cut_range(plan, space, r, low, high, per_shard, budget)


def _children_of(lister: _Lister, plan: ShardPlan, ranges: list[KeyRange],
                 share: int) -> list[tuple[list[str], bool, str | None]]:
    """The groups of each range (`_children`), found at once, at most `share - 1` each."""
    if not ranges:
        return []
    with ThreadPoolExecutor(max_workers=min(len(ranges), lister.settings.concurrency)) as pool:
        return list(pool.map(partial(_children, lister.probes, plan, limit=max(share - 1, 1)), ranges))


def _space_of(sample: _Sample, shared: str, groups: list[str]) -> KeySpace:
    """The key space of a scope's keys: past the prefix its first page shares with every key left, in the
    characters its keys and groups use there."""
    base = sample.first[:shared_length(sample.first, shared)]
    chars = set(sample.chars) | set(sample.first[len(base):]) | {c for g in groups for c in g[len(base):]}
    return KeySpace(base, "".join(sorted(chars)) or "0")


def _estimate(plan: ShardPlan, space: KeySpace, rate: float | None, r: KeyRange, groups: list[str],
              complete: bool, shared: str | None, per_shard: int,
              ) -> list[tuple[KeyRange, KeySpace, float | None, int, int]]:
    """Split `r` by its groups and estimate what each range left holds from the scope's density; each
    estimated range with the positions it spans."""
    start = r.after if r.after is not None else r.start
    low = space.position(start) if start is not None else 0
    end = space.position(r.end) if r.end is not None else space.size
    for known in (r.prefix, shared):  # every key left starts with both
        if known is not None:
            low, end = max(low, space.position(known)), min(end, space.past(known))
    children = _split(plan, r, groups, complete)
    # A group's keys lie from its prefix to past it (nothing is between groups); a tail (groups cut short,
    # or none) takes the rest.
    spans = [(child, space.position(g), space.past(g)) for child, g in zip(children, groups, strict=False)]
    if not complete or not children:
        spans.append((children[-1] if children else r, low, end))
    out = []
    for child, first, high in spans:
        low = max(low, min(first, end))
        high = max(low, min(high, end))
        child.estimate = max(1, round(rate * (high - low))) if rate is not None else per_shard
        out.append((child, space, rate, low, high))
        low = high
    return out


def _cut_range(plan: ShardPlan, space: KeySpace, r: KeyRange, lo: int, hi: int, per_shard: int,
               budget: int) -> int:
    """Cut range `r`, estimated above `per_shard` keys, into ranges of about `per_shard` at positions between
    `lo` and `hi` (inserted after it, in key order; at most `budget` new ones); how many it added. Bounds are
    kept only where they strictly increase, so the ranges partition `r` whatever the positions say."""
    pieces = min(-(-r.estimate // per_shard), budget + 1)
    if pieces < 2:
        return 0
    bounds: list[str] = []
    low = r.start if r.start is not None else r.after
    for point in cut_points(space, lo, hi, pieces):
        bound = space.key_at(point)
        if (low is None or bound > low) and (r.end is None or bound < r.end) and \
                (not bounds or bound > bounds[-1]):
            bounds.append(bound)
    if not bounds:
        return 0
    share = max(1, r.estimate // (len(bounds) + 1))
    next_id = max(x.id for x in plan.ranges) + 1
    ends = [*bounds, r.end]
    added = [KeyRange(r.scope, id=next_id + i, start=bounds[i], end=ends[i + 1], prefix=r.prefix, estimate=share)
             for i in range(len(bounds))]
    r.end, r.estimate = bounds[0], share
    at = next(i for i, x in enumerate(plan.ranges) if x is r) + 1
    plan.ranges[at:at] = added
    return len(added)


class _Probes:
    """Answers of one-key LISTs, kept for the whole split: the first key of a group found in one round is where
    the next round's search of that group starts, without asking again. Each answer is kept with the prefix it
    was asked under, and reused under that prefix or a narrower one where it still says something."""

    def __init__(self, s3: Any, source: S3Location) -> None:
        self.s3, self.source = s3, source
        self.answers: dict[str | None, list[tuple[str, str | None]]] = {}
        self.asked = 0

    def first_after(self, base: str, after: str | None) -> str | None:
        """The first key under `base` (relative) after `after` (None: none is)."""
        for wider, key in self.answers.get(after, []):
            if base.startswith(wider):
                if key is None or key.startswith(base):
                    return key  # nothing under the wider prefix, or its first key is under this one
                if key > base:
                    return None  # the wider prefix's first key sorts after every key under this one
        params: dict[str, Any] = {"Bucket": self.source.bucket, "MaxKeys": 1,
                                  "Prefix": self.source.key(base) if base else self.source.key_prefix}
        if after is not None:
            params["StartAfter"] = self.source.key(after)
        contents = self.s3.list_objects_v2(**params).get("Contents", [])
        self.asked += 1
        key = self.source.relative(contents[0]["Key"]) if contents else None
        self.answers.setdefault(after, []).append((base, key))
        return key


def _children(probes: _Probes, plan: ShardPlan, r: KeyRange, limit: int) -> tuple[list[str], bool, str | None]:
    """The groups of the keys range `r` has yet to list, in key order, at most `limit`: past the prefix they
    all share, one group per next character. Whether the groups are all of them ([]: nothing to split
    by), and the prefix they share (None: no key is left). Every probe is a LIST of one key."""
    base = r.prefix if r.prefix is not None else plan.scope_of(r).prefix

    def first_after(after: str | None) -> str | None:
        key = probes.first_after(base, after)
        return key if key is not None and (r.end is None or key <= r.end) else None

    first = first_after(r.after if r.after is not None else r.start)
    if first is None:
        return [], True, None
    # The longest prefix every remaining key shares: keys all start with first[:d] when none follows
    # first[:d] + PAST, which holds for every d up to the answer (a binary search). In a group (a range with a
    # prefix of its own), the whole of `first` is tried first: a group that holds one key (the `…1` after the
    # `…0…` of sequential ids) ends there after one probe.
    low, high = len(base), len(first)
    if r.prefix is not None and first_after(first + PAST) is None:
        low = high
    while low < high:
        mid = (low + high + 1) // 2
        if first_after(first[:mid] + PAST) is None:
            low = mid
        else:
            high = mid - 1
    if low >= len(first):
        return [], True, first  # every remaining key extends the first one: no next character to group by
    groups = [first[:low + 1]]
    while len(groups) < limit:
        following = first_after(groups[-1] + PAST)
        if following is None or len(following) <= low:
            return groups, True, first[:low]
        groups.append(following[:low + 1])
    return groups, False, first[:low]


def _split(plan: ShardPlan, r: KeyRange, groups: list[str], complete: bool) -> list[KeyRange]:
    """Hand what `r` has yet to list to one range per group, inserted after it in key order: a group's
    range ends at the group + PAST (nothing sorts between `…A` and `…A` + PAST but keys starting with `…A`),
    the first starts where `r` stopped. When the groups are not all of them, one more range, under `r`'s
    prefix, takes what follows the last group. `r` ends where it stopped."""
    if not groups:
        return []
    next_id = max(x.id for x in plan.ranges) + 1
    stopped = r.after if r.after is not None else r.start
    bounds: list[str | None] = [stopped, *(g + PAST for g in groups)]
    children = [KeyRange(r.scope, id=next_id + i, start=bounds[i], end=bounds[i + 1], prefix=g)
                for i, g in enumerate(groups)]
    if not complete:
        children.append(KeyRange(r.scope, id=next_id + len(groups), start=bounds[-1], end=r.end, prefix=r.prefix))
    r.end, r.done, r.estimate = stopped, True, 0
    at = next(i for i, x in enumerate(plan.ranges) if x is r) + 1
    plan.ranges[at:at] = children
    return children


def _cut(plan: ShardPlan, per_shard: int) -> None:
    """Shards from the pieces, in key order: each shard takes pieces while their keys (exact for batches,
    estimated for what is left to list) fit in `per_shard`; every shard has at least one."""
    starts: list[int] = []
    size = 0
    for index, (_, _, keys) in enumerate(plan.pieces()):
        if not starts or size + keys > per_shard:
            starts.append(index)
            size = 0
        size += keys
    if len(starts) > MAX_SHARDS:  # coarser shards rather than a state too large to pass
        step = -(-len(starts) // MAX_SHARDS)
        starts = starts[::step]
    plan.starts = starts
    plan.keys = sum(r.count for r in plan.ranges)
    plan.estimate = sum(r.estimate for r in plan.ranges if not r.done)
    plan.done = True

