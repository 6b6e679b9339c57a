"""FailBackup Lambda: the Catch target of the backup workflow."""

from typing import Any

from functions._runtime import handler as operation
from functions._runtime import s3
from s3db_backup.export.failure import fail_backup


@operation("fail")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return fail_backup(s3(), backup_id=event["backupId"], store=event["store"], error=event.get("error"))
