"""SplitUnit Lambda: one step of a unit's listing, which cuts it into shards exported in parallel."""

from typing import Any

from functions._runtime import deadline, s3
from functions._runtime import handler as operation
from s3db_backup.export.split import split_unit


@operation("split")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    job = event["job"]
    margin = job.get("settings", {}).get("marginSeconds", 60)
    return split_unit(s3(), job, event.get("cursor"), deadline=deadline(context, margin))
