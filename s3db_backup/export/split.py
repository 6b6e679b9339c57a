"""SplitUnit: cut a unit's key space into shards of at most `shardRecords` keys, from its listing.

Each shard is exported by its own chunk loop into its own file, in parallel with the others. A shard is
the half-open range (previous boundary, boundary] of (scope index, relative key) pairs, in S3's listing
order; the first shard starts at the beginning and the last runs to the end, so the shards partition the
whole key space: a key written while the backup runs lands in exactly one shard, whatever its value.

Listing costs one LIST per 1,000 keys (about $0.005 per million keys on AWS) and resumes from a cursor
like an export chunk, so a resource of any size is split across as many invocations as it needs.
Boundaries go to a side object in the backup's work folder, never into the workflow state: the state
carries only the shard count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
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


@dataclass
class SplitCursor:
    scopes: list[list[Any]]
    scope: int = 0
    after: str | None = None
    keys: int = 0  # keys listed so far
    since: int = 0  # keys listed since the last boundary
    boundaries: int = 0  # boundaries written to the side object so far
    last: Position | None = None  # the last key listed
    seq: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SplitCursor:
        return cls(**data)


@dataclass
class ShardPlan:
    """What SplitUnit leaves for the shards of one unit (`.work/shards/<unit file>.json`)."""

    scopes: list[list[Any]]
    boundaries: list[Position] = field(default_factory=list)
    keys: int = 0

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
        return cls(scopes=data["scopes"], boundaries=data.get("boundaries", []), keys=data.get("keys", 0))


def shard_plan_key(paths: BackupPaths, unit: Unit, settings: Settings) -> str:
    """Named after the unit's unsharded file, which is unique per unit."""
    base = unit.file_key(CODECS[settings.compression], settings.encryption != "none")
    return paths.work(f"shards/{base}.json")


def read_shard_plan(s3: Any, paths: BackupPaths, unit: Unit, settings: Settings, operation: str) -> ShardPlan:
    data = read_json(s3, paths.store.bucket, shard_plan_key(paths, unit, settings))
    if data is None:
        raise StoreError(
            f"unit {unit.kind}:{unit.resource} of backup {paths.backup_id} was never split",
            description="SplitUnit must finish before the unit's shards are exported.",
            operation=operation, backupId=paths.backup_id,
        )
    return ShardPlan.from_dict(data)


def split_unit(
    s3: Any,
    job_data: dict[str, Any],
    cursor_data: dict[str, Any] | None,
    *,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """List the unit from its cursor until the deadline; when the listing is done, answer the shards."""
    unit = Unit.from_dict(job_data["unit"])
    settings = Settings.from_dict(job_data.get("settings"))
    source = S3Location.parse(job_data["source"])
    paths = BackupPaths(S3Location.parse(job_data["store"]), job_data["backupId"])
    side_key = shard_plan_key(paths, unit, settings)
    if cursor_data is None:
        root = root_of(unit)
        subdirs = list_subdirs(s3, source, root) if root is not None else []
        cursor = SplitCursor(scopes=[s.to_list() for s in scopes_for(unit, subdirs)])
        plan = ShardPlan(scopes=cursor.scopes)
    else:
        cursor = SplitCursor.from_dict(cursor_data)
        stored = read_json(s3, paths.store.bucket, side_key) or {"scopes": cursor.scopes}
        plan = ShardPlan.from_dict(stored)
        # A retried invocation may have written boundaries past its cursor: the cursor is the truth.
        del plan.boundaries[cursor.boundaries:]
    cursor.seq += 1
    per_shard = settings.shardRecords
    listed = False
    while cursor.scope < len(cursor.scopes):
        scope = Scope.from_list(cursor.scopes[cursor.scope])
        token: str | None = None
        while True:
            if listed and clock() >= deadline:
                return _save(s3, paths, side_key, plan, cursor, job_data, done=False)
            page = list_page(s3, source, scope, cursor.after, token)
            listed = True
            for key in page.keys:
                if cursor.since == per_shard:
                    plan.boundaries.append(list(cursor.last or []))
                    cursor.since = 0
                cursor.keys += 1
                cursor.since += 1
                cursor.last = [cursor.scope, key]
            cursor.after = page.resume_after
            if not page.truncated:
                break
            token = page.token
        cursor.scope += 1
        cursor.after = None
    plan.keys = cursor.keys
    if plan.count > MAX_SHARDS:  # coarser shards rather than a state too large to pass
        step = -(-plan.count // MAX_SHARDS)
        plan.boundaries = plan.boundaries[step - 1 :: step]
    return _save(s3, paths, side_key, plan, cursor, job_data, done=True)


def _save(
    s3: Any, paths: BackupPaths, side_key: str, plan: ShardPlan, cursor: SplitCursor, job: dict[str, Any],
    *, done: bool,
) -> dict[str, Any]:
    write_json(s3, paths.store.bucket, side_key, plan.to_dict())
    cursor.boundaries = len(plan.boundaries)
    if not done:
        return {"job": job, "cursor": cursor.to_dict(), "done": False}
    count = plan.count
    return {
        "job": job,
        "cursor": None,
        "done": True,
        "keys": plan.keys,
        # The items of the shard Map: small, so the state stays small for hundreds of shards.
        "shards": [{"index": i, "count": count} for i in range(count)],
    }
