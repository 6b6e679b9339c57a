"""VerifyChunk Lambda: prove a backup file's parts before anything is restored."""

from typing import Any

from functions._runtime import deadline, s3
from functions._runtime import handler as operation
from s3db_backup.restore.chunk import verify_chunk


@operation("verify")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    margin = event["job"].get("settings", {}).get("marginSeconds", 60)
    return verify_chunk(s3(), event["job"], event.get("cursor"), deadline=deadline(context, margin))
