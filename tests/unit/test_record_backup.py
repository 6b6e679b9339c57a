"""Backups of records s3db.js would write: the files hold decoded records that DuckDB reads as typed columns,
records whose re-encoding differs keep their stored parts, records nothing can decode are kept as stored and
counted, and the restore gives back every object byte for byte."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from s3db_backup.format.codec import ResourceCodec
from s3db_backup.format.schema import DatabaseSchema
from tests.unit.engine_driver import backup, restore, snapshot_objects

RECORDS = 40
SCHEMA = json.dumps({"version": "1", "s3dbVersion": "21.6.2", "resources": {"people": {
    "currentVersion": "v1",
    "partitions": {"byCity": {"fields": {"address.city": "string"}}},
    "versions": {"v1": {"behavior": "body-overflow", "timestamps": True, "attributes": {
        "name": "string|required", "age": "number|integer|optional", "score": "number|optional",
        "active": "boolean|optional", "tags": "array|items:string|optional",
        "address": {"city": "string|optional"}},
        "partitions": {"byCity": {"fields": {"address.city": "string"}}}}},
    "schemaRegistry": {"nextIndex": 9, "burned": [], "mapping": {
        "name": 0, "age": 1, "score": 2, "active": 3, "tags": 4, "address.city": 5, "address": 6,
        "createdAt": 7, "updatedAt": 8}},
}}})


def put(s3: Any, prefix: str, obj: Any) -> None:
    s3.put_object(Bucket="srcdb", Key=f"{prefix}/{obj.key}", Body=obj.body, Metadata=obj.metadata,
                  ContentType=obj.content_type, **obj.headers)


def write_people(s3: Any, prefix: str = "app") -> ResourceCodec:
    """RECORDS records as s3db.js inserts them, their partition references, plus one record as update() leaves
    it (get()'s `_` internals stored beside the attributes) and two records nothing can decode."""
    s3.put_object(Bucket="srcdb", Key=f"{prefix}/s3db.json", Body=SCHEMA.encode(), ContentType="application/json")
    codec = ResourceCodec.from_schema(DatabaseSchema.parse(SCHEMA), "people")
    for i in range(RECORDS):
        record = {"id": f"p-{i:04d}", "name": f"Person {i} ✓", "age": 20 + i, "score": i + 0.25,
                  "active": i % 2 == 0, "tags": ["a", f"t{i % 3}"], "address": {"city": ["Lisboa", "Porto"][i % 2]},
                  "createdAt": f"2026-01-{1 + i % 28:02d}T10:00:00.000Z",
                  "updatedAt": f"2026-02-{1 + i % 28:02d}T10:00:00.000Z"}
        put(s3, prefix, codec.encode(record, "v1"))
        for key in codec.partition_keys(record, "v1"):
            put(s3, prefix, codec.partition_object(key, "v1"))
    updated = codec.encode({"id": "p-upd", "name": "Updated", "age": 50}, "v1")
    put(s3, prefix, type(updated)(updated.key, {**updated.metadata, "_etag": '"abc"'}, updated.content_type,
                                  updated.body))
    put(s3, prefix, type(updated)("resource=people/data/id=p-v9", {"_v": "v9", "0": "Ghost"}, "application/json",
                                  b""))
    put(s3, prefix, type(updated)("resource=people/data/id=p-nov", {"0": "No version"}, "application/json", b""))
    return codec


def file_lines(s3: Any, backup_id: str, key: str) -> list[dict[str, Any]]:
    body = s3.get_object(Bucket="backups", Key=f"{backup_id}/{key}")["Body"].read()
    return [json.loads(line) for line in gzip.decompress(body).splitlines()]


def test_records_are_decoded_counted_and_restored_byte_for_byte(s3: Any) -> None:
    write_people(s3)
    before = snapshot_objects(s3, "srcdb", "app")
    result, _ = backup(s3, "s3://srcdb/app", "s3://backups", chunkMaxLines=7)
    manifest = json.loads(s3.get_object(Bucket="backups", Key=f"{result['backupId']}/s3db.json")["Body"].read())
    people = next(f for f in manifest["files"] if f["key"] == "people.jsonl.gz")
    assert (people["records"], people["unrecognized"]) == (RECORDS + 3, 2)
    assert manifest["totals"]["unrecognized"] == 2

    lines = {line["id"]: line for line in file_lines(s3, result["backupId"], "people.jsonl.gz")}
    assert lines["p-0003"] == {
        "id": "p-0003", "name": "Person 3 ✓", "age": 23, "score": 3.25, "active": False, "tags": ["a", "t0"],
        "address": {"city": "Porto"}, "createdAt": "2026-01-04T10:00:00.000Z",
        "updatedAt": "2026-02-04T10:00:00.000Z", "_s3db": {"version": "v1"}}
    assert lines["p-upd"]["name"] == "Updated" and set(lines["p-upd"]["_s3db"]) == {"version", "meta"}
    assert lines["p-v9"] == {"id": "p-v9", "_s3db": {"key": "resource=people/data/id=p-v9",
                                                     "meta": {"_v": "v9", "0": "Ghost"},
                                                     "contentType": "application/json"}}
    assert "key" in lines["p-nov"]["_s3db"]
    refs = file_lines(s3, result["backupId"], "_objects/resource=people.jsonl.gz")
    assert len(refs) == RECORDS and all(set(r) == {"_s3db"} for r in refs)  # partition references as stored

    restore(s3, result["backupId"], "s3://backups", target="s3://srcdb/copy", options={"chunkMaxLines": 5})
    assert snapshot_objects(s3, "srcdb", "copy") == before


def test_duckdb_reads_a_backup_file_as_typed_columns(s3: Any, tmp_path: Path) -> None:
    import duckdb

    write_people(s3)
    result, _ = backup(s3, "s3://srcdb/app", "s3://backups")
    path = tmp_path / "people.jsonl.gz"
    path.write_bytes(s3.get_object(Bucket="backups", Key=f"{result['backupId']}/people.jsonl.gz")["Body"].read())

    con = duckdb.connect()
    con.execute(f"CREATE VIEW people AS SELECT * FROM read_json_auto('{path}')")
    assert con.execute("SELECT count(*) FROM people").fetchone() == (RECORDS + 3,)
    types = {name: kind for name, kind, *_ in con.execute("DESCRIBE people").fetchall()}
    assert types["id"] == "VARCHAR" and types["name"] == "VARCHAR"
    assert types["age"] == "BIGINT" and types["score"] == "DOUBLE" and types["active"] == "BOOLEAN"
    assert types["tags"] == "VARCHAR[]" and types["address"] == 'STRUCT(city VARCHAR)'
    assert types["createdAt"].startswith("TIMESTAMP")
    assert con.execute("SELECT sum(age), count(*) FILTER (active) FROM people WHERE _s3db.version = 'v1'"
                       ).fetchone() == (sum(20 + i for i in range(RECORDS)) + 50, RECORDS // 2)
    assert con.execute("SELECT address.city, count(*) FROM people WHERE address IS NOT NULL GROUP BY 1 ORDER BY 1"
                       ).fetchall() == [("Lisboa", RECORDS // 2), ("Porto", RECORDS // 2)]
