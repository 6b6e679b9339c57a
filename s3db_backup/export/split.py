"""SplitUnit: list a unit once and cut it into shards of at most `shardRecords` keys.

Each shard is exported by its own chunk loop into its own file, in parallel with the others. The listing is
kept as key batches in the backup's work folder (export/key_batches.py): a shard is a run of consecutive
batches, so the shards partition the listed keys exactly, in S3's listing order, and no shard lists again.

Listing one folder of 100 million keys page after page would take hours (one LIST per 1,000 keys), so the
listing itself is parallel: a few LISTs of one key each find where the keys of a folder stop sharing a
prefix and where each group of the next character starts (`id=A…`, `id=B…`, …; random s3db.js ids give 64
groups), then the groups are listed at once by a thread pool, each with its own group as the LIST prefix.

All progress lives in one side object in the backup's work folder, rewritten whole at the end of each
invocation after the batches it names, so a retried or replayed invocation resumes from a consistent state
(it rewrites the same batch names); the workflow state carries only the shard count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
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
#: Most groups one folder is listed in at once (s3db.js ids draw from 64 characters); one more range
#: catches the keys after the last group.
MAX_GROUPS = 64
#: Sorts after every key that starts with a given prefix (U+10FFFF is the largest code point).
PAST = "\U0010ffff"
#: Probes spent looking for the end of the prefix every key of a folder shares, before listing it whole.
MAX_PREFIX_PROBES = 48


@dataclass
class KeyRange:
    """Keys of scope `scope` in (start, end]; None: the scope's beginning / end. `prefix` is the LIST prefix
    (the group's, relative; None: the scope's), `after` the listing's progress, `batches` the key count of
    each batch written so far."""

    scope: int
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

    def batch_list(self) -> list[tuple[int, int, int]]:
        """(range index, batch number, keys) of every batch, in listing order."""
        return [(i, n, keys) for i, r in enumerate(self.ranges) for n, keys in enumerate(r.batches)]

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


def key_batch_key(paths: BackupPaths, unit: Unit, settings: Settings, range_index: int, number: int) -> str:
    return paths.work(f"keys/{unit_base(unit, settings)}/{batch_name(range_index, number)}")


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

    def save(range_index: int, number: int, keys: list[str]) -> None:
        write_batch(s3, paths.store.bucket, key_batch_key(paths, unit, settings, range_index, number), keys)

    per_batch = min(BATCH_KEYS, settings.shardRecords)
    stored = read_json(s3, paths.store.bucket, side_key) if cursor_data is not None else None
    plan = ShardPlan.from_dict(stored) if stored else _discover(s3, source, unit, per_batch, save)
    if not plan.done:
        _list_ranges(s3, source, plan, settings.concurrency, per_batch, save, deadline=deadline, clock=clock)
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
"""Writes batch `number` of range `range_index`."""


def _discover(s3: Any, source: S3Location, unit: Unit, per_batch: int, save: Save) -> ShardPlan:
    """The unit's scopes and the key ranges each is listed in, with the first page of each folder kept."""
    root = root_of(unit)
    subdirs = list_subdirs(s3, source, root) if root is not None else []
    scopes = [s.to_list() for s in scopes_for(unit, subdirs)]
    plan = ShardPlan(scopes=scopes)
    for index, data in enumerate(scopes):
        scope = Scope.from_list(data)
        if scope.shallow:
            plan.ranges.append(KeyRange(index))
            continue
        # A folder that fits in one page (most folders) needs no probes: it is listed already.
        page = list_page(s3, source, scope, None, None)
        groups = _groups(s3, source, scope.prefix) if page.truncated else []
        starts: list[str | None] = [None, *(g + PAST for g in groups)]
        ends: list[str | None] = [*starts[1:], None]
        first = len(plan.ranges)
        plan.ranges += [KeyRange(index, start=b, end=e, prefix=p)
                        for b, e, p in zip(starts, ends, [*groups, None], strict=True)]
        # The page starts the first range: keep what it holds of it rather than list it again. A page that
        # runs past the range's end holds all of it.
        r = plan.ranges[first]
        held = [k for k in page.keys if r.end is None or k <= r.end]
        r.done = not page.truncated or len(held) < len(page.keys)
        r.after = page.resume_after if not r.done else None
        _keep(r, first, held, per_batch, save)
    return plan


def _keep(r: KeyRange, range_index: int, keys: list[str], per_batch: int, save: Save) -> None:
    """Add listed keys to the range as full batches (the last one may be short)."""
    for start in range(0, len(keys), per_batch):
        batch = keys[start:start + per_batch]
        save(range_index, len(r.batches), batch)
        r.batches.append(len(batch))
        r.count += len(batch)


def _groups(s3: Any, source: S3Location, prefix: str) -> list[str]:
    """The groups a folder is listed in, in key order, each the LIST prefix of its range: past the common
    prefix of its keys, one group per next character (`…id=A`, `…id=B`, …), each split the same way again
    while there are fewer than MAX_GROUPS, so sequential ids (`user-000001`…) spread over as many ranges as
    random ones. A range ends at its group + PAST: nothing sorts between `…A` and `…A` + PAST but keys
    starting with `…A`. The range after the last group catches what follows it."""
    groups = _children(s3, source, prefix)
    grew = True
    while grew and len(groups) < MAX_GROUPS:
        grew = False
        expanded: list[str] = []
        for i, group in enumerate(groups):
            children = _children(s3, source, group) if len(expanded) + len(groups) - i < MAX_GROUPS else []
            grew = grew or bool(children)
            expanded += children or [group]
        groups = expanded
    return groups


def _children(s3: Any, source: S3Location, prefix: str) -> list[str]:
    """The next-character groups of the keys under `prefix`, past their common prefix ([]: one key, or no
    place where they differ within MAX_PREFIX_PROBES characters). Every probe is a LIST of one key."""

    def first_after(after: str | None) -> str | None:
        params: dict[str, Any] = {"Bucket": source.bucket, "Prefix": source.key(prefix) if prefix
                                  else source.key_prefix, "MaxKeys": 1}
        if after is not None:
            params["StartAfter"] = source.key(after)
        contents = s3.list_objects_v2(**params).get("Contents", [])
        return source.relative(contents[0]["Key"]) if contents else None

    first = first_after(None)
    if first is None:
        return []
    depth = len(prefix)
    for _ in range(MAX_PREFIX_PROBES):  # find the first position where the keys differ
        if depth >= len(first):
            return []
        if first_after(first[: depth + 1] + PAST) is not None:
            break
        depth += 1
    else:
        return []
    groups = [first[: depth + 1]]
    while len(groups) < MAX_GROUPS:
        following = first_after(groups[-1] + PAST)
        if following is None or len(following) <= depth:
            break
        groups.append(following[: depth + 1])
    return groups


def _list_ranges(
    s3: Any, source: S3Location, plan: ShardPlan, concurrency: int, per_batch: int, save: Save, *,
    deadline: float, clock: Callable[[], float],
) -> None:
    """List every unfinished range, many at once, each for at least one page, until the deadline. Keys are
    saved as batches as they fill, and what is left when a range stops is saved as a short batch, so every
    listed key is in a batch before the plan that counts it is written."""

    def walk(index: int) -> None:
        r = plan.ranges[index]
        scope = Scope.from_list(plan.scopes[r.scope])
        if r.prefix is not None:
            scope = Scope(r.prefix)
        pending: list[str] = []
        first = True
        while not r.done and (first or clock() < deadline):
            first = False
            page = list_page(s3, source, scope, r.after if r.after is not None else r.start, None)
            keys = page.keys
            if r.end is not None and keys and keys[-1] > r.end:
                keys = [k for k in keys if k <= r.end]
                r.done = True
            pending += keys
            r.after = page.resume_after
            if not page.truncated:
                r.done = True
            full = len(pending) - len(pending) % per_batch
            _keep(r, index, pending[:full], per_batch, save)
            pending = pending[full:]
        _keep(r, index, pending, per_batch, save)

    pending = [i for i, r in enumerate(plan.ranges) if not r.done]
    if len(pending) == 1:
        walk(pending[0])
        return
    with ThreadPoolExecutor(max_workers=min(len(pending), concurrency) or 1) as pool:
        list(pool.map(walk, pending))


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
