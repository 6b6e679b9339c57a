"""SplitUnit: cut a unit's key space into shards of at most `shardRecords` keys, from its listing.

Each shard is exported by its own chunk loop into its own file, in parallel with the others. A shard is
the half-open range (previous boundary, boundary] of (scope index, relative key) positions, in S3's listing
order; the first shard starts at the beginning and the last runs to the end, so the shards partition the
whole key space: a key written while the backup runs lands in exactly one shard, whatever its value.

Listing one folder of 100 million keys page after page would take hours (one LIST per 1,000 keys), so the
listing itself is parallel: a few LISTs of one key each find where the keys of a folder stop sharing a
prefix and where each group of the next character starts (`id=A…`, `id=B…`, …; random s3db.js ids give 64
groups), then the groups are listed at once by a thread pool. Each group is cut every `shardRecords` keys;
adjacent pieces are then merged while they fit in one shard.

All progress lives in one side object in the backup's work folder, rewritten whole at the end of each
invocation, so a retried or replayed invocation resumes from a consistent state; the workflow state carries
only the shard count.
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
from s3db_backup.export.reader import list_page, list_subdirs
from s3db_backup.export.units import Scope, Unit, root_of, scopes_for
from s3db_backup.locations import S3Location

#: A position in a unit's key space: [scope index, relative key].
Position = list[Any]
#: Most shards per unit: keeps the shard Map's items (and so the workflow state) far below 256 KB.
MAX_SHARDS = 2000
#: Most key ranges one folder is listed in at once.
MAX_RANGES = 64
#: Sorts after every key that starts with a given prefix (U+10FFFF is the largest code point).
PAST = "\U0010ffff"
#: Probes spent looking for the end of the prefix every key of a folder shares, before listing it whole.
MAX_PREFIX_PROBES = 48


@dataclass
class KeyRange:
    """Keys of scope `scope` in (start, end]; None: the scope's beginning / end. `after` is the listing's
    progress, `cuts` the keys at every `shardRecords`-th position of the range, `last` its last key."""

    scope: int
    start: str | None = None
    end: str | None = None
    after: str | None = None
    count: int = 0
    cuts: list[str] = field(default_factory=list)
    last: str | None = None
    done: bool = False


@dataclass
class ShardPlan:
    """What SplitUnit leaves for the shards of one unit (`.work/shards/<unit file>.json`)."""

    scopes: list[list[Any]]
    boundaries: list[Position] = field(default_factory=list)
    keys: int = 0
    done: bool = False
    ranges: list[KeyRange] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.boundaries) + 1

    def bounds(self, index: int) -> tuple[Position | None, Position | None]:
        """(start exclusive, end inclusive) of shard `index`; None = the beginning / the end."""
        start = self.boundaries[index - 1] if index > 0 else None
        end = self.boundaries[index] if index < len(self.boundaries) else None
        return start, end

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShardPlan:
        return cls(scopes=data["scopes"], boundaries=data.get("boundaries", []), keys=data.get("keys", 0),
                   done=data.get("done", True), ranges=[KeyRange(**r) for r in data.get("ranges", [])])


def shard_plan_key(paths: BackupPaths, unit: Unit, settings: Settings) -> str:
    """Named after the unit's unsharded file, which is unique per unit."""
    base = unit.file_key(CODECS[settings.compression], settings.encryption != "none")
    return paths.work(f"shards/{base}.json")


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
    unit = Unit.from_dict(job_data["unit"])
    settings = Settings.from_dict(job_data.get("settings"))
    source = S3Location.parse(job_data["source"])
    paths = BackupPaths(S3Location.parse(job_data["store"]), job_data["backupId"])
    side_key = shard_plan_key(paths, unit, settings)
    seq = int((cursor_data or {}).get("seq", 0)) + 1
    stored = read_json(s3, paths.store.bucket, side_key) if cursor_data is not None else None
    plan = ShardPlan.from_dict(stored) if stored else _discover(s3, source, unit, settings.shardRecords)
    if not plan.done:
        _list_ranges(s3, source, plan, settings, deadline=deadline, clock=clock)
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


def _discover(s3: Any, source: S3Location, unit: Unit, per_shard: int) -> ShardPlan:
    """The unit's scopes and the key ranges each is listed in."""
    root = root_of(unit)
    subdirs = list_subdirs(s3, source, root) if root is not None else []
    scopes = [s.to_list() for s in scopes_for(unit, subdirs)]
    ranges: list[KeyRange] = []
    for index, data in enumerate(scopes):
        scope = Scope.from_list(data)
        if not scope.shallow:
            # A folder that fits in one LIST page needs no probes (most folders): it is listed already.
            page = list_page(s3, source, scope, None, None)
            if not page.truncated:
                ranges.append(KeyRange(index, after=page.resume_after, done=True, count=len(page.keys),
                                       cuts=page.keys[per_shard - 1 :: per_shard],
                                       last=page.keys[-1] if page.keys else None))
                continue
        starts = [] if scope.shallow else _group_starts(s3, source, scope.prefix)
        bounds = [None, *starts, None]
        ranges += [KeyRange(index, start=bounds[i], end=bounds[i + 1]) for i in range(len(bounds) - 1)]
    return ShardPlan(scopes=scopes, ranges=ranges)


def _group_starts(s3: Any, source: S3Location, prefix: str) -> list[str]:
    """Exclusive starts of the ranges a folder is listed in: past the common prefix of its keys, one range
    per next character (`…id=A` + PAST is where the `…id=B…` group starts)."""

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
    starts: list[str] = []
    group = first[: depth + 1]
    while len(starts) < MAX_RANGES - 1:
        start = group + PAST
        following = first_after(start)
        if following is None or len(following) <= depth:
            break
        starts.append(start)
        group = following[: depth + 1]
    return starts


def _list_ranges(
    s3: Any, source: S3Location, plan: ShardPlan, settings: Settings, *, deadline: float,
    clock: Callable[[], float],
) -> None:
    """List every unfinished range, many at once, each for at least one page, until the deadline."""
    every = settings.shardRecords

    def walk(r: KeyRange) -> None:
        scope = Scope.from_list(plan.scopes[r.scope])
        first = True
        while not r.done and (first or clock() < deadline):
            first = False
            page = list_page(s3, source, scope, r.after if r.after is not None else r.start, None)
            for key in page.keys:
                if r.end is not None and key > r.end:
                    r.done = True
                    return
                r.count += 1
                r.last = key
                if r.count % every == 0:
                    r.cuts.append(key)
            r.after = page.resume_after
            if not page.truncated:
                r.done = True

    pending = [r for r in plan.ranges if not r.done]
    if len(pending) == 1:
        walk(pending[0])
        return
    with ThreadPoolExecutor(max_workers=min(len(pending), settings.concurrency) or 1) as pool:
        list(pool.map(walk, pending))


def _cut(plan: ShardPlan, per_shard: int) -> None:
    """Shard boundaries from the listed ranges: each range's pieces between its cuts, in key order, merged
    with their neighbours while the sum fits in one shard."""
    pieces: list[tuple[int, Position]] = []  # (keys, inclusive end position)
    for r in plan.ranges:
        done_in_cuts = 0
        for cut in r.cuts:
            pieces.append((per_shard, [r.scope, cut]))
            done_in_cuts += per_shard
        rest = r.count - done_in_cuts
        if rest > 0 and r.last is not None:
            pieces.append((rest, [r.scope, r.last]))
    boundaries: list[Position] = []
    size, previous = 0, []
    for keys, end in pieces:
        if size and size + keys > per_shard:
            boundaries.append(previous)
            size = 0
        size += keys
        previous = end
    if len(boundaries) + 1 > MAX_SHARDS:  # coarser shards rather than a state too large to pass
        step = -(-(len(boundaries) + 1) // MAX_SHARDS)
        boundaries = boundaries[step - 1 :: step]
    plan.boundaries = boundaries
    plan.keys = sum(r.count for r in plan.ranges)
    plan.done = True
    plan.ranges = []
