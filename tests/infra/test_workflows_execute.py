"""The packaged backup and restore definitions execute as the contract says (moto Step Functions).

Fake handlers stand in for functions/: they record what the ASL passes them and answer in the shapes of
docs/architecture.md, so these tests pin the state input/output contract of every handler.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.sfn_harness import Recorder, lambda_error, local_step_functions

STORE = "s3://backups/main/"
SOURCE = "s3://app-data/databases/main/"
BACKUP_ID = "full-2025-01-02T02-00-00-abc123"
RESOURCES = ("users", "orders", "events")
EXPORT_CALLS_PER_UNIT = 3
VERIFY_CALLS_PER_UNIT = 2
IMPORT_CALLS_PER_UNIT = 3


class BackupError(Exception):
    """Stands in for s3db_backup.errors.BackupError: str() is a JSON object."""

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(json.dumps({"name": "BackupError", "message": message, **context}))


def chunk_handler(calls_per_unit: int, *, fail_at: tuple[str, int] | None = None, time_out_once=None):
    """A chunk handler that reports done after `calls_per_unit` calls of a unit.

    fail_at: (unit name, call number) raising BackupError; time_out_once: same, timing out once.
    """
    timed_out: set[tuple[str, int]] = set()

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        job, cursor = event["job"], event["cursor"]
        unit = job["unit"]
        name = unit.get("resource") or unit.get("file")
        call = (cursor or {"calls": 0})["calls"] + 1
        if fail_at == (name, call):
            raise BackupError("disk on fire", operation="export", resource=name)
        if time_out_once == (name, call) and (name, call) not in timed_out:
            timed_out.add((name, call))
            raise lambda_error("Sandbox.Timedout", "Task timed out after 900.00 seconds")
        return {"job": job, "cursor": {"calls": call, "key": f"{name}/{call}"}, "done": call >= calls_per_unit}

    return handler


def split_handler(shards: dict[str, int]) -> Any:
    """SplitUnit answering at once with `shards[resource]` shards (default 1)."""

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        count = shards.get(event["job"]["unit"]["resource"], 1)
        return {"job": event["job"], "cursor": None, "done": True,
                "shards": [{"index": i, "count": count} for i in range(count)]}

    return handler


def backup_handlers(shards: dict[str, int] | None = None, **export_options: Any) -> dict[str, Any]:
    return {
        "SplitUnit": split_handler(shards or {}),
        "PlanBackup": lambda event: {
            "backupId": BACKUP_ID,
            "source": event["source"],
            "store": event["store"],
            "type": event["type"],
            "units": [{"resource": name, "kind": "records"} for name in RESOURCES],
            "settings": {"partSizeMiB": 8, "compression": "gzip"},
            "retention": {"count": event.get("options", {}).get("retentionCount", 7)},
        },
        "ExportChunk": chunk_handler(EXPORT_CALLS_PER_UNIT, **export_options),
        "WriteManifest": lambda event: {
            "backupId": event["backupId"],
            "status": "completed",
            "records": 90,
            "bytes": 123456,
            "files": 3,
        },
        "PruneRetention": lambda event: {"kept": [event["backupId"]], "deleted": []},
        "FailBackup": lambda event: {"backupId": event["backupId"], "status": "failed"},
    }


RESTORE_UNITS = [{"file": f"{name}.jsonl.gz"} for name in RESOURCES]


def restore_handlers(*, verify_fail_at=None) -> dict[str, Any]:
    return {
        "PlanRestore": lambda event: {
            "restoreId": "restore-2025-01-03T10-00-00-def456",
            "backupId": event["backupId"],
            "store": event["store"],
            "target": event["target"] or SOURCE,
            "overwrite": event["overwrite"],
            "units": RESTORE_UNITS,
            "settings": {"compression": "gzip"},
        },
        "VerifyChunk": chunk_handler(VERIFY_CALLS_PER_UNIT, fail_at=verify_fail_at),
        "ImportChunk": chunk_handler(IMPORT_CALLS_PER_UNIT),
        "FinalizeRestore": lambda event: {
            "restoreId": event["restoreId"],
            "backupId": event["backupId"],
            "target": event["target"],
            "records": 90,
            "status": "completed",
        },
        "FailRestore": lambda event: {"restoreId": event["restoreId"], "status": "failed"},
    }


BACKUP_INPUT = {"source": SOURCE, "store": STORE, "type": "full", "options": {"retentionCount": 5}}
RESTORE_INPUT = {"backupId": BACKUP_ID, "store": STORE, "target": None, "overwrite": False, "resources": None}


def unit_calls(recorder: Recorder, function: str) -> dict[str, list[Any]]:
    """Cursors each unit's chunk calls received, in order, by unit name."""
    by_unit: dict[str, list[Any]] = {}
    for call in recorder.of(function):
        unit = call.event["job"]["unit"]
        by_unit.setdefault(unit.get("resource") or unit.get("file"), []).append(call.event["cursor"])
    return by_unit


def test_backup_visits_every_unit_and_loops_until_done():
    with local_step_functions(backup_handlers()) as (sfn, recorder):
        result = sfn.run("backup", BACKUP_INPUT)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == {
        "backupId": BACKUP_ID,
        "store": STORE,
        "records": 90,
        "bytes": 123456,
        "status": "completed",
    }
    assert len(result.output_text) < 512

    assert recorder.of("PlanBackup")[0].event == BACKUP_INPUT
    cursors = unit_calls(recorder, "ExportChunk")
    assert sorted(cursors) == sorted(RESOURCES)
    for name, seen in cursors.items():
        # the first call starts from null; each next call resumes from the cursor the last one returned
        assert seen == [None, {"calls": 1, "key": f"{name}/1"}, {"calls": 2, "key": f"{name}/2"}]
    first = recorder.of("ExportChunk")[0].event
    assert set(first) == {"job", "shard", "cursor"} and first["shard"] == {"index": 0, "count": 1}
    assert first["job"]["backupId"] == BACKUP_ID
    assert first["job"]["settings"] == {"partSizeMiB": 8, "compression": "gzip"}
    assert {first["job"]["source"], first["job"]["store"]} == {SOURCE, STORE}

    assert recorder.of("WriteManifest")[0].event == {"backupId": BACKUP_ID, "source": SOURCE, "store": STORE}
    assert recorder.of("PruneRetention")[0].event == {
        "backupId": BACKUP_ID,
        "store": STORE,
        "retention": {"count": 5},
    }
    export_seqs = [call.seq for call in recorder.of("ExportChunk")]
    assert max(export_seqs) < recorder.of("WriteManifest")[0].seq < recorder.of("PruneRetention")[0].seq
    assert recorder.of("FailBackup") == []


def test_each_unit_is_split_and_every_shard_runs_its_own_chunk_loop():
    with local_step_functions(backup_handlers(shards={"users": 3})) as (sfn, recorder):
        result = sfn.run("backup", BACKUP_INPUT)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert sorted(c.event["job"]["unit"]["resource"] for c in recorder.of("SplitUnit")) == sorted(RESOURCES)
    starts = [c.event for c in recorder.of("ExportChunk") if c.event["cursor"] is None]
    users = sorted(e["shard"]["index"] for e in starts if e["job"]["unit"]["resource"] == "users")
    assert users == [0, 1, 2]
    assert len(unit_calls(recorder, "ExportChunk")["users"]) == 3 * EXPORT_CALLS_PER_UNIT
    split_seqs = [c.seq for c in recorder.of("SplitUnit") if c.event["job"]["unit"]["resource"] == "users"]
    first_users_export = min(c.seq for c in recorder.of("ExportChunk")
                             if c.event["job"]["unit"]["resource"] == "users")
    assert max(split_seqs) < first_users_export


def test_backup_error_is_not_retried_and_marks_the_backup_failed():
    with local_step_functions(backup_handlers(fail_at=("orders", 2))) as (sfn, recorder):
        result = sfn.run("backup", BACKUP_INPUT)

    assert result.status == "FAILED"
    assert result.error == "BackupError"
    assert json.loads(json.loads(result.cause)["errorMessage"])["message"] == "disk on fire"
    # the failing chunk ran exactly once: handler errors are never retried
    assert unit_calls(recorder, "ExportChunk")["orders"].count({"calls": 1, "key": "orders/1"}) == 1
    (marked,) = recorder.of("FailBackup")
    assert set(marked.event) == {"backupId", "source", "store", "error"}
    assert marked.event["backupId"] == BACKUP_ID
    assert marked.event["error"]["Error"] == "BackupError"
    assert marked.event["error"]["Cause"] == result.cause
    assert recorder.of("WriteManifest") == []


def test_plan_failure_fails_without_marking_anything():
    handlers = backup_handlers()

    def plan(event):
        raise BackupError("no s3db.json at source")

    handlers["PlanBackup"] = plan
    with local_step_functions(handlers) as (sfn, recorder):
        result = sfn.run("backup", BACKUP_INPUT)

    assert (result.status, result.error) == ("FAILED", "BackupError")
    assert [call.function for call in recorder.calls] == ["PlanBackup"]


def test_a_timed_out_chunk_is_retried_from_the_same_cursor():
    with local_step_functions(backup_handlers(time_out_once=("users", 2))) as (sfn, recorder):
        result = sfn.run("backup", BACKUP_INPUT)

    assert result.status == "SUCCEEDED"
    users = unit_calls(recorder, "ExportChunk")["users"]
    assert users.count({"calls": 1, "key": "users/1"}) == 2
    assert len(users) == EXPORT_CALLS_PER_UNIT + 1


def test_restore_verifies_everything_before_importing():
    with local_step_functions(restore_handlers()) as (sfn, recorder):
        result = sfn.run("restore", RESTORE_INPUT)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == {
        "restoreId": "restore-2025-01-03T10-00-00-def456",
        "backupId": BACKUP_ID,
        "target": SOURCE,
        "records": 90,
        "status": "completed",
    }
    assert len(result.output_text) < 512
    files = sorted(unit["file"] for unit in RESTORE_UNITS)
    verify, import_ = unit_calls(recorder, "VerifyChunk"), unit_calls(recorder, "ImportChunk")
    assert sorted(verify) == sorted(import_) == files
    assert all(len(seen) == VERIFY_CALLS_PER_UNIT for seen in verify.values())
    assert all(len(seen) == IMPORT_CALLS_PER_UNIT for seen in import_.values())
    assert max(c.seq for c in recorder.of("VerifyChunk")) < min(c.seq for c in recorder.of("ImportChunk"))
    job = recorder.of("ImportChunk")[0].event["job"]
    assert set(job) == {"restoreId", "backupId", "store", "target", "overwrite", "settings", "unit"}
    assert (job["target"], job["overwrite"]) == (SOURCE, False)
    assert recorder.of("FinalizeRestore")[0].event == {
        "restoreId": "restore-2025-01-03T10-00-00-def456",
        "backupId": BACKUP_ID,
        "store": STORE,
        "target": SOURCE,
    }
    assert recorder.of("FailRestore") == []


def test_restore_verify_failure_writes_nothing_and_records_the_failure():
    with local_step_functions(restore_handlers(verify_fail_at=("orders.jsonl.gz", 1))) as (sfn, recorder):
        result = sfn.run("restore", RESTORE_INPUT)

    assert (result.status, result.error) == ("FAILED", "BackupError")
    assert recorder.of("ImportChunk") == []
    assert recorder.of("FinalizeRestore") == []
    (failed,) = recorder.of("FailRestore")
    assert set(failed.event) == {"restoreId", "backupId", "store", "target", "error"}
    assert failed.event["error"]["Error"] == "BackupError"


@pytest.mark.parametrize("name", ["backup", "restore"])
def test_every_execution_name_is_accepted_twice(name):
    handlers = {**backup_handlers(), **restore_handlers()}
    execution_input = BACKUP_INPUT if name == "backup" else RESTORE_INPUT
    with local_step_functions(handlers) as (sfn, _recorder):
        assert [sfn.run(name, execution_input).status for _ in range(2)] == ["SUCCEEDED"] * 2
