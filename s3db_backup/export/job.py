"""An export job: what the workflow state says about one unit (or one shard of it) of a backup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from s3db_backup.archive.frames import CODECS
from s3db_backup.catalog import BackupPaths
from s3db_backup.config import Settings
from s3db_backup.export.units import Unit
from s3db_backup.locations import S3Location


@dataclass(frozen=True)
class ExportJob:
    backup_id: str
    source: S3Location
    store: S3Location
    unit: Unit
    settings: Settings
    shard: int | None = None  # index of this shard in its unit; None: the unit was not split
    shards: int = 1

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExportJob:
        shard = data.get("shard") or {}
        return cls(
            backup_id=data["backupId"],
            source=S3Location.parse(data["source"]),
            store=S3Location.parse(data["store"]),
            unit=Unit.from_dict(data["unit"]),
            settings=Settings.from_dict(data.get("settings")),
            shard=shard.get("index"),
            shards=int(shard.get("count", 1)),
        )

    @property
    def paths(self) -> BackupPaths:
        return BackupPaths(self.store, self.backup_id)

    @property
    def file_key(self) -> str:
        """A unit exported as one shard keeps the plain name (`users.jsonl.gz`)."""
        return self.unit.file_key(CODECS[self.settings.compression], self.settings.encryption != "none",
                                  shard=self.shard if self.shards > 1 else None)

    @property
    def work_name(self) -> str:
        return self.file_key
