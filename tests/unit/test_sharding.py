"""Large units are split from their listing into shards, exported in parallel, each its own file."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from s3db_backup.catalog import BackupPaths, read_manifest
from s3db_backup.export import split
from s3db_backup.export.chunk import export_chunk
from s3db_backup.export.manifest_writer import write_manifest
from s3db_backup.export.plan import plan_backup
from s3db_backup.export.split import split_unit
from s3db_backup.locations import S3Location
from tests.unit.engine_driver import backup, restore, run_loop, snapshot_objects, write_fake_database

STORE = "s3://backups"


def file_lines(s3: Any, backup_id: str, key: str) -> list[dict[str, Any]]:
    body = s3.get_object(Bucket="backups", Key=f"{backup_id}/{key}")["Body"].read()
    return [json.loads(line) for line in gzip.decompress(body).splitlines()]


def manifest_of(s3: Any, backup_id: str) -> Any:
    return read_manifest(s3, BackupPaths(S3Location.parse(STORE), backup_id))


def lines_in_order(s3: Any, backup_id: str, file_keys: list[str]) -> int:
    """Lines in these files, checking from the manifest's part facts that each file's keys come after the
    previous file's (the shards are disjoint and in key order)."""
    files = [manifest_of(s3, backup_id).file(k) for k in file_keys]
    spans = [(f.parts[0].firstKey, f.parts[-1].lastKey) for f in files]
    assert all(first <= last for first, last in spans)
    assert all(spans[i][1] < spans[i + 1][0] for i in range(len(spans) - 1))
    return sum(f.lines for f in files)


def test_a_sharded_backup_holds_every_object_once_in_key_order_and_restores_exactly(s3: Any) -> None:
    write_fake_database(s3, "srcdb", "app", records=50)
    result, _ = backup(s3, "s3://srcdb/app", STORE, shardRecords=12)
    manifest = manifest_of(s3, result["backupId"])

    users = manifest.resources["users"]
    assert users["recordCount"] == 50
    assert users["exportFiles"] == [f"users/shard-{i:05d}.jsonl.gz" for i in range(5)]  # ceil(50 / 12)
    assert lines_in_order(s3, result["backupId"], users["exportFiles"]) == 50  # disjoint, in order
    assert all(f.shards == 5 for f in manifest.files if f.key in users["exportFiles"])
    refs = [f.key for f in manifest.files if f.kind == "objects" and f.resource == "users"]
    assert len(refs) == 5 and lines_in_order(s3, result["backupId"], refs) == 50  # partition refs, split too
    assert manifest.resources["notes"]["exportFiles"] == ["notes.jsonl.gz"]  # 10 keys: one shard, plain name

    report = restore(s3, result["backupId"], STORE, target="s3://srcdb/copy")
    assert report["status"] == "completed"
    assert snapshot_objects(s3, "srcdb", "copy") == snapshot_objects(s3, "srcdb", "app")


def test_a_unit_of_exactly_n_shards_has_no_empty_last_shard(s3: Any) -> None:
    write_fake_database(s3, "srcdb", "app", records=14)
    result, _ = backup(s3, "s3://srcdb/app", STORE, shardRecords=7)
    files = manifest_of(s3, result["backupId"]).resources["users"]["exportFiles"]
    assert [len(file_lines(s3, result["backupId"], f)) for f in files] == [7, 7]


def split_job(s3: Any, unit: dict[str, Any], **options: Any) -> dict[str, Any]:
    plan = plan_backup(s3, source="s3://srcdb/app", store=STORE, options=options)
    return {k: plan[k] for k in ("backupId", "source", "store", "settings")} | {"unit": unit}


def test_the_split_resumes_from_its_cursor_and_a_replayed_step_changes_nothing(s3: Any) -> None:
    write_fake_database(s3, "srcdb", "app", records=60)
    unit = {"kind": "objects", "resource": "users"}  # two scopes: its folder's own objects, partition=byCountry/

    one_go = split_job(s3, unit, shardRecords=9)
    _, expected = run_loop(split_unit, s3, one_go)

    job = split_job(s3, unit, shardRecords=9)
    out, steps = split_unit(s3, job, None, deadline=0.0), 1  # a deadline already past: one LIST per step
    while not out["done"]:
        split_unit(s3, job, out["cursor"], deadline=0.0)  # its answer is lost: Step Functions retries it
        out, steps = split_unit(s3, job, out["cursor"], deadline=0.0), steps + 1
    assert steps == 2  # the replay of the last step wrote every boundary; the retry rewrote them, not added
    assert out["shards"] == expected["shards"] and len(out["shards"]) == 7  # ceil(60 / 9)

    def boundaries(j: dict[str, Any]) -> Any:
        key = f"{j['backupId']}/.work/shards/_objects/resource=users.jsonl.gz.json"
        return json.loads(s3.get_object(Bucket="backups", Key=key)["Body"].read())["boundaries"]

    assert boundaries(job) == boundaries(one_go)


def test_keys_written_after_the_split_land_in_exactly_one_shard(s3: Any) -> None:
    write_fake_database(s3, "srcdb", "app", records=30)
    job = split_job(s3, {"kind": "records", "resource": "users"}, shardRecords=10)
    _, split_out = run_loop(split_unit, s3, job)
    late = ["a-first", "u-00004x", "u-00015x", "zz-last"]  # before, inside shard 0, inside shard 1, after
    for rid in late:
        s3.put_object(Bucket="srcdb", Key=f"app/resource=users/data/id={rid}", Body=b"", Metadata={"_v": "v1"})
    files = []
    for shard in split_out["shards"]:
        run_loop(export_chunk, s3, job | {"shard": shard})
        files.append(f"users/shard-{shard['index']:05d}.jsonl.gz")
    for unit in ({"kind": "objects", "resource": "users"}, {"kind": "records", "resource": "notes"},
                 {"kind": "objects", "resource": "notes"}, {"kind": "unscoped", "resource": None}):
        run_loop(export_chunk, s3, {**job, "unit": unit})  # the rest, unsharded
    write_manifest(s3, backup_id=job["backupId"], store=STORE)

    ids = [line["id"] for f in files for line in file_lines(s3, job["backupId"], f)]
    assert sorted(ids) == ids and len(ids) == len(set(ids)) == 34
    assert set(late) <= set(ids)


def test_too_many_shards_are_merged_so_the_state_stays_small(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(split, "MAX_SHARDS", 3)
    write_fake_database(s3, "srcdb", "app", records=40)
    result, _ = backup(s3, "s3://srcdb/app", STORE, shardRecords=2)
    files = manifest_of(s3, result["backupId"]).resources["users"]["exportFiles"]
    assert len(files) <= 3
    assert lines_in_order(s3, result["backupId"], files) == 40


def test_listing_pages_are_followed_within_a_scope(s3: Any) -> None:
    write_fake_database(s3, "srcdb", "app", records=1)
    for i in range(2100):  # three LIST pages of one folder
        s3.put_object(Bucket="srcdb", Key=f"app/resource=users/data/id=p-{i:05d}", Body=b"",
                      Metadata={"_v": "v1"})
    job = split_job(s3, {"kind": "records", "resource": "users"}, shardRecords=1000)
    out, steps = split_unit(s3, job, None, deadline=0.0), 1
    while not out["done"]:
        split_unit(s3, job, out["cursor"], deadline=0.0)  # replayed: boundaries past the cursor are dropped
        out, steps = split_unit(s3, job, out["cursor"], deadline=0.0), steps + 1
    assert steps == 3 and out["keys"] == 2101 and len(out["shards"]) == 3
    counts = [run_loop(export_chunk, s3, job | {"shard": s})[1]["records"] for s in out["shards"]]
    assert counts == [1000, 1000, 101]


def test_shard_records_must_be_positive(s3: Any) -> None:
    write_fake_database(s3, "srcdb", "app", records=1)
    with pytest.raises(Exception, match="shardRecords must be at least 1"):
        plan_backup(s3, source="s3://srcdb/app", store=STORE, options={"shardRecords": 0})
