"""What every handler shares: the S3 client, the chunk deadline, logging, and errors as BackupError.

The local runner hands in an S3 client built before moto's emulation starts, so S3 calls are signed with
the user's own credentials (see shared notes); on Lambda the client is built from the environment.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from s3db_backup.errors import BackupError
from s3db_backup.s3client import make_s3_client

logger = Logger(service="s3db-backup")
_s3: Any = None

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def use_s3_client(client: Any) -> None:
    global _s3
    _s3 = client


def s3() -> Any:
    global _s3
    if _s3 is None:
        _s3 = make_s3_client()
    return _s3


def deadline(context: Any, margin_seconds: float) -> float:
    """A time.monotonic() value at which a chunk stops starting new work."""
    remaining = context.get_remaining_time_in_millis() / 1000.0 if context is not None else 900.0
    return time.monotonic() + max(remaining - margin_seconds, 0.0)


def handler(operation: str) -> Callable[[Handler], Handler]:
    """Log the invocation and turn any failure into a BackupError that names the operation."""

    def wrap(fn: Handler) -> Handler:
        @functools.wraps(fn)
        def run(event: dict[str, Any], context: Any) -> dict[str, Any]:
            logger.append_keys(operation=operation)
            try:
                return fn(event, context)
            except BackupError as exc:
                logger.warning("backup error", extra={"error": exc.to_dict()})
                raise
            except Exception as exc:
                logger.exception("unexpected failure")
                raise BackupError(
                    f"{operation} failed: {type(exc).__name__}: {exc}",
                    description="An unexpected error; the workflow marks the job failed and cleans up.",
                    operation=operation,
                ) from exc

        return run

    return wrap
