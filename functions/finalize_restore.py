"""FinalizeRestore Lambda."""

from typing import Any

from functions._runtime import handler as operation
from functions._runtime import s3
from s3db_backup.restore.finalize import finalize_restore


@operation("restore")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return finalize_restore(s3(), restore_id=event["restoreId"], store=event["store"])
