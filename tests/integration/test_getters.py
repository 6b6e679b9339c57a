"""The two GET paths (obstore, boto3) return the same stored object for every kind of object, and the
runtime picks the one configured."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from s3db_backup.export.obstore_getter import obstore_getter
from s3db_backup.export.reader import boto3_getter
from s3db_backup.locations import S3Location
from s3db_backup.s3client import make_s3_client
from tests.unit.engine_driver import write_fake_database


@pytest.fixture(scope="module")
def session() -> Any:
    return boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1")


def test_obstore_and_boto3_read_every_object_identically(moto_server: Any, session: Any) -> None:
    s3 = make_s3_client(endpoint_url=moto_server.endpoint_url, session=session)
    bucket = moto_server.create_bucket(f"get-{uuid.uuid4().hex[:10]}")
    write_fake_database(s3, bucket, "app", records=20, big_bodies=1)
    s3.put_object(Bucket=bucket, Key="app/headers", Body=b"x", CacheControl="no-cache", ContentEncoding="identity",
                  ContentDisposition="inline", ContentLanguage="pt-BR", Metadata={"a-b": "1"})
    source = S3Location(bucket, "app")
    via_boto3 = boto3_getter(s3, source)
    via_obstore = obstore_getter(source, session=session, region="us-east-1", endpoint_url=moto_server.endpoint_url)
    keys = [o["Key"][4:] for o in s3.list_objects_v2(Bucket=bucket, Prefix="app/")["Contents"]]
    assert len(keys) > 40
    for key in keys:
        assert via_obstore(key) == via_boto3(key), key
    assert via_obstore("resource=users/data/id=missing") is None is via_boto3("resource=users/data/id=missing")


@pytest.mark.parametrize(("mode", "with_session", "expected"), [
    ("auto", True, "obstore"), ("boto3", True, "boto3"), ("obstore", True, "obstore"), ("auto", False, "boto3"),
])
def test_runtime_picks_the_configured_get_path(mode: str, with_session: bool, expected: str, session: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from functions import _runtime

    monkeypatch.setenv("S3DB_BACKUP_GET_CLIENT", mode)
    client = make_s3_client(endpoint_url="http://127.0.0.1:9", session=session)
    _runtime.use_s3_client(client, session=session if with_session else None, endpoint_url="http://127.0.0.1:9")
    try:
        chosen = _runtime.getter("s3://some-bucket/db")
        assert ("boto3" if chosen is None else "obstore") == expected
    finally:
        _runtime.use_s3_client(None)
