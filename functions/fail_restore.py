"""FailRestore Lambda: the Catch target of the restore workflow."""

from typing import Any

from functions._runtime import handler as operation
from functions._runtime import s3
from s3db_backup.restore.finalize import fail_restore


@operation("restore")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return fail_restore(s3(), restore_id=event["restoreId"], store=event["store"], error=event.get("error"))
