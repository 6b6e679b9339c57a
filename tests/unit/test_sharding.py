"""Large units are split from their listing into shards, exported in parallel, each its own file."""

from __future__ import annotations

import gzip
import json
import random
from typing import Any

import pytest

from s3db_backup.catalog import BackupPaths, read_manifest
from s3db_backup.errors import ConfigError, StoreError
from s3db_backup.export import split
from s3db_backup.export.chunk import export_chunk
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
    assert 5 <= len(users["exportFiles"]) <= 10  # ceil(50 / 12), at most twice that (pieces are merged)
    assert users["exportFiles"] == [f"users/shard-{i:05d}.jsonl.gz" for i in range(len(users["exportFiles"]))]
    assert lines_in_order(s3, result["backupId"], users["exportFiles"]) == 50  # disjoint, in order
    assert all(f.lines <= 12 and f.shards == len(users["exportFiles"])
               for f in manifest.files if f.key in users["exportFiles"])
    refs = [f.key for f in manifest.files if f.kind == "objects" and f.resource == "users"]
    assert len(refs) >= 5 and lines_in_order(s3, result["backupId"], refs) == 50  # partition refs, split too
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


def cut_of(s3: Any, job: dict[str, Any]) -> Any:
    """How the split cut the unit: the keys of each batch, and the batch each shard starts at."""
    key = f"{job['backupId']}/.work/shards/users.jsonl.gz.json"
    plan = json.loads(s3.get_object(Bucket="backups", Key=key)["Body"].read())
    return [r["batches"] for r in plan["ranges"]], plan["starts"]


def many_keys(s3: Any, n: int) -> None:
    write_fake_database(s3, "srcdb", "app", records=1)
    for i in range(n):  # one folder, several LIST pages; ids p-..., u-00000: two groups listed at once
        s3.put_object(Bucket="srcdb", Key=f"app/resource=users/data/id=p-{i:05d}", Body=b"",
                      Metadata={"_v": "v1"})


def exported_ids(s3: Any, job: dict[str, Any], out: dict[str, Any], resource: str, **chunk: Any) -> list[str]:
    """Run every shard's chunk loop (with `chunk` settings) and answer the ids of its file(s), in order."""
    ids: list[str] = []
    for shard in out["shards"]:
        shard_job = job | {"shard": shard}
        if chunk:
            shard_job = shard_job | {"settings": {**job["settings"], **chunk}}
        run_loop(export_chunk, s3, shard_job)
        name = f"{resource}.jsonl.gz" if len(out["shards"]) == 1 else f"{resource}/shard-{shard['index']:05d}.jsonl.gz"
        ids += [line["id"] for line in file_lines(s3, job["backupId"], name)]
    return ids


def test_the_split_lists_one_page_and_its_shards_list_the_rest_resuming_mid_page(s3: Any) -> None:
    many_keys(s3, 2100)
    unit = {"kind": "records", "resource": "users"}
    job = split_job(s3, unit, shardRecords=500, listPageKeys=500)
    steps, out = run_loop(split_unit, s3, job)
    assert steps == 1 and out["keys"] == 500  # one page listed; the rest is estimated, for the shards to list
    assert 1500 <= out["estimate"] <= 8000 and 2 <= len(out["shards"]) <= 16
    cut = cut_of(s3, job)
    again = split_unit(s3, job, None)  # a replay (its answer lost, Step Functions retries it)
    assert again["shards"] == out["shards"] and cut_of(s3, job) == cut

    # Chunks of 150 lines stop inside key batches and inside listed pages, and resume there.
    ids = exported_ids(s3, job, out, "users", chunkMaxLines=150)
    assert ids == sorted(["u-00000", *(f"p-{i:05d}" for i in range(2100))])  # every key once, in key order


def test_a_folder_of_one_page_needs_no_probes(s3: Any) -> None:
    write_fake_database(s3, "srcdb", "app", records=30)
    calls: list[str] = []
    s3.meta.events.register("before-call.s3.ListObjectsV2", lambda **kw: calls.append("LIST"))
    job = split_job(s3, {"kind": "records", "resource": "users"}, shardRecords=7)
    calls.clear()
    steps, out = run_loop(split_unit, s3, job)
    assert (steps, out["keys"], len(out["shards"])) == (1, 30, 5) and calls == ["LIST"]  # no probes
    sizes = [run_loop(export_chunk, s3, job | {"shard": s})[1]["records"] for s in out["shards"]]
    assert sizes == [7, 7, 7, 7, 2]
    assert calls == ["LIST"]  # listed once: the shards read the split's key batches


@pytest.mark.parametrize("damage", ["missing", "truncated", "not gzip"])
def test_a_damaged_key_batch_stops_the_shard_instead_of_skipping_its_keys(s3: Any, damage: str) -> None:
    write_fake_database(s3, "srcdb", "app", records=30)
    job = split_job(s3, {"kind": "records", "resource": "users"}, shardRecords=10)
    _, out = run_loop(split_unit, s3, job)
    batch = f"{job['backupId']}/.work/keys/users.jsonl.gz/0000-000001.json.gz"
    if damage == "missing":
        s3.delete_object(Bucket="backups", Key=batch)
    elif damage == "truncated":
        s3.put_object(Bucket="backups", Key=batch, Body=gzip.compress(b'{"version": 1, "keys": ["x"]}'))
    else:
        s3.put_object(Bucket="backups", Key=batch, Body=b"[]")
    with pytest.raises(StoreError, match=r"key batch .*0000-000001\.json\.gz.* is not what SplitUnit wrote") as info:
        run_loop(export_chunk, s3, job | {"shard": out["shards"][1]})
    assert info.value.operation == "export"


def store_keys(s3: Any) -> set[str]:
    return {o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket="backups")
            for o in page.get("Contents", [])}


def test_a_shard_plan_of_another_layout_is_never_read_as_this_one(s3: Any) -> None:
    write_fake_database(s3, "srcdb", "app", records=30)
    job = split_job(s3, {"kind": "records", "resource": "users"}, shardRecords=10)
    _, out = run_loop(split_unit, s3, job)
    side = f"{job['backupId']}/.work/shards/users.jsonl.gz.json"
    plan = json.loads(s3.get_object(Bucket="backups", Key=side)["Body"].read())
    s3.put_object(Bucket="backups", Key=side, Body=json.dumps(plan | {"version": 1}).encode())
    before = store_keys(s3)
    with pytest.raises(StoreError, match="was never split") as info:
        run_loop(export_chunk, s3, job | {"shard": out["shards"][0]})
    assert info.value.operation == "export" and store_keys(s3) == before  # refused before writing anything
    assert split_unit(s3, job, None)["shards"] == out["shards"]  # a replayed split cuts it again, in this layout
    assert json.loads(s3.get_object(Bucket="backups", Key=side)["Body"].read())["version"] == 2
    assert [run_loop(export_chunk, s3, job | {"shard": s})[1]["records"] for s in out["shards"]] == [10, 10, 10]


def listed_prefixes(s3: Any) -> list[str]:
    """The prefixes of the LIST requests that read pages of keys (not one-key probes) from now on."""
    prefixes: list[str] = []
    s3.meta.events.register("provide-client-params.s3.ListObjectsV2",
                            lambda params, **kw: prefixes.append(params["Prefix"])
                            if params.get("MaxKeys", 1000) > 1 else None)
    return prefixes


def listed_keys(s3: Any) -> list[int]:
    """How many keys each LIST page (not a one-key probe) returned from now on."""
    counts: list[int] = []
    s3.meta.events.register("after-call.s3.ListObjectsV2",
                            lambda parsed, **kw: counts.append(parsed.get("KeyCount", 0))
                            if parsed.get("MaxKeys", 1000) > 1 else None)
    return counts


def test_sequential_ids_are_estimated_from_the_first_page_and_each_key_is_listed_once(s3: Any) -> None:
    many_keys(s3, 2100)  # p-00000 ... p-02099 and u-00000: long runs of shared prefix
    job = split_job(s3, {"kind": "records", "resource": "users"}, shardRecords=1000, listPageKeys=100)
    prefixes, counts = listed_prefixes(s3), listed_keys(s3)
    _, out = run_loop(split_unit, s3, job)
    assert prefixes == ["app/resource=users/data/"] and out["keys"] == 100  # the split lists one page
    assert 2000 <= out["keys"] + out["estimate"] <= 4000 and 2 <= len(out["shards"]) <= 5  # groups p-00x...
    ids = exported_ids(s3, job, out, "users")
    assert ids == sorted(["u-00000", *(f"p-{i:05d}" for i in range(2100))])
    assert sum(counts) <= 2101 + 100 * len(out["shards"])  # listed about once (a shard's last page may overrun)
    assert all(p.startswith("app/resource=users/data/id=") for p in prefixes[1:])  # under the groups' prefixes


def probes_asked(s3: Any) -> list[tuple[str, str]]:
    """(prefix, start-after) of each one-key LIST (a probe) from now on."""
    asked: list[tuple[str, str]] = []
    s3.meta.events.register("provide-client-params.s3.ListObjectsV2",
                            lambda params, **kw: asked.append((params["Prefix"], params.get("StartAfter", "")))
                            if params.get("MaxKeys") == 1 else None)
    return asked


def test_the_split_never_asks_the_same_probe_twice_and_a_one_key_group_costs_one(s3: Any) -> None:
    many_keys(s3, 2100)  # the group id=u holds one key, u-00000, after the 2,100 keys of id=p
    job = split_job(s3, {"kind": "records", "resource": "users"}, shardRecords=1000, listPageKeys=100)
    asked = probes_asked(s3)
    _, out = run_loop(split_unit, s3, job)
    after = [a for _, a in asked]
    assert len(after) == len(set(after))  # a group's first key found in one round starts the next round's search
    assert [p for p, _ in asked].count("app/resource=users/data/id=u") == 1  # and one probe proves it ends there
    ids = exported_ids(s3, job, out, "users")
    assert ids == sorted(["u-00000", *(f"p-{i:05d}" for i in range(2100))])


def nanoid_keys(s3: Any, n: int) -> list[str]:
    """n random s3db.js-like ids in resource notes, with the fake database's own; every records key, sorted."""
    write_fake_database(s3, "srcdb", "app", records=1)
    alphabet = "useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict"  # nanoid's, as s3db.js uses
    rng = random.Random(3)
    for _ in range(n):
        rid = "".join(rng.choice(alphabet) for _ in range(22))
        s3.put_object(Bucket="srcdb", Key=f"app/resource=notes/data/id={rid}", Body=b"", Metadata={"_v": "v1"})
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket="srcdb", Prefix="app/resource=notes/data/")
    return sorted(o["Key"].removeprefix("app/resource=notes/data/id=") for p in pages for o in p.get("Contents", []))


def test_random_ids_are_split_by_first_character_and_estimated_closely(s3: Any) -> None:
    ids = nanoid_keys(s3, 1100)
    job = split_job(s3, {"kind": "records", "resource": "notes"}, shardRecords=100, listPageKeys=50)
    prefixes = listed_prefixes(s3)
    _, out = run_loop(split_unit, s3, job)
    assert prefixes == ["app/resource=notes/data/"]  # the folder's first page; the groups are found by probes
    plan = json.loads(s3.get_object(Bucket="backups", Key=f"{job['backupId']}/.work/shards/notes.jsonl.gz.json")
                      ["Body"].read())
    groups = {r["prefix"].removeprefix("resource=notes/data/id=") for r in plan["ranges"] if r["prefix"]}
    assert groups == {rid[0] for rid in ids[50:]}  # one range per first character left
    assert abs(out["keys"] + out["estimate"] - len(ids)) < 0.25 * len(ids)  # random ids spread evenly
    assert 8 <= len(out["shards"]) <= 16
    counts = listed_keys(s3)
    assert exported_ids(s3, job, out, "notes") == ids  # every key once, in key order
    assert sum(counts) == len(ids) - 50  # each group listed once, under its own prefix


@pytest.mark.parametrize("most", [2, 5, 9])
def test_a_split_cut_short_by_the_range_budget_still_lists_every_key_once(
    s3: Any, monkeypatch: pytest.MonkeyPatch, most: int
) -> None:
    monkeypatch.setattr(split, "MAX_RANGES", most)  # too few for a group per character: a tail range takes the rest
    ids = nanoid_keys(s3, 600)
    job = split_job(s3, {"kind": "records", "resource": "notes"}, shardRecords=100, listPageKeys=40)
    _, out = run_loop(split_unit, s3, job)
    stored = json.loads(s3.get_object(Bucket="backups", Key=f"{job['backupId']}/.work/shards/notes.jsonl.gz.json")
                        ["Body"].read())
    assert len({r["prefix"] for r in stored["ranges"] if r["prefix"]}) < most  # groups; a tail takes the rest
    exported = []
    for shard in out["shards"]:
        run_loop(export_chunk, s3, job | {"shard": shard})
        name = "notes.jsonl.gz" if len(out["shards"]) == 1 else f"notes/shard-{shard['index']:05d}.jsonl.gz"
        exported += [line["id"] for line in file_lines(s3, job["backupId"], name)]
    assert exported == ids  # every key once, in key order


def test_the_backup_holds_what_the_split_listed_and_leaves_later_writes_to_the_next_one(s3: Any) -> None:
    write_fake_database(s3, "srcdb", "app", records=30)
    job = split_job(s3, {"kind": "records", "resource": "users"}, shardRecords=10)
    _, split_out = run_loop(split_unit, s3, job)
    late = ["a-first", "u-00004x", "u-00015x", "zz-last"]  # before, inside shard 0, inside shard 1, after
    for rid in late:
        s3.put_object(Bucket="srcdb", Key=f"app/resource=users/data/id={rid}", Body=b"", Metadata={"_v": "v1"})
    s3.delete_object(Bucket="srcdb", Key="app/resource=users/data/id=u-00012")
    files = []
    for shard in split_out["shards"]:
        run_loop(export_chunk, s3, job | {"shard": shard})
        files.append(f"users/shard-{shard['index']:05d}.jsonl.gz")
    ids = [line["id"] for f in files for line in file_lines(s3, job["backupId"], f)]
    assert ids == [f"u-{i:05d}" for i in range(30) if i != 12]  # in order, once each, nothing written later
    shard1 = json.loads(s3.get_object(Bucket="backups", Key=f"{job['backupId']}/.work/units/users/"
                                      "shard-00001.jsonl.gz.json")["Body"].read())
    assert shard1["file"]["vanished"] == 1  # deleted after it was listed: counted, not an error

    result, _ = backup(s3, "s3://srcdb/app", STORE, shardRecords=10)  # the next backup has them
    users = manifest_of(s3, result["backupId"]).resources["users"]
    assert users["recordCount"] == 33


def test_too_many_shards_are_merged_so_the_state_stays_small(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(split, "MAX_SHARDS", 3)
    write_fake_database(s3, "srcdb", "app", records=40)
    result, _ = backup(s3, "s3://srcdb/app", STORE, shardRecords=2)
    files = manifest_of(s3, result["backupId"]).resources["users"]["exportFiles"]
    assert len(files) <= 3
    assert lines_in_order(s3, result["backupId"], files) == 40


@pytest.mark.parametrize(("options", "problem"), [({"shardRecords": 0}, "shardRecords must be at least 1"),
                                                   ({"listPageKeys": 0}, "listPageKeys must be between"),
                                                   ({"listPageKeys": 100_001}, "listPageKeys must be between")])
def test_split_settings_out_of_range_are_refused_before_anything_is_written(
    s3: Any, options: dict[str, int], problem: str
) -> None:
    write_fake_database(s3, "srcdb", "app", records=1)
    with pytest.raises(ConfigError, match="invalid settings") as info:
        plan_backup(s3, source="s3://srcdb/app", store=STORE, options=options)
    assert problem in info.value.description
    assert s3.list_objects_v2(Bucket="backups").get("KeyCount", 0) == 0
