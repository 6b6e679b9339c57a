"""The CLI contract of [1/7]: commands, --json (exactly one JSON object on stdout), exit codes, BackupError
output. Runs the real command in a subprocess against moto_server, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from s3db_backup.local.moto_server import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
from tests.unit.engine_driver import write_fake_database


def cli(*args: str, endpoint: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
           "AWS_DEFAULT_REGION": "us-east-1"}
    env.pop("AWS_ENDPOINT_URL", None)
    if endpoint:
        env["AWS_ENDPOINT_URL_S3"] = endpoint
    return subprocess.run([sys.executable, "-m", "s3db_backup.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300, check=False, cwd=Path(__file__).resolve().parents[2])


def one_json(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert len(lines) == 1, stdout
    return json.loads(lines[0])


@pytest.fixture(scope="module")
def world(moto_server: Any) -> dict[str, str]:
    s3 = boto3.client("s3", endpoint_url=moto_server.endpoint_url, aws_access_key_id=DEFAULT_ACCESS_KEY,
                      aws_secret_access_key=DEFAULT_SECRET_KEY, region_name="us-east-1")
    db = moto_server.create_bucket(f"cli-db-{uuid.uuid4().hex[:8]}")
    store = moto_server.create_bucket(f"cli-store-{uuid.uuid4().hex[:8]}")
    write_fake_database(s3, db, "app", records=40)
    return {"endpoint": moto_server.endpoint_url, "db": db, "store": store}


def test_help_lists_the_commands() -> None:
    out = cli("--help")
    assert out.returncode == 0
    for command in ("backup", "list", "restore", "demo"):
        assert command in out.stdout


def test_backup_list_restore_with_json(world: dict[str, str]) -> None:
    source, store = f"s3://{world['db']}/app", f"s3://{world['store']}/b"
    backup = cli("backup", "--source", source, "--store", store, "--shard-records", "15",
                 "--list-page-keys", "1000", "--json", endpoint=world["endpoint"])
    assert backup.returncode == 0, backup.stderr
    result = one_json(backup.stdout)
    s3 = boto3.client("s3", endpoint_url=world["endpoint"], aws_access_key_id=DEFAULT_ACCESS_KEY,
                      aws_secret_access_key=DEFAULT_SECRET_KEY, region_name="us-east-1")
    manifest = json.loads(s3.get_object(Bucket=world["store"], Key=f"b/{result['backupId']}/s3db.json")["Body"].read())
    assert len(manifest["resources"]["users"]["exportFiles"]) == 3  # 40 records, shards of 15 keys
    assert {"backupId", "status", "records", "bytes"} <= set(result)
    assert result["status"] == "completed" and result["records"] == 48 and result["bytes"] > 0
    assert result["unrecognized"] == 2  # plugin=cache/entry-1 and loose.txt: backed up as stored, reported

    listed = cli("list", "--store", store, "--json", endpoint=world["endpoint"])
    assert listed.returncode == 0, listed.stderr
    entries = one_json(listed.stdout)["backups"]
    assert [e["backupId"] for e in entries] == [result["backupId"]]
    assert entries[0]["status"] == "completed" and entries[0]["records"] == 48

    restored = cli("restore", result["backupId"], "--store", store, "--target", f"s3://{world['db']}/copy",
                   "--json", endpoint=world["endpoint"])
    assert restored.returncode == 0, restored.stderr
    out = one_json(restored.stdout)
    assert (out["backupId"], out["status"], out["records"]) == (result["backupId"], "completed", 48)
    assert {"bytes"} <= set(out)

    human = cli("list", "--store", store, endpoint=world["endpoint"])
    assert result["backupId"] in human.stdout and "completed" in human.stdout


def test_errors_are_backup_errors_with_non_zero_exit(world: dict[str, str]) -> None:
    out = cli("restore", "full-1999-01-01T00-00-00-000000", "--store", f"s3://{world['store']}/b",
              "--target", f"s3://{world['db']}/x", "--json", endpoint=world["endpoint"])
    assert out.returncode == 1
    error = one_json(out.stdout)["error"]
    assert error["name"] == "BackupNotFoundError"
    assert {"name", "message", "description", "driver", "operation"} <= set(error)
    assert "BackupNotFoundError:" in out.stderr and "operation: restore" in out.stderr

    missing = cli("backup", "--source", f"s3://{world['db']}/nothing", "--store", f"s3://{world['store']}/b",
                  endpoint=world["endpoint"])
    assert missing.returncode == 1 and "SourceError" in missing.stderr and "s3db.json" in missing.stderr


def test_usage_errors_exit_2() -> None:
    assert cli("backup", "--store", "s3://x/y").returncode == 2
    assert cli("frobnicate").returncode == 2
