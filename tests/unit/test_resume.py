"""A chunk re-run after a crash (before or after its upload) gives the same final file."""

from __future__ import annotations

import gzip
from typing import Any

from s3db_backup.export.chunk import export_chunk
from s3db_backup.export.manifest_writer import write_manifest
from s3db_backup.export.plan import plan_backup
from tests.unit.engine_driver import FAR, write_fake_database


def export_unit(s3: Any, plan: dict[str, Any], unit: dict[str, Any], *, replay_every: int) -> int:
    """Run a unit's loop, running every `replay_every`-th chunk twice from the same cursor, as a retry
    after a crash would (the first run's effects stay in S3)."""
    job = {k: plan[k] for k in ("backupId", "source", "store", "settings")} | {"unit": unit}
    cursor = None
    calls = 0
    while True:
        calls += 1
        out = export_chunk(s3, job, cursor, deadline=FAR)
        if calls % replay_every == 0 and not out["done"]:
            out = export_chunk(s3, job, cursor, deadline=FAR)
        if out["done"]:
            return calls
        cursor = out["cursor"]


def test_replayed_chunks_do_not_duplicate_or_lose_records(s3: Any) -> None:
    write_fake_database(s3, "srcdb", "app", records=30, big_bodies=44)
    plans = []
    for replay in (10**9, 2):
        plan = plan_backup(s3, source="s3://srcdb/app", store="s3://backups",
                           options={"chunkMaxLines": 6, "partSizeMiB": 5})
        for unit in plan["units"]:
            export_unit(s3, plan, unit, replay_every=replay)
        write_manifest(s3, backup_id=plan["backupId"], store="s3://backups")
        plans.append(plan["backupId"])

    def lines(backup_id: str, name: str) -> list[bytes]:
        body = s3.get_object(Bucket="backups", Key=f"{backup_id}/{name}")["Body"].read()
        return gzip.decompress(body).splitlines()

    for name in ("users.jsonl.gz", "notes.jsonl.gz", "_objects/resource=users.jsonl.gz"):
        assert lines(plans[0], name) == lines(plans[1], name)
    assert len(lines(plans[1], "notes.jsonl.gz")) == 6 + 44


def test_a_vanished_object_is_counted_not_fatal(s3: Any) -> None:
    write_fake_database(s3, "srcdb", "app", records=10)
    plan = plan_backup(s3, source="s3://srcdb/app", store="s3://backups", options={"chunkMaxLines": 3})
    unit = {"kind": "records", "resource": "users"}
    job = {k: plan[k] for k in ("backupId", "source", "store", "settings")} | {"unit": unit}
    out = export_chunk(s3, job, None, deadline=FAR)
    s3.delete_object(Bucket="srcdb", Key="app/resource=users/data/id=u-00005")
    while not out["done"]:
        out = export_chunk(s3, job, out["cursor"], deadline=FAR)
    assert out["records"] == 9


def test_a_chunk_past_its_deadline_still_makes_progress(s3: Any) -> None:
    write_fake_database(s3, "srcdb", "app", records=5)
    plan = plan_backup(s3, source="s3://srcdb/app", store="s3://backups")
    job = {k: plan[k] for k in ("backupId", "source", "store", "settings")} | {
        "unit": {"kind": "records", "resource": "users"}}
    out, calls = export_chunk(s3, job, None, deadline=0.0), 1
    while not out["done"]:
        out, calls = export_chunk(s3, job, out["cursor"], deadline=0.0), calls + 1
        assert calls < 50
    assert out["records"] == 5
