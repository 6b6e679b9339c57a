"""What every handler shares: the S3 client, the source GET path, the chunk deadline, logging, and errors
as BackupError.

The local runner hands in a client (and its session) built before moto's emulation starts, so S3 calls are
signed with the user's own credentials (see shared notes); on Lambda they are built from the environment.
S3DB_BACKUP_GET_CLIENT chooses how source objects are fetched: `auto` (obstore when installed, else boto3),
`obstore` or `boto3`.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from s3db_backup import aws
from s3db_backup.errors import BackupError, ConfigError
from s3db_backup.export import obstore_getter
from s3db_backup.export.reader import Getter
from s3db_backup.locations import S3Location
from s3db_backup.s3client import configured_endpoint, make_s3_client

logger = Logger(service="s3db-backup", stream=sys.stderr)
_lock = threading.Lock()
_s3: Any = None
_session: Any = None
_endpoint: str | None = None
_getters: dict[str, Getter] = {}

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def use_s3_client(client: Any, *, session: Any = None, endpoint_url: str | None = None) -> None:
    """Use this client for every S3 call; None resets to defaults. With the `session` it was made from,
    source GETs may go through obstore with the same credentials; without it they use the client."""
    global _s3, _session, _endpoint
    with _lock:
        _s3, _session, _endpoint = client, session, endpoint_url
        _getters.clear()
    aws.use_session(session)


def s3() -> Any:
    global _s3, _session, _endpoint
    with _lock:
        if _s3 is None:
            _session = aws.session()
            _endpoint = configured_endpoint()
            _s3 = make_s3_client(session=_session)
        return _s3


def getter(source_url: str) -> Getter | None:
    """The GET path for a source; None means boto3 through `s3()`."""
    mode = os.environ.get("S3DB_BACKUP_GET_CLIENT", "auto")
    if mode not in ("auto", "obstore", "boto3"):
        raise ConfigError(f"S3DB_BACKUP_GET_CLIENT={mode!r}", description="Use auto, obstore or boto3.",
                          operation="export")
    if mode == "obstore" and not obstore_getter.available():
        raise ConfigError("S3DB_BACKUP_GET_CLIENT=obstore but obstore is not installed", operation="export")
    client = s3()
    if mode == "boto3" or _session is None or (mode == "auto" and not obstore_getter.available()):
        return None
    source = S3Location.parse(source_url)
    with _lock:
        if source_url not in _getters:
            _getters[source_url] = obstore_getter.obstore_getter(
                source, session=_session, region=client.meta.region_name,
                endpoint_url=_endpoint,
            )
        return _getters[source_url]


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
