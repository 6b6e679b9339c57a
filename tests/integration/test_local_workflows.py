"""The synthesized state machines, executed locally end to end, on an S3 in another process."""

from __future__ import annotations

import itertools
import json
from typing import Any

import boto3
import pytest

from s3db_backup.catalog import list_backups
from s3db_backup.errors import BackupNotFoundError, IntegrityError, SourceError
from s3db_backup.local.jobs import run_backup, run_restore
from s3db_backup.locations import S3Location
from s3db_backup.s3client import make_s3_client
from tests.unit.engine_driver import snapshot_objects, write_fake_database

_names = itertools.count()


@pytest.fixture
def session() -> Any:
    return boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1")


@pytest.fixture
def s3(moto_server: Any, session: Any) -> Any:
    return make_s3_client(endpoint_url=moto_server.endpoint_url, session=session)


@pytest.fixture
def buckets(moto_server: Any) -> tuple[str, str]:
    n = next(_names)
    return moto_server.create_bucket(f"wf-db-{n}"), moto_server.create_bucket(f"wf-store-{n}")


@pytest.mark.parametrize("get_client", ["obstore", "boto3"])
def test_backup_and_restore_through_the_state_machines(s3: Any, session: Any, buckets: tuple[str, str],
                                                       get_client: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3DB_BACKUP_GET_CLIENT", get_client)
    db, store = buckets
    write_fake_database(s3, db, "app", records=80)
    before = snapshot_objects(s3, db, "app")
    calls: list[str] = []
    backup = run_backup(s3, source=f"s3://{db}/app", store=f"s3://{store}/b", options={"chunkMaxLines": 25},
                        progress=lambda fn, *_: calls.append(fn), session=session)
    assert backup.output["records"] == 80 + 16
    assert calls.count("ExportChunk") > 2 * 4  # several chunks per unit: the loop really loops
    assert calls[0] == "PlanBackup" and calls[-2:] == ["WriteManifest", "PruneRetention"]

    [entry] = list_backups(s3, S3Location.parse(f"s3://{store}/b"))
    assert entry.status == "completed" and entry.backupId == backup.output["backupId"]

    restored = run_restore(s3, backup_id=entry.backupId, store=f"s3://{store}/b", target=f"s3://{db}/copy")
    assert restored.output["records"] == 96
    assert snapshot_objects(s3, db, "copy") == before


def test_large_units_are_split_and_their_shards_exported_by_the_inner_map(s3: Any, session: Any,
                                                                          buckets: tuple[str, str]) -> None:
    db, store = buckets
    write_fake_database(s3, db, "app", records=80)
    calls: list[str] = []
    backup = run_backup(s3, source=f"s3://{db}/app", store=f"s3://{store}/b",
                        options={"shardRecords": 30, "chunkMaxLines": 20},
                        progress=lambda fn, *_: calls.append(fn), session=session)
    assert backup.output["records"] == 96
    assert calls.count("SplitUnit") == 5  # one per unit: 2 resources x (records, objects) + unscoped
    manifest = json.loads(s3.get_object(Bucket=store, Key=f"b/{backup.output['backupId']}/s3db.json")["Body"].read())
    assert manifest["resources"]["users"]["exportFiles"] == [f"users/shard-{i:05d}.jsonl.gz" for i in range(3)]
    assert manifest["resources"]["users"]["recordCount"] == 80

    restored = run_restore(s3, backup_id=backup.output["backupId"], store=f"s3://{store}/b",
                           target=f"s3://{db}/copy")
    assert restored.output["records"] == 96
    assert snapshot_objects(s3, db, "copy") == snapshot_objects(s3, db, "app")


def test_failure_marks_the_backup_failed_and_reports_the_backup_error(s3: Any, buckets: tuple[str, str]) -> None:
    db, store = buckets
    with pytest.raises(SourceError) as err:
        run_backup(s3, source=f"s3://{db}/nothing-here", store=f"s3://{store}")
    assert "s3db.json" in err.value.message
    assert s3.list_objects_v2(Bucket=store).get("KeyCount", 0) == 0


def test_a_failure_inside_the_map_runs_the_catch_and_cleans_up(s3: Any, buckets: tuple[str, str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    db, store = buckets
    write_fake_database(s3, db, "app", records=10)
    import s3db_backup.export.chunk as chunk

    real = chunk.backup_line

    def broken(obj: Any, record_id: Any, codec: Any) -> Any:
        if obj.key.startswith("resource=notes/"):
            raise IntegrityError("simulated failure", operation="export")
        return real(obj, record_id, codec)

    monkeypatch.setattr(chunk, "backup_line", broken)
    with pytest.raises(IntegrityError, match="simulated failure"):
        run_backup(s3, source=f"s3://{db}/app", store=f"s3://{store}")
    [entry] = list_backups(s3, S3Location.parse(f"s3://{store}"))
    assert entry.status == "failed" and entry.error == "simulated failure"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=store)["Contents"]]
    # Sibling chunks already running when the Catch fired may still leave side files (on AWS too), but
    # never a manifest: the backup cannot be taken for good data.
    assert f"{entry.backupId}/s3db.json" not in keys
    status = json.loads(s3.get_object(Bucket=store, Key=f"{entry.backupId}/_status.json")["Body"].read())
    assert status["error"]["name"] == "IntegrityError"
    with pytest.raises(BackupNotFoundError, match="no manifest"):
        run_restore(s3, backup_id=entry.backupId, store=f"s3://{store}", target=f"s3://{db}/copy")


def test_restore_of_unknown_backup_fails_cleanly(s3: Any, buckets: tuple[str, str]) -> None:
    db, store = buckets
    with pytest.raises(BackupNotFoundError):
        run_restore(s3, backup_id="full-2001-01-01T00-00-00-000000", store=f"s3://{store}",
                    target=f"s3://{db}/x")
    assert s3.list_objects_v2(Bucket=db).get("KeyCount", 0) == 0


def test_encrypted_zstd_backup_through_the_state_machines(s3: Any, session: Any, buckets: tuple[str, str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from s3db_backup.errors import ConfigError

    db, store = buckets
    write_fake_database(s3, db, "app", records=30)
    monkeypatch.setenv("S3DB_BACKUP_PASSPHRASE", "correct horse battery staple")
    backup = run_backup(s3, source=f"s3://{db}/app", store=f"s3://{store}",
                        options={"compression": "zstd", "encryption": "passphrase"}, session=session)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=store, Prefix=backup.output["backupId"])["Contents"]]
    assert f"{backup.output['backupId']}/users.jsonl.zst.enc" in keys

    monkeypatch.setenv("S3DB_BACKUP_PASSPHRASE", "wrong")
    with pytest.raises(ConfigError):
        run_restore(s3, backup_id=backup.output["backupId"], store=f"s3://{store}", target=f"s3://{db}/copy")
    assert s3.list_objects_v2(Bucket=db, Prefix="copy/").get("KeyCount", 0) == 0

    monkeypatch.setenv("S3DB_BACKUP_PASSPHRASE", "correct horse battery staple")
    run_restore(s3, backup_id=backup.output["backupId"], store=f"s3://{store}", target=f"s3://{db}/copy")
    assert snapshot_objects(s3, db, "copy") == snapshot_objects(s3, db, "app")
