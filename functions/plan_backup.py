"""PlanBackup Lambda."""

from typing import Any

from functions._runtime import handler as operation
from functions._runtime import s3
from s3db_backup.export.plan import plan_backup


@operation("plan")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return plan_backup(
        s3(),
        source=event["source"],
        store=event["store"],
        backup_type=event.get("type", "full"),
        options=event.get("options"),
    )
