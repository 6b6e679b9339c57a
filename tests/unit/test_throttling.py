"""Throttling (503 SlowDown) and connection errors are retried with backoff and jitter by the client, counted
in the manifest, and lose nothing."""

from __future__ import annotations

import itertools
import json
import threading
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from s3db_backup.s3client import make_s3_client
from tests.unit.engine_driver import backup, restore, snapshot_objects, write_fake_database

SLOW_DOWN = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
             b"<Message>Please reduce your request rate.</Message></Error>")


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


@pytest.fixture
def flaky_s3(monkeypatch: pytest.MonkeyPatch) -> Any:
    """moto S3 behind our real client, where every 3rd GetObject first answers 503 SlowDown."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        client = make_s3_client(session=session)
        client.create_bucket(Bucket="srcdb")
        client.create_bucket(Bucket="backups")
        write_fake_database(client, "srcdb", "app", records=40)
        counter, lock = itertools.count(1), threading.Lock()
        injected = {"n": 0}

        def throttle(request: Any, **_: Any) -> AWSResponse | None:
            if request.method != "GET" or "srcdb" not in request.url or "list-type" in request.url:
                return None
            with lock:
                n = next(counter)
            attempt = request.headers.get("amz-sdk-request", b"")
            attempt = attempt.decode() if isinstance(attempt, bytes) else str(attempt)
            if n % 3 == 0 and attempt.startswith("attempt=1"):
                injected["n"] += 1
                return AWSResponse(request.url, 503, {"Content-Type": "application/xml"}, _Raw(SLOW_DOWN))
            return None

        client.meta.events.register_first("before-send.s3.GetObject", throttle)
        yield client, injected


def test_throttled_gets_are_retried_counted_and_nothing_is_lost(flaky_s3: Any) -> None:
    s3, injected = flaky_s3
    before = snapshot_objects(s3, "srcdb", "app")
    injected["n"] = 0
    result, _ = backup(s3, "s3://srcdb/app", "s3://backups")
    throttled = injected["n"]
    assert throttled > 10
    manifest = json.loads(s3.get_object(Bucket="backups", Key=f"{result['backupId']}/s3db.json")["Body"].read())
    assert manifest["totals"]["retries"] == throttled
    assert manifest["totals"]["records"] == 40 + 8
    restore(s3, result["backupId"], "s3://backups", target="s3://srcdb/copy")
    assert snapshot_objects(s3, "srcdb", "copy") == before
