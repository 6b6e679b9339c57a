"""Retention: which backups to delete. The policy is a pure function; `prune` applies it to a store.

For now: keep the last N complete backups (the seed's `count`). Failed backups older than the newest
complete one are removed with them; in-progress ones are never touched (one may be running).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from s3db_backup.catalog import BackupEntry, BackupPaths, delete_backup, list_backups
from s3db_backup.errors import ConfigError
from s3db_backup.locations import S3Location


@dataclass(frozen=True)
class RetentionPolicy:
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ConfigError("retention count must be at least 1", operation="cleanup")

    def doomed(self, entries: list[BackupEntry], *, current: str | None = None) -> list[BackupEntry]:
        """Entries to delete, given all entries of a store (any order)."""
        complete = sorted((e for e in entries if e.status == "completed"),
                          key=lambda e: (e.createdAt or "", e.backupId), reverse=True)
        keep = {e.backupId for e in complete[: self.count]}
        if current:
            keep.add(current)
        newest = complete[0].createdAt if complete else None
        doomed = [e for e in complete if e.backupId not in keep]
        doomed += [e for e in entries if e.status == "failed" and e.backupId not in keep
                   and newest is not None and (e.createdAt or "") < newest]
        return sorted(doomed, key=lambda e: e.backupId)


def prune(s3: Any, *, store: str, count: int, current: str | None = None) -> dict[str, Any]:
    dst = S3Location.parse(store, operation="cleanup")
    policy = RetentionPolicy(count)
    doomed = policy.doomed(list_backups(s3, dst), current=current)
    for entry in doomed:
        delete_backup(s3, BackupPaths(dst, entry.backupId))
    return {"deleted": [e.backupId for e in doomed], "kept": count}
