"""Backup and restore jobs run locally through the packaged state machines: the same workflow AWS runs,
with the handlers in this process and S3 at the endpoint the user configured."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from s3db_backup.errors import BackupError
from s3db_backup.local.stepfunctions import Observer


@dataclass
class JobResult:
    kind: str
    status: str
    output: dict[str, Any]
    seconds: float
    invocations: int
    extra: dict[str, Any] = field(default_factory=dict)


def _error_from(execution: Any, operation: str) -> BackupError:
    """The BackupError behind a failed execution (Step Functions carries it in `cause`)."""
    cause = execution.cause or ""
    try:
        payload = json.loads(cause)
        message = payload.get("errorMessage", cause) if isinstance(payload, dict) else cause
    except ValueError:
        message = cause
    err = BackupError.from_json(str(message))
    if err is not None:
        return err
    return BackupError(
        f"the {operation} workflow ended {execution.status}: {execution.error or 'unknown error'}",
        description=str(message)[:2000],
        operation=operation,
    )


def _run(name: str, operation: str, s3: Any, execution_input: dict[str, Any], progress: Observer | None,
         retry_interval_seconds: int | None, session: Any = None) -> JobResult:
    from functions._runtime import use_s3_client
    from s3db_backup.local.stepfunctions import local_step_functions
    from s3db_backup.s3client import custom_endpoint_of

    use_s3_client(s3, session=session, endpoint_url=custom_endpoint_of(s3))
    invocations = 0

    def observe(function: str, event: dict[str, Any], result: Any, error: BaseException | None) -> None:
        nonlocal invocations
        invocations += 1
        if progress is not None:
            progress(function, event, result, error)

    started = time.monotonic()
    with local_step_functions(observer=observe, retry_interval_seconds=retry_interval_seconds) as sfn:
        execution = sfn.run(name, execution_input)
    seconds = time.monotonic() - started
    if execution.status != "SUCCEEDED":
        raise _error_from(execution, operation)
    return JobResult(name, "completed", dict(execution.output or {}), seconds, invocations)


def run_backup(s3: Any, *, source: str, store: str, backup_type: str = "full",
               options: dict[str, Any] | None = None, progress: Observer | None = None,
               retry_interval_seconds: int | None = None, session: Any = None) -> JobResult:
    """`session`: the boto3 session `s3` was made from; source GETs then go through obstore with the same
    credentials and endpoint (without it, through `s3`)."""
    execution_input = {"source": source, "store": store, "type": backup_type, "options": options or {}}
    return _run("backup", "backup", s3, execution_input, progress, retry_interval_seconds, session)


def run_restore(s3: Any, *, backup_id: str, store: str, target: str | None = None, overwrite: bool = False,
                resources: list[str] | None = None, options: dict[str, Any] | None = None,
                progress: Observer | None = None, retry_interval_seconds: int | None = None) -> JobResult:
    execution_input = {"backupId": backup_id, "store": store, "target": target, "overwrite": overwrite,
                       "resources": resources, "options": options or {}}
    return _run("restore", "restore", s3, execution_input, progress, retry_interval_seconds)
