"""ExportChunk Lambda: one step of a unit's export loop."""

from typing import Any

from functions._runtime import deadline, getter, s3
from functions._runtime import handler as operation
from s3db_backup.export.chunk import export_chunk


@operation("export")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    job = event["job"]
    if event.get("shard") is not None:  # the first chunk of a shard: the shard Map puts it beside the job
        job = {**job, "shard": event["shard"]}
    margin = job.get("settings", {}).get("marginSeconds", 60)
    return export_chunk(s3(), job, event.get("cursor"), deadline=deadline(context, margin),
                        getter=getter(job["source"]))
