"""Drives the engine the way the state machines do (plan -> chunk loops -> manifest), without Step
Functions, so engine behaviour can be tested quickly and precisely. The workflow itself is tested by
running the synthesized state machines (tests/integration)."""

from __future__ import annotations

import os
import random
from typing import Any

from s3db_backup.export.chunk import export_chunk
from s3db_backup.export.manifest_writer import write_manifest
from s3db_backup.export.plan import plan_backup
from s3db_backup.export.split import split_unit
from s3db_backup.restore.chunk import import_chunk, verify_chunk
from s3db_backup.restore.finalize import finalize_restore
from s3db_backup.restore.plan import plan_restore

FAR = float("inf")


def run_loop(step: Any, s3: Any, job: dict[str, Any], *, deadline: float = FAR) -> tuple[int, dict[str, Any]]:
    state: dict[str, Any] = {"job": job, "cursor": None}
    calls = 0
    while True:
        calls += 1
        state = step(s3, state["job"], state["cursor"], deadline=deadline)
        assert len(str(state)) < 4096, "state passed between states must stay small"
        if state["done"]:
            return calls, state


def backup(s3: Any, source: str, store: str, **options: Any) -> tuple[dict[str, Any], dict[str, int]]:
    plan = plan_backup(s3, source=source, store=store, options=options)
    calls = {}
    for unit in plan["units"]:
        job = {k: plan[k] for k in ("backupId", "source", "store", "settings")} | {"unit": unit}
        _, split = run_loop(split_unit, s3, job)
        n = 0
        for shard in split["shards"]:  # the shard Map: {"job", "shard", "cursor": null}
            m, _ = run_loop(export_chunk, s3, job | {"shard": shard})
            n += m
        calls[f"{unit['kind']}:{unit['resource']}"] = n
    result = write_manifest(s3, backup_id=plan["backupId"], store=store)
    return result, calls


def restore(s3: Any, backup_id: str, store: str, **kwargs: Any) -> dict[str, Any]:
    plan = plan_restore(s3, backup_id=backup_id, store=store, **kwargs)
    jobs = [{k: plan[k] for k in ("restoreId", "backupId", "store", "target", "overwrite", "settings")}
            | {"unit": unit} for unit in plan["units"]]
    for job in jobs:
        run_loop(verify_chunk, s3, job)
    for job in jobs:
        run_loop(import_chunk, s3, job)
    return finalize_restore(s3, restore_id=plan["restoreId"], store=store)


def write_fake_database(s3: Any, bucket: str, prefix: str, *, records: int = 50, big_bodies: int = 0,
                        seed: int = 7) -> dict[str, Any]:
    """A database laid out the way s3db.js lays one out (keys, short metadata keys, partition references,
    an overflow body), for engine tests that need exact control. Real s3db.js data: tests/interop."""
    rng = random.Random(seed)
    schema = ('{"version":"1","s3dbVersion":"21.6.2","resources":{"users":{"currentVersion":"v1",'
              '"versions":{"v1":{"attributes":{"name":"string","country":"string"},'
              '"partitions":{"byCountry":{"fields":{"country":"string"}}}}}},'
              '"notes":{"currentVersion":"v1","versions":{"v1":{"attributes":{"text":"string"},'
              '"behavior":"body-overflow"}}}}}')
    s3.put_object(Bucket=bucket, Key=f"{prefix}/s3db.json", Body=schema.encode(), ContentType="application/json")
    objects: dict[str, Any] = {}
    for i in range(records):
        rid = f"u-{i:05d}"
        country = rng.choice(["BR", "US", "JP"])
        meta = {"_v": "v1", "0": f"name {i} ✓".encode().hex(), "1": country}
        key = f"{prefix}/resource=users/data/id={rid}"
        s3.put_object(Bucket=bucket, Key=key, Body=b"", Metadata=meta, ContentType="application/json")
        objects[key] = meta
        ref = f"{prefix}/resource=users/partition=byCountry/country={country}/id={rid}"
        s3.put_object(Bucket=bucket, Key=ref, Body=b"", Metadata={"_v": "v1"})
        objects[ref] = {"_v": "v1"}
    for i in range(max(records // 5, 1)):
        key = f"{prefix}/resource=notes/data/id=n-{i:04d}"
        body = ("é" * rng.randint(0, 3000)).encode()
        s3.put_object(Bucket=bucket, Key=key, Body=body, Metadata={"_v": "v1", "$overflow": "true"},
                      ContentType="application/json")
        objects[key] = body
    for i in range(big_bodies):  # incompressible bodies, to make files span several 5 MiB parts
        key = f"{prefix}/resource=notes/data/id=z-{i:04d}"
        s3.put_object(Bucket=bucket, Key=key, Body=os.urandom(256 * 1024), Metadata={"_v": "v1"},
                      ContentType="application/octet-stream")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/plugin=cache/entry-1", Body=b"cached")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/loose.txt", Body=b"\x00\xffbinary", ContentType="text/plain")
    return objects


def snapshot_objects(s3: Any, bucket: str, prefix: str) -> dict[str, tuple[Any, ...]]:
    """Every object under prefix as (metadata, content type, body), keyed by its relative key."""
    out: dict[str, tuple[Any, ...]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/"):
        for o in page.get("Contents", []):
            r = s3.get_object(Bucket=bucket, Key=o["Key"])
            out[o["Key"][len(prefix) + 1 :]] = (r.get("Metadata"), r.get("ContentType"), r["Body"].read())
    return out
