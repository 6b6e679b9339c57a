"""SplitUnit: list a unit once and cut it into shards of at most `shardRecords` keys.

Each shard is exported by its own chunk loop into its own file, in parallel with the others. The listing is
kept as key batches in the backup's work folder (export/key_batches.py): a shard is a run of consecutive
batches, so the shards partition the listed keys exactly, in S3's listing order, and no shard lists again.

Listing one folder of 100 million keys page after page would take hours, so the listing itself is
parallel. Every range is listed for one page first; a range still unfinished after it is split by the
groups of its remaining keys: LISTs of one key find where those keys stop sharing a prefix (a binary search)
and where each group of the next character starts (`id=A…`, `id=B…`, …; random s3db.js ids give 64
groups, sequential ids fewer, split again in the next round). Each group is a range listed under its own
prefix. Rounds go on while fewer ranges are unfinished than the listing concurrency, up to MAX_RANGES, so a
folder that fits in one page costs one LIST and a large one is listed by many threads at once.

All progress lives in one side object in the backup's work folder, rewritten whole at the end of each
invocation after the batches it names, so a retried or replayed invocation resumes from a consistent state
(it rewrites the same batch names); the workflow state carries only the shard count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from s3db_backup.archive.frames import CODECS
from s3db_backup.catalog import BackupPaths, read_json, write_json
from s3db_backup.config import Settings
from s3db_backup.errors import StoreError
from s3db_backup.export.job import ExportJob
from s3db_backup.export.key_batches import BATCH_KEYS, batch_name, write_batch
from s3db_backup.export.reader import list_page, list_subdirs
from s3db_backup.export.units import Scope, Unit, root_of, scopes_for
from s3db_backup.locations import S3Location

#: Most shards per unit: keeps the shard Map's items (and so the workflow state) far below 256 KB.
MAX_SHARDS = 2000
#: Most key ranges per unit: room for one split of random s3db.js ids (64 characters) and a second round.
MAX_RANGES = 128
#: Listed keys held in memory at once (about 1 KB each while a page is parsed): bounds how many ranges are
#: listed at once to this many keys over the largest page the server has given (AWS gives 1,000).
KEYS_IN_FLIGHT = 20_000
#: Sorts after every key that starts with a given prefix (U+10FFFF is the largest code point).
PAST = "\U0010ffff"


@dataclass
class KeyRange:
    """Keys of scope `scope` in (start, end] (None: the scope's beginning / end), listed under `prefix` (the
    group's, relative; None: the scope's). `after` is the listing's progress and `batches` the key count of
    each batch written so far. `id` names the range's batches: ranges are kept in key order and a split
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


@dataclass
class ShardPlan:
    """What SplitUnit leaves for the shards of one unit (`.work/shards/<unit file>.json`). Once `done`,
    `starts` holds the index (in `batch_list()` order) of each shard's first batch."""

    scopes: list[list[Any]]
    ranges: list[KeyRange] = field(default_factory=list)
    keys: int = 0
    done: bool = False
    starts: list[int] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Shards; a unit with no keys still has one (its records file is written, empty)."""
        return max(len(self.starts), 1)

    def scope_of(self, r: KeyRange) -> Scope:
        return Scope.from_list(self.scopes[r.scope])

    def batch_list(self) -> list[tuple[int, int, int]]:
        """(range id, batch number, keys) of every batch, in listing order."""
        return [(r.id, n, keys) for r in self.ranges for n, keys in enumerate(r.batches)]

    def shard_batches(self, index: int) -> list[tuple[int, int, int]]:
        every = self.batch_list()
        if not self.starts:
            return []
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(every)
        return every[self.starts[index]:end]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShardPlan:
        return cls(scopes=data["scopes"], ranges=[KeyRange(**r) for r in data.get("ranges", [])],
                   keys=data.get("keys", 0), done=data.get("done", False), starts=data.get("starts", []))


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
    if plan is None or not plan.done:
        raise StoreError(
            f"unit {unit.kind}:{unit.resource} of backup {paths.backup_id} was never split",
            description="SplitUnit must finish before the unit's shards are exported.",
            operation=operation, backupId=paths.backup_id,
        )
    return plan


def split_unit(
    s3: Any,
    job_data: dict[str, Any],
    cursor_data: dict[str, Any] | None,
    *,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """List the unit's ranges (in parallel) until the deadline; once all are listed, answer the shards."""
    job = ExportJob.from_dict(job_data)
    unit, settings, source, paths = job.unit, job.settings, job.source, job.paths
    side_key = shard_plan_key(paths, unit, settings)
    seq = int((cursor_data or {}).get("seq", 0)) + 1

    def save(range_id: int, number: int, keys: list[str]) -> None:
        write_batch(s3, paths.store.bucket, key_batch_key(paths, unit, settings, range_id, number), keys)

    lister = _Lister(s3, source, settings, min(BATCH_KEYS, settings.shardRecords), save)
    stored = read_json(s3, paths.store.bucket, side_key) if cursor_data is not None else None
    if stored:
        plan = ShardPlan.from_dict(stored)
    else:
        plan = _discover(s3, source, unit)
        _refine(lister, plan)
    if not plan.done:
        lister.list_ranges(plan, [r for r in plan.ranges if not r.done], deadline=deadline, clock=clock)
        if all(r.done for r in plan.ranges):
            _cut(plan, settings.shardRecords)
    write_json(s3, paths.store.bucket, side_key, plan.to_dict())
    if not plan.done:
        return {"job": job_data, "cursor": {"seq": seq}, "done": False}
    count = plan.count
    return {
        "job": job_data,
        "cursor": None,
        "done": True,
        "keys": plan.keys,
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
    """Lists ranges in parallel and keeps what they list as key batches."""

    def __init__(self, s3: Any, source: S3Location, settings: Settings, per_batch: int, save: Save) -> None:
        self.s3, self.source, self.settings, self.per_batch, self.save = s3, source, settings, per_batch, save
        #: The largest page seen (pages asked for until one comes back): what one lister may hold.
        self.page_keys = 0

    def workers(self, ranges: int) -> int:
        held = self.page_keys or self.settings.listPageKeys
        return max(1, min(ranges, self.settings.concurrency, KEYS_IN_FLIGHT // held))

    def list_ranges(self, plan: ShardPlan, ranges: list[KeyRange], *, pages: int = 0,
                    deadline: float = float("inf"),
                    clock: Callable[[], float] = time.monotonic) -> None:
        """List each range for `pages` pages (0: until it is done or the deadline passes, at least one page).
        Keys are saved as batches as they fill, and what is left when a range stops is saved as a short batch,
        so every listed key is in a batch before the plan that counts it is written."""

        def walk(r: KeyRange) -> None:
            scope = plan.scope_of(r) if r.prefix is None else Scope(r.prefix)
            pending: list[str] = []
            listed = 0
            while not r.done and (listed < pages if pages else listed == 0 or clock() < deadline):
                listed += 1
                page = list_page(self.s3, self.source, scope, r.after if r.after is not None else r.start, None,
                                 self.settings.listPageKeys)
                keys = page.keys
                if page.truncated:
                    self.page_keys = max(self.page_keys, len(keys))
                if r.end is not None and keys and keys[-1] > r.end:
                    keys = [k for k in keys if k <= r.end]
                    r.done = True
                pending += keys
                r.after = page.resume_after
                if not page.truncated:
                    r.done = True
                full = len(pending) - len(pending) % self.per_batch
                self._keep(r, pending[:full])
                pending = pending[full:]
            self._keep(r, pending)

        if len(ranges) == 1:
            walk(ranges[0])
            return
        with ThreadPoolExecutor(max_workers=self.workers(len(ranges))) as pool:
            list(pool.map(walk, ranges))

    def _keep(self, r: KeyRange, keys: list[str]) -> None:
        """Add listed keys to the range as full batches (the last one may be short)."""
        for start in range(0, len(keys), self.per_batch):
            batch = keys[start:start + self.per_batch]
            self.save(r.id, len(r.batches), batch)
            r.batches.append(len(batch))
            r.count += len(batch)


def _refine(lister: _Lister, plan: ShardPlan) -> None:
    """List every new range for one page, and split those it did not finish by the groups of their
    remaining keys, while fewer ranges are unfinished than the listing concurrency and MAX_RANGES allows.
    The budget of new ranges is shared evenly, and the ranges of one round are split at once."""
    fresh = list(plan.ranges)
    while fresh:
        lister.list_ranges(plan, fresh, pages=1)
        big = [r for r in fresh if not r.done and not plan.scope_of(r).shallow]
        unfinished = sum(not r.done for r in plan.ranges)
        share = (MAX_RANGES - len(plan.ranges)) // max(len(big), 1)  # new ranges each: groups + a tail
        if not big or unfinished >= lister.settings.concurrency or share < 2:
            return
        with ThreadPoolExecutor(max_workers=min(len(big), lister.settings.concurrency)) as pool:
            found = list(pool.map(partial(_children, lister.s3, lister.source, plan, limit=share - 1), big))
        fresh = []
        for r, (groups, complete) in zip(big, found, strict=True):
            fresh += _split(plan, r, groups, complete)


def _children(s3: Any, source: S3Location, plan: ShardPlan, r: KeyRange, limit: int) -> tuple[list[str], bool]:
    """The groups of the keys range `r` has yet to list, in key order, at most `limit`: past the prefix they
    all share, one group per next character. Whether the groups are all of them ([]: nothing to split
    by). Every probe is a LIST of one key."""
    base = r.prefix if r.prefix is not None else plan.scope_of(r).prefix
    seen: dict[str | None, str | None] = {}

    def first_after(after: str | None) -> str | None:
        if after not in seen:
            params: dict[str, Any] = {"Bucket": source.bucket, "MaxKeys": 1,
                                      "Prefix": source.key(base) if base else source.key_prefix}
            if after is not None:
                params["StartAfter"] = source.key(after)
            page = s3.list_objects_v2(**params)
            contents = page.get("Contents", [])
            key = source.relative(contents[0]["Key"]) if contents else None
            seen[after] = key if key is not None and (r.end is None or key <= r.end) else None
        return seen[after]

    first = first_after(r.after)
    if first is None:
        return [], True
    # The longest prefix every remaining key shares: keys all start with first[:d] when none follows
    # first[:d] + PAST, which holds for every d up to the answer (a binary search).
    low, high = len(base), len(first)
    while low < high:
        mid = (low + high + 1) // 2
        if first_after(first[:mid] + PAST) is None:
            low = mid
        else:
            high = mid - 1
    if low >= len(first):
        return [], True  # every remaining key extends the first one: no next character to group by
    groups = [first[:low + 1]]
    while len(groups) < limit:
        following = first_after(groups[-1] + PAST)
        if following is None or len(following) <= low:
            return groups, True
        groups.append(following[:low + 1])
    return groups, False


def _split(plan: ShardPlan, r: KeyRange, groups: list[str], complete: bool) -> list[KeyRange]:
    """Hand what `r` has yet to list to one range per group, inserted after it in key order: a group's
    range ends at the group + PAST (nothing sorts between `…A` and `…A` + PAST but keys starting with `…A`),
    the first starts where `r` stopped. When the groups are not all of them, one more range, under `r`'s
    prefix, takes what follows the last group. `r` ends where it stopped."""
    if not groups:
        return []
    next_id = max(x.id for x in plan.ranges) + 1
    bounds: list[str | None] = [r.after, *(g + PAST for g in groups)]
    children = [KeyRange(r.scope, id=next_id + i, start=bounds[i], end=bounds[i + 1], prefix=g)
                for i, g in enumerate(groups)]
    if not complete:
        children.append(KeyRange(r.scope, id=next_id + len(groups), start=bounds[-1], end=r.end, prefix=r.prefix))
    r.end, r.done = r.after, True
    at = next(i for i, x in enumerate(plan.ranges) if x is r) + 1
    plan.ranges[at:at] = children
    return children


def _cut(plan: ShardPlan, per_shard: int) -> None:
    """Shards from the batches, in listing order: each shard takes batches while they fit in `per_shard`
    keys (batches hold at most `per_shard` keys, so every shard has at least one)."""
    starts: list[int] = []
    size = 0
    for index, (_, _, keys) in enumerate(plan.batch_list()):
        if not starts or size + keys > per_shard:
            starts.append(index)
            size = 0
        size += keys
    if len(starts) > MAX_SHARDS:  # coarser shards rather than a state too large to pass
        step = -(-len(starts) // MAX_SHARDS)
        starts = starts[::step]
    plan.starts = starts
    plan.keys = sum(r.count for r in plan.ranges)
    plan.done = True
