"""The interop harness itself: seeding with s3db.js writes what we expect, and snapshots are meaningful."""

from __future__ import annotations

import json
import subprocess
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from s3db_backup.local import s3dbjs
from s3db_backup.local.moto_server import MotoServer

EXPECTED_PARTITIONS = {
    "users": {"byCountry", "byCreatedDate", "byUpdatedDate"},  # timestamps: true adds the date ones
    "orders": {"byStatus"},
    "articles": set(),
    "events": set(),
}


def list_objects(s3: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    paginator = s3.get_paginator("list_objects_v2")
    found: list[dict[str, Any]] = []
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix.rstrip("/") + "/"):
        found.extend(page.get("Contents", []))
    return found


def relative_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    root = prefix.rstrip("/") + "/"
    return [obj["Key"][len(root) :] for obj in list_objects(s3, bucket, prefix)]


# -- pure helpers ------------------------------------------------------------------------------------


def test_connection_string_shape() -> None:
    conn = s3dbjs.connection_string("http://127.0.0.1:5000", "bkt", "/a/b/", "AK", "s/e+c")
    assert conn == "http://AK:s%2Fe%2Bc@127.0.0.1:5000/bkt/a/b?forcePathStyle=true&region=us-east-1"
    assert s3dbjs.connection_string("http://127.0.0.1:5000", "bkt", "", "k", "s").startswith(
        "http://k:s@127.0.0.1:5000/bkt?"
    )
    with pytest.raises(ValueError):
        s3dbjs.connection_string("http://127.0.0.1:5000", "bkt", "has space", "k", "s")


def test_moto_server_stops_its_child(tmp_path) -> None:
    server = MotoServer(log_path=tmp_path / "m.log")
    with server:
        process = server._process
        assert process is not None and server.running
        server.create_bucket("bucket-one")
        assert "bucket-one" in [b["Name"] for b in server.client("s3").list_buckets()["Buckets"]]
    assert process.poll() is not None
    assert not server.running


# -- what seeding stores -----------------------------------------------------------------------------


def test_seed_summary(demo_db: Any, demo_records: int) -> None:
    assert demo_db.summary == {
        "resources": {
            "users": demo_records,
            "orders": demo_records,
            "articles": demo_records,
            "events": demo_records // 4,
        }
    }


def test_seed_writes_the_s3db_layout(demo_db: Any, s3_client: Any) -> None:
    keys = relative_keys(s3_client, demo_db.bucket, demo_db.prefix)
    assert "s3db.json" in keys
    data_ids: dict[str, list[str]] = defaultdict(list)
    partition_refs: dict[tuple[str, str], list[str]] = defaultdict(list)
    other: list[str] = []
    for key in keys:
        parts = key.split("/")
        if key == "s3db.json":
            continue
        if len(parts) == 3 and parts[0].startswith("resource=") and parts[1] == "data":
            assert parts[2].startswith("id=")
            data_ids[parts[0].removeprefix("resource=")].append(parts[2].removeprefix("id="))
        elif len(parts) >= 4 and parts[0].startswith("resource=") and parts[1].startswith("partition="):
            # resource=<name>/partition=<p>/<field>=<value>/id=<id>
            assert parts[-1].startswith("id=") and all("=" in p for p in parts[2:-1])
            partition_refs[(parts[0].removeprefix("resource="), parts[1].removeprefix("partition="))].append(
                parts[-1].removeprefix("id=")
            )
        else:
            other.append(key)
    assert other == []
    assert {name: len(ids) for name, ids in data_ids.items()} == demo_db.summary["resources"]
    for name, partitions in EXPECTED_PARTITIONS.items():
        assert {p for (r, p) in partition_refs if r == name} == partitions
        for partition in partitions:
            # every record has exactly one reference in each of its single-field partitions
            assert sorted(partition_refs[(name, partition)]) == sorted(data_ids[name])

    meta = json.loads(s3_client.get_object(Bucket=demo_db.bucket, Key=f"{demo_db.prefix}/s3db.json")["Body"].read())
    assert {"version", "s3dbVersion", "lastUpdated", "resources"} <= set(meta)
    assert meta["s3dbVersion"] == "21.6.2"
    assert set(meta["resources"]) == set(demo_db.summary["resources"])
    behaviors = {name: res["versions"][res["currentVersion"]]["behavior"] for name, res in meta["resources"].items()}
    assert behaviors == {
        "users": "user-managed",
        "orders": "user-managed",
        "articles": "body-overflow",
        "events": "body-only",
    }


def test_seed_object_shapes(demo_db: Any, s3_client: Any, demo_records: int) -> None:
    """Bodies and content types per behavior, and what a partition reference is."""
    shapes: dict[str, Counter[tuple[str, bool]]] = defaultdict(Counter)
    for obj in list_objects(s3_client, demo_db.bucket, f"{demo_db.prefix}/resource=articles/data"):
        head = s3_client.head_object(Bucket=demo_db.bucket, Key=obj["Key"])
        shapes["articles"][(head["ContentType"], obj["Size"] > 0)] += 1
        if obj["Size"] > 0:
            assert head["Metadata"].get("_overflow") == "true"
    # body-overflow: some records spill into a JSON body, the rest live in metadata only
    assert shapes["articles"][("application/json", True)] > 0
    assert shapes["articles"][("application/octet-stream", False)] > 0
    assert sum(shapes["articles"].values()) == demo_records

    events = list_objects(s3_client, demo_db.bucket, f"{demo_db.prefix}/resource=events/data")
    head = s3_client.head_object(Bucket=demo_db.bucket, Key=events[0]["Key"])
    assert all(o["Size"] > 0 for o in events)
    assert head["ContentType"] == "application/json" and "_map" in head["Metadata"]

    user = s3_client.head_object(Bucket=demo_db.bucket, Key=f"{demo_db.prefix}/resource=users/data/id=u-00001")
    assert user["ContentLength"] == 0 and user["Metadata"]["_v"] == "v1"

    ref = list_objects(s3_client, demo_db.bucket, f"{demo_db.prefix}/resource=orders/partition=byStatus")[0]
    ref_head = s3_client.head_object(Bucket=demo_db.bucket, Key=ref["Key"])
    assert ref["Size"] == 0 and ref_head["Metadata"] == {"_v": "v1"}


# -- what s3db.js reads back -------------------------------------------------------------------------


def test_snapshot_matches_the_seed(demo_db: Any, demo_snapshot: dict[str, Any]) -> None:
    resources = demo_snapshot["resources"]
    assert set(resources) == set(demo_db.summary["resources"])
    for name, expected in demo_db.summary["resources"].items():
        snap = resources[name]
        ids = [r["id"] for r in snap["records"]]
        assert snap["count"] == expected == len(ids)
        assert ids == sorted(set(ids))
        assert all(not key.startswith("_") for r in snap["records"] for key in r)
        assert set(snap["partitions"]) == EXPECTED_PARTITIONS[name]
        for listing in snap["partitions"].values():
            union = [i for value_ids in listing.values() for i in value_ids]
            assert sorted(union) == ids  # every id under exactly one value
            assert all(value_ids == sorted(value_ids) for value_ids in listing.values())

    users = {r["id"]: r for r in resources["users"]["records"]}
    for value, ids in resources["users"]["partitions"]["byCountry"].items():
        assert all(f"country={users[i]['country']}" == value for i in ids)
    orders = resources["orders"]["records"]
    assert any(isinstance(o["total"], float) and o["total"] != int(o["total"]) for o in orders)
    assert any(o["balance"] < 0 for o in orders) and all(o["discount"] <= 0 for o in orders)
    assert {type(o["paid"]) for o in orders} == {bool} and all(isinstance(o["items"], list) for o in orders)
    assert all(isinstance(o["shipping"], dict) and "city" in o["shipping"] for o in orders)
    bodies = [a["body"] for a in resources["articles"]["records"]]
    assert any(len(b.encode()) > 2048 for b in bodies) and any(len(b.encode()) < 2048 for b in bodies)
    assert any(any(ord(ch) > 0xFFFF for ch in b) for b in bodies)  # emoji survive
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in b) for b in bodies)  # CJK survives


def test_snapshot_is_stable(demo_db: Any, demo_snapshot: dict[str, Any]) -> None:
    """Reading twice gives the same document, and reading does not write."""
    assert s3dbjs.snapshot(demo_db.connection) == demo_snapshot


def byte_copy(s3: Any, bucket: str, source_prefix: str, target_prefix: str, skip: set[str] = frozenset()) -> int:
    """Copy every object under source_prefix (key, user metadata, content type, body) through the client.

    A GET and a PUT per object, as a restore would do it (not a server-side copy). Returns the count.
    """
    source_root = source_prefix.rstrip("/") + "/"
    keys = [o["Key"] for o in list_objects(s3, bucket, source_prefix) if o["Key"] not in skip]

    def copy(key: str) -> None:
        got = s3.get_object(Bucket=bucket, Key=key)
        s3.put_object(
            Bucket=bucket,
            Key=f"{target_prefix}/{key[len(source_root) :]}",
            Body=got["Body"].read(),
            Metadata=got["Metadata"],
            ContentType=got["ContentType"],  # boto3 sends none otherwise, and moto then stores binary/octet-stream
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(copy, keys))
    return len(keys)


def test_byte_copy_reads_identically(
    demo_db: Any, demo_snapshot: dict[str, Any], s3_client: Any, s3db_connection
) -> None:
    """A byte-level copy of every object to a new prefix is read by s3db.js exactly like the original.

    This is the bar a restore has to meet, and it shows the snapshot comparison is meaningful.
    """
    target_prefix = "copies/byte-copy"
    copied = byte_copy(s3_client, demo_db.bucket, demo_db.prefix, target_prefix)
    assert copied == len(relative_keys(s3_client, demo_db.bucket, target_prefix))
    assert s3dbjs.snapshot(s3db_connection(demo_db.bucket, target_prefix)) == demo_snapshot


def test_lossy_copy_is_detected(demo_db: Any, demo_snapshot: dict[str, Any], s3_client: Any, s3db_connection) -> None:
    """Control for the test above: a copy missing one partition reference gives a different snapshot."""
    target_prefix = "copies/lossy-copy"
    refs = list_objects(s3_client, demo_db.bucket, f"{demo_db.prefix}/resource=orders/partition=byStatus")
    byte_copy(s3_client, demo_db.bucket, demo_db.prefix, target_prefix, skip={refs[0]["Key"]})
    snap = s3dbjs.snapshot(s3db_connection(demo_db.bucket, target_prefix))
    assert snap["resources"]["users"] == demo_snapshot["resources"]["users"]
    assert snap["resources"]["orders"]["records"] == demo_snapshot["resources"]["orders"]["records"]
    assert snap["resources"]["orders"]["partitions"] != demo_snapshot["resources"]["orders"]["partitions"]


def test_seed_is_deterministic(fresh_bucket: str, s3db_connection) -> None:
    """Same --records and --seed give the same data (timestamps aside); another seed gives other data."""

    def without_clock(snap: dict[str, Any]) -> dict[str, Any]:
        users = snap["resources"]["users"]
        for record in users["records"]:
            record.pop("createdAt"), record.pop("updatedAt")
        users["partitions"].pop("byCreatedDate"), users["partitions"].pop("byUpdatedDate")
        return snap

    snaps = []
    for prefix, seed in (("one", 3), ("two", 3), ("three", 4)):
        conn = s3db_connection(fresh_bucket, prefix)
        s3dbjs.seed(conn, "demo", 12, seed)
        snaps.append(without_clock(s3dbjs.snapshot(conn)))
    assert snaps[0] == snaps[1]
    assert snaps[0] != snaps[2]


def test_script_failure_surfaces_stderr(s3dbjs_installed) -> None:
    with pytest.raises(s3dbjs.S3dbJsError, match="unknown profile"):
        s3dbjs.seed("http://k:s@127.0.0.1:1/b/p?forcePathStyle=true", "no-such-profile", 1, 1)
    with pytest.raises(s3dbjs.S3dbJsError, match="--connection is required"):
        s3dbjs.run_script("snapshot.mjs", [])
    assert subprocess.run(["node", "--version"], capture_output=True, check=True).stdout.startswith(b"v")
