"""Bad input gets a clear BackupError, and nothing is written where a later run would trust it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from s3db_backup.catalog import list_backups
from s3db_backup.errors import (
    BackupError,
    BackupNotFoundError,
    ConfigError,
    IntegrityError,
    SourceError,
    StoreError,
    TargetError,
)
from s3db_backup.export.failure import fail_backup
from s3db_backup.export.plan import plan_backup
from s3db_backup.locations import S3Location
from tests.unit.engine_driver import backup, restore, write_fake_database


def objects(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def test_source_without_s3db_json_is_refused_and_nothing_written(s3: Any) -> None:
    s3.put_object(Bucket="srcdb", Key="app/resource=users/data/id=1", Body=b"")
    with pytest.raises(SourceError) as err:
        plan_backup(s3, source="s3://srcdb/app", store="s3://backups")
    assert "s3db.json" in err.value.message and err.value.operation == "plan"
    assert objects(s3, "backups") == []


def test_missing_store_bucket_is_a_store_error(s3: Any) -> None:
    write_fake_database(s3, "srcdb", "app", records=1)
    with pytest.raises(StoreError) as err:
        plan_backup(s3, source="s3://srcdb/app", store="s3://no-such-bucket/x")
    assert err.value.to_dict()["name"] == "StoreError"


@pytest.mark.parametrize("url", ["srcdb/app", "s3://A_B/x", "s3://ok-bucket//x", ""])
def test_malformed_locations_are_config_errors(s3: Any, url: str) -> None:
    with pytest.raises(ConfigError):
        plan_backup(s3, source=url, store="s3://backups")


def test_store_inside_source_is_refused(s3: Any) -> None:
    write_fake_database(s3, "srcdb", "app", records=1)
    with pytest.raises(ConfigError):
        plan_backup(s3, source="s3://srcdb/app", store="s3://srcdb/app/backups")


def test_unknown_options_and_tiny_parts_are_refused(s3: Any) -> None:
    write_fake_database(s3, "srcdb", "app", records=1)
    with pytest.raises(ConfigError, match="unknown option"):
        plan_backup(s3, source="s3://srcdb/app", store="s3://backups", options={"partsize": 8})
    with pytest.raises(ConfigError) as err:
        plan_backup(s3, source="s3://srcdb/app", store="s3://backups", options={"partSizeMiB": 1})
    assert "multipart minimum" in err.value.description


def test_unknown_backup_id_is_not_found(s3: Any) -> None:
    with pytest.raises(BackupNotFoundError):
        restore(s3, "full-2020-01-01T00-00-00-abcdef", "s3://backups", target="s3://srcdb/copy")
    assert objects(s3, "srcdb") == []


def test_backup_without_manifest_cannot_be_restored(s3: Any) -> None:
    write_fake_database(s3, "srcdb", "app", records=3)
    result, _ = backup(s3, "s3://srcdb/app", "s3://backups")
    s3.delete_object(Bucket="backups", Key=f"{result['backupId']}/s3db.json")
    with pytest.raises(BackupNotFoundError):
        restore(s3, result["backupId"], "s3://backups", target="s3://srcdb/copy")
    assert objects(s3, "srcdb", "copy/") == []


def test_a_backup_in_a_line_format_this_version_does_not_know_is_refused(s3: Any) -> None:
    write_fake_database(s3, "srcdb", "app", records=3)
    result, _ = backup(s3, "s3://srcdb/app", "s3://backups")
    key = f"{result['backupId']}/s3db.json"
    manifest = json.loads(s3.get_object(Bucket="backups", Key=key)["Body"].read())
    assert manifest["lineFormat"] == "s3db.js-21.6.2-decoded/1"
    s3.put_object(Bucket="backups", Key=key, Body=json.dumps({**manifest, "lineFormat": "future/9"}).encode())
    with pytest.raises(ConfigError, match="future/9"):
        restore(s3, result["backupId"], "s3://backups", target="s3://srcdb/copy")
    assert objects(s3, "srcdb", "copy/") == []


@pytest.mark.parametrize("damage", ["flip", "truncate", "swap"])
def test_damaged_backup_file_writes_nothing_to_the_target(s3: Any, damage: str) -> None:
    write_fake_database(s3, "srcdb", "app", records=40)
    result, _ = backup(s3, "s3://srcdb/app", "s3://backups")
    key = f"{result['backupId']}/notes.jsonl.gz"
    data = bytearray(s3.get_object(Bucket="backups", Key=key)["Body"].read())
    if damage == "flip":
        data[len(data) // 2] ^= 0x01
    elif damage == "truncate":
        data = data[:-10]
    else:
        other = s3.get_object(Bucket="backups", Key=f"{result['backupId']}/users.jsonl.gz")["Body"].read()
        data = bytearray(other)
    s3.put_object(Bucket="backups", Key=key, Body=bytes(data))
    with pytest.raises(IntegrityError) as err:
        restore(s3, result["backupId"], "s3://backups", target="s3://srcdb/copy")
    assert err.value.context["file"] == "notes.jsonl.gz"
    assert objects(s3, "srcdb", "copy/") == []


def test_unknown_resource_in_selective_restore_is_refused(s3: Any) -> None:
    write_fake_database(s3, "srcdb", "app", records=3)
    result, _ = backup(s3, "s3://srcdb/app", "s3://backups")
    with pytest.raises(ConfigError, match="no resource orders"):
        restore(s3, result["backupId"], "s3://backups", target="s3://srcdb/copy", resources=["orders"])


def test_missing_target_bucket_is_a_target_error(s3: Any) -> None:
    write_fake_database(s3, "srcdb", "app", records=3)
    result, _ = backup(s3, "s3://srcdb/app", "s3://backups")
    with pytest.raises(TargetError):
        restore(s3, result["backupId"], "s3://backups", target="s3://missing-bucket/copy")


def test_failed_backup_is_listed_failed_never_completed(s3: Any) -> None:
    write_fake_database(s3, "srcdb", "app", records=3)
    plan = plan_backup(s3, source="s3://srcdb/app", store="s3://backups")
    # an upload left open by a crashed chunk
    s3.create_multipart_upload(Bucket="backups", Key=f"{plan['backupId']}/users.jsonl.gz")
    err = BackupError("boom", operation="export")
    out = fail_backup(s3, backup_id=plan["backupId"], store="s3://backups",
                      error={"Error": "BackupError", "Cause": json.dumps({"errorMessage": str(err)})})
    assert out["abortedUploads"] == 1 and out["error"]["message"] == "boom"
    assert s3.list_multipart_uploads(Bucket="backups").get("Uploads", []) == []
    [entry] = list_backups(s3, S3Location.parse("s3://backups"))
    assert entry.status == "failed" and entry.error == "boom"
    assert objects(s3, "backups") == [f"{plan['backupId']}/_status.json"]


def test_backup_error_round_trips_through_its_json() -> None:
    err = TargetError("no", description="why", operation="restore", bucket="b")
    again = BackupError.from_json(str(err))
    assert isinstance(again, TargetError)
    assert again.to_dict() == err.to_dict()
