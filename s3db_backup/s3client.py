"""The boto3 S3 client the engine uses: endpoint from configuration, adaptive retries, a pool sized for
the concurrency we run at. Throttling (503 SlowDown) and transient network errors are retried by botocore."""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

import boto3
from botocore.config import Config
from botocore.parsers import ResponseParserFactory

DEFAULT_MAX_POOL = 64


def make_s3_client(
    *,
    endpoint_url: str | None = None,
    session: boto3.session.Session | None = None,
    max_pool_connections: int = DEFAULT_MAX_POOL,
) -> Any:
    """An S3 client; `endpoint_url` falls back to AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (boto3's own rule)."""
    session = session or boto3.session.Session()
    config = Config(
        retries={"mode": "adaptive", "max_attempts": 10},
        max_pool_connections=max_pool_connections,
        connect_timeout=10,
        read_timeout=60,
        s3={"addressing_style": "path"} if _is_local(endpoint_url) else {},
    )
    region = session.region_name or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    client = _with_raw_timestamps(session, lambda: session.client("s3", endpoint_url=endpoint_url, config=config,
                                                                  region_name=region))
    count_retries(client)
    return client


def _with_raw_timestamps(session: boto3.session.Session, make: Any) -> Any:
    """Build the client with a response parser that leaves timestamps as text: parsing each listed key's
    LastModified with dateutil was 60% of botocore's CPU per listed key (55 -> 21 us), and nothing here reads
    it. Only this client gets the parser: the session's own factory is put back at once."""
    botocore_session = session._session
    previous = botocore_session.get_component("response_parser_factory")
    factory = ResponseParserFactory()
    factory.set_parser_defaults(timestamp_parser=str)
    botocore_session.register_component("response_parser_factory", factory)
    try:
        return make()
    finally:
        botocore_session.register_component("response_parser_factory", previous)


class _RetryCounter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.total = 0

    def __call__(self, parsed: Any = None, **_: Any) -> None:
        attempts = int(((parsed or {}).get("ResponseMetadata") or {}).get("RetryAttempts") or 0)
        if attempts:
            with self.lock:
                self.total += attempts


_counters: weakref.WeakKeyDictionary[Any, _RetryCounter] = weakref.WeakKeyDictionary()


def count_retries(client: Any) -> None:
    """Count the retries botocore makes for this client (throttling, 5xx, connection errors)."""
    if client not in _counters:
        counter = _RetryCounter()
        client.meta.events.register("after-call.s3", counter)
        _counters[client] = counter


def retries_so_far(client: Any) -> int:
    """Retries observed on `client` since it was made (0 for a client made elsewhere)."""
    counter = _counters.get(client)
    return counter.total if counter else 0


def configured_endpoint(endpoint_url: str | None = None) -> str | None:
    """The S3 endpoint the user configured, or None for AWS's own endpoints."""
    return endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def custom_endpoint_of(client: Any) -> str | None:
    """The client's endpoint when it is not one of AWS's own (a local server, a gateway), else None."""
    url = str(client.meta.endpoint_url or "")
    host = url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return None if host.endswith(".amazonaws.com") or host.endswith(".amazonaws.com.cn") else url


def _is_local(endpoint_url: str | None) -> bool:
    url = configured_endpoint(endpoint_url) or ""
    return "127.0.0.1" in url or "localhost" in url
