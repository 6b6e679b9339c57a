"""PruneRetention Lambda: keep the last N complete backups."""

from typing import Any

from functions._runtime import handler as operation
from functions._runtime import s3
from s3db_backup.retention import prune


@operation("cleanup")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    count = int((event.get("retention") or {}).get("count", 7))
    return prune(s3(), store=event["store"], count=count, current=event.get("backupId"))
