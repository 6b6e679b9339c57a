"""PlanRestore Lambda."""

from typing import Any

from functions._runtime import handler as operation
from functions._runtime import s3
from s3db_backup.restore.plan import plan_restore


@operation("restore")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return plan_restore(
        s3(),
        backup_id=event["backupId"],
        store=event["store"],
        target=event.get("target"),
        overwrite=bool(event.get("overwrite", False)),
        resources=event.get("resources"),
        options=event.get("options"),
    )
