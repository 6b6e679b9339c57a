"""PlanBackup: check the source and the store, name the backup, list its units, mark it in progress."""

from __future__ import annotations

import fnmatch
import secrets
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from s3db_backup.archive.crypto import create_encryption
from s3db_backup.catalog import BackupPaths, check_store, is_missing, iso, utcnow, write_json
from s3db_backup.config import Settings
from s3db_backup.errors import ConfigError, SourceError
from s3db_backup.export.reader import list_subdirs
from s3db_backup.export.units import Unit
from s3db_backup.format import layout
from s3db_backup.format.schema import DatabaseSchema
from s3db_backup.locations import S3Location

BACKUP_TYPES = ("full", "selective")
SOURCE_SCHEMA = "source-s3db.json"
PLAN = "plan.json"


def new_backup_id(backup_type: str, now: datetime) -> str:
    return f"{backup_type}-{now.strftime('%Y-%m-%dT%H-%M-%S')}-{secrets.token_hex(3)}"


def read_source_schema(s3: Any, source: S3Location, operation: str = "plan") -> DatabaseSchema:
    key = source.key(layout.SCHEMA_KEY)
    try:
        raw = s3.get_object(Bucket=source.bucket, Key=key)["Body"].read()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if is_missing(exc):
            raise SourceError(
                f"no s3db.json at {source}",
                description="The source prefix does not hold an s3db.js database (its s3db.json is missing).",
                operation=operation,
                key=key,
            ) from exc
        raise SourceError(
            f"cannot read the source database at {source} ({code})",
            description="The source bucket does not exist or these credentials cannot read it.",
            operation=operation,
            bucket=source.bucket,
        ) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"s3db.json at {source} is not UTF-8", operation=operation, key=key) from exc
    return DatabaseSchema.parse(text, where=f"s3://{source.bucket}/{key}")


def select_resources(
    available: list[str], include: list[str] | None, exclude: list[str] | None
) -> list[str]:
    """The seed's include/exclude with shell-style patterns; naming an unknown resource is an error."""
    chosen = list(available)
    if include:
        unknown = [p for p in include if not any(fnmatch.fnmatchcase(r, p) for r in available)]
        if unknown:
            raise ConfigError(
                f"no resource matches {', '.join(unknown)}",
                description=f"Resources in the source: {', '.join(available) or '(none)'}.",
                operation="plan",
            )
        chosen = [r for r in available if any(fnmatch.fnmatchcase(r, p) for p in include)]
    if exclude:
        chosen = [r for r in chosen if not any(fnmatch.fnmatchcase(r, p) for p in exclude)]
    return chosen


def plan_backup(
    s3: Any,
    *,
    source: str,
    store: str,
    backup_type: str = "full",
    options: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    if backup_type not in BACKUP_TYPES:
        raise ConfigError(
            f"unsupported backup type {backup_type!r}",
            description=f"Supported now: {', '.join(BACKUP_TYPES)}.",
            operation="plan",
        )
    options = dict(options or {})
    settings = Settings.from_options(options, "plan")
    src = S3Location.parse(source, operation="plan")
    dst = S3Location.parse(store, operation="plan")
    if src.bucket == dst.bucket and (dst.key_prefix.startswith(src.key_prefix) or
                                     src.key_prefix.startswith(dst.key_prefix)):
        raise ConfigError(
            "the store overlaps the source",
            description="A store inside the database (or the database inside the store) would back itself up.",
            operation="plan",
        )
    check_store(s3, dst, "plan")
    schema = read_source_schema(s3, src)
    found = sorted({r for d in list_subdirs(s3, src, "") if (r := layout.resource_of_dir(d))})
    available = sorted(set(schema.resources) | set(found))
    include, exclude = options.get("resources"), options.get("exclude")
    chosen = select_resources(available, include, exclude)
    if include or exclude:
        backup_type = "selective"
    units = [Unit(kind, r) for r in chosen for kind in ("records", "objects")]
    if backup_type == "full":
        units.append(Unit("unscoped"))
    now = now or utcnow()
    backup_id = new_backup_id(backup_type, now)
    paths = BackupPaths(dst, backup_id)
    # What the data key is re-created from (wrapped key, or KDF salt and parameters), never the key itself;
    # made before anything is written, so a missing passphrase or KMS key leaves nothing behind.
    encryption = create_encryption(backup_id, provider=settings.encryption, kms_key_id=settings.kmsKeyId,
                                   passphrase_secret=settings.passphraseSecret)
    s3.put_object(Bucket=dst.bucket, Key=paths.work(SOURCE_SCHEMA), Body=schema.raw.encode("utf-8"),
                  ContentType="application/json")
    plan = {
        "backupId": backup_id,
        "backupType": backup_type,
        "createdAt": iso(now),
        "source": str(src),
        "store": str(dst),
        "resources": chosen,
        "unknownResources": sorted(set(found) - set(schema.resources)),
        "units": [u.to_dict() for u in units],
        "settings": settings.to_dict(),
        "encryption": encryption,
    }
    write_json(s3, dst.bucket, paths.work(PLAN), plan)
    write_json(s3, dst.bucket, paths.status, {
        "status": "in-progress", "backupId": backup_id, "backupType": backup_type,
        "createdAt": plan["createdAt"], "source": str(src),
    })
    return {
        "backupId": backup_id,
        "source": str(src),
        "store": str(dst),
        "type": backup_type,
        "units": plan["units"],
        "settings": plan["settings"],
        "retention": {"count": settings.retentionCount},
    }
