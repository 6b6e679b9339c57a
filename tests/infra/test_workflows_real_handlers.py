"""The packaged workflows drive the real handlers (functions/) end to end: backup, then restore to a new
prefix, in moto (Step Functions executing, S3 in-process). Proves the state shapes the ASL passes are the
ones the handlers read and return."""

from __future__ import annotations

import importlib
import json
from typing import Any

import boto3
import pytest

from tests.infra.sfn_harness import REGION, WORKFLOWS, local_step_functions
from tests.unit.engine_driver import snapshot_objects, write_fake_database


def real_handlers() -> dict[str, Any]:
    handlers = {}
    for spec in json.loads((WORKFLOWS / "functions.json").read_text()):
        module, name = spec["handler"].rsplit(".", 1)
        function = getattr(importlib.import_module(module), name)
        handlers[spec["id"]] = lambda event, function=function: function(event, None)
    return handlers


@pytest.fixture
def runtime_s3():
    runtime = importlib.import_module("functions._runtime")
    yield runtime
    runtime.use_s3_client(None)


def test_backup_then_restore_to_a_new_prefix(runtime_s3, monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    with local_step_functions(real_handlers()) as (sfn, recorder):
        s3 = boto3.client("s3", region_name=REGION)
        runtime_s3.use_s3_client(s3)
        s3.create_bucket(Bucket="srcdb")
        s3.create_bucket(Bucket="backups")
        write_fake_database(s3, "srcdb", "db", records=30)

        backup = sfn.run(
            "backup",
            {"source": "s3://srcdb/db", "store": "s3://backups/b", "type": "full", "options": {"retentionCount": 2}},
            timeout=60,
        )
        assert backup.status == "SUCCEEDED", (backup.error, backup.cause)
        assert set(backup.output) == {"backupId", "store", "records", "bytes", "status"}
        assert backup.output["status"] == "completed"

        restore = sfn.run(
            "restore",
            {
                "backupId": backup.output["backupId"],
                "store": "s3://backups/b",
                "target": "s3://srcdb/restored",
                "overwrite": False,
                "resources": None,
            },
            timeout=60,
        )
        assert restore.status == "SUCCEEDED", (restore.error, restore.cause)
        assert restore.output["status"] == "completed"
        assert len(restore.output_text) < 4096
        assert snapshot_objects(s3, "srcdb", "restored") == snapshot_objects(s3, "srcdb", "db")
    assert not recorder.of("FailBackup") and not recorder.of("FailRestore")
