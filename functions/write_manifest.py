"""WriteManifest Lambda."""

from typing import Any

from functions._runtime import handler as operation
from functions._runtime import s3
from s3db_backup.export.manifest_writer import write_manifest


@operation("manifest")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return write_manifest(s3(), backup_id=event["backupId"], store=event["store"])
