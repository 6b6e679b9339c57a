"""PlanRestore: read and check the manifest, resolve the target, list the files to restore.

Nothing is written to the target here; the Verify map then proves every part before Import writes.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from s3db_backup.archive.crypto import open_cipher
from s3db_backup.archive.lines import LINE_FORMAT
from s3db_backup.catalog import BackupPaths, check_store, iso, read_manifest, utcnow, write_json
from s3db_backup.config import Settings
from s3db_backup.errors import ConfigError, TargetError
from s3db_backup.locations import S3Location

RESTORES = "_restores"


def restore_dir(store: S3Location, restore_id: str) -> str:
    return store.key(f"{RESTORES}/{restore_id}") + "/"


def plan_restore(
    s3: Any,
    *,
    backup_id: str,
    store: str,
    target: str | None = None,
    overwrite: bool = False,
    resources: list[str] | None = None,
    options: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    settings = Settings.from_options(options, "restore")
    dst = S3Location.parse(store, operation="restore")
    check_store(s3, dst, "restore")
    if not backup_id or "/" in backup_id:
        raise ConfigError(f"invalid backup id {backup_id!r}", operation="restore")
    paths = BackupPaths(dst, backup_id)
    manifest = read_manifest(s3, paths)
    if manifest.lineFormat not in (None, LINE_FORMAT):
        raise ConfigError(
            f"backup {backup_id} has lines in format {manifest.lineFormat!r}",
            description=f"This version of s3db-backup reads {LINE_FORMAT!r} (and the stored form of older backups); "
                        "restore it with the version that wrote it.",
            operation="restore", backupId=backup_id,
        )
    # A wrong key or passphrase fails here, before a part is read or anything is written.
    open_cipher(manifest.encryption, backup_id, passphrase_secret=settings.passphraseSecret, operation="restore")
    tgt = S3Location.parse(target or manifest.source, operation="restore")
    if tgt.bucket == dst.bucket and (tgt.key_prefix.startswith(dst.key_prefix)
                                     or dst.key_prefix.startswith(tgt.key_prefix)):
        raise ConfigError("the restore target overlaps the backup store", operation="restore")
    try:
        s3.head_bucket(Bucket=tgt.bucket)
    except ClientError as exc:
        raise TargetError(
            f"restore target {tgt} is not reachable",
            description="The target bucket does not exist or these credentials cannot use it.",
            operation="restore", bucket=tgt.bucket,
        ) from exc
    available = sorted(manifest.resources)
    if resources:
        unknown = sorted(set(resources) - set(available))
        if unknown:
            raise ConfigError(
                f"backup {backup_id} has no resource {', '.join(unknown)}",
                description=f"Resources in this backup: {', '.join(available) or '(none)'}.",
                operation="restore",
            )
        chosen = sorted(set(resources))
    else:
        chosen = available
    files = [f.key for f in manifest.files
             if (f.resource in chosen) or (f.kind == "unscoped" and not resources)]
    now = now or utcnow()
    restore_id = f"restore-{now.strftime('%Y-%m-%dT%H-%M-%S')}-{secrets.token_hex(3)}"
    plan = {"restoreId": restore_id, "backupId": backup_id, "store": str(dst), "target": str(tgt),
            "overwrite": bool(overwrite), "resources": chosen, "files": files, "createdAt": iso(now)}
    write_json(s3, dst.bucket, restore_dir(dst, restore_id) + "plan.json", plan)
    return {
        "restoreId": restore_id,
        "backupId": backup_id,
        "store": str(dst),
        "target": str(tgt),
        "overwrite": bool(overwrite),
        "units": [{"file": k} for k in files],
        "settings": settings.to_dict(),
    }
