"""`make demo`: the whole job on this machine with no AWS account.

An embedded S3 (moto_server in a child process) receives a sample database written by the real s3db.js
21.6.2; the backup and restore state machines (the CDK-synthesized definitions) run locally; the restored
copy is compared with the original object by object and through s3db.js itself.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DB_BUCKET, STORE_BUCKET = "demo-db", "demo-backups"
KEY = SECRET = "demo"


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def run_demo(*, records: int = 1000, as_json: bool = False) -> int:
    import boto3

    from s3db_backup.catalog import BackupPaths, list_backups, read_manifest
    from s3db_backup.compare import compare_prefixes
    from s3db_backup.local import s3dbjs
    from s3db_backup.local.jobs import run_backup, run_restore
    from s3db_backup.local.moto_server import MotoServer
    from s3db_backup.local.progress import Progress
    from s3db_backup.locations import S3Location
    from s3db_backup.s3client import make_s3_client

    workdir = Path(tempfile.mkdtemp(prefix="s3db-backup-demo-"))
    _say(f"[1/6] starting an embedded S3 (moto_server; log in {workdir})")
    with MotoServer(log_path=workdir / "moto_server.log") as server:
        server.create_bucket(DB_BUCKET)
        server.create_bucket(STORE_BUCKET)
        session = boto3.session.Session(aws_access_key_id=KEY, aws_secret_access_key=SECRET,
                                        region_name="us-east-1")
        s3 = make_s3_client(endpoint_url=server.endpoint_url, session=session)
        source, copy = S3Location(DB_BUCKET, "app"), S3Location(DB_BUCKET, "restored")
        store = S3Location(STORE_BUCKET, "backups")

        _say(f"[2/6] writing a sample database with s3db.js 21.6.2 ({records} records per resource)")
        s3dbjs.ensure_installed()
        t0 = time.monotonic()
        summary = s3dbjs.seed(s3dbjs.connection_string(server.endpoint_url, DB_BUCKET, "app", KEY, SECRET),
                              profile="demo", records=records, seed=1)
        _say(f"      {json.dumps(summary['resources'])} in {time.monotonic() - t0:.1f} s")

        _say(f"[3/6] backup {source} -> {store} through the backup state machine")
        backup = run_backup(s3, source=str(source), store=str(store), progress=Progress(), session=session)
        backup_id = backup.output["backupId"]
        manifest = read_manifest(s3, BackupPaths(store, backup_id), "demo")

        _say(f"[4/6] backups in {store}")
        for entry in list_backups(s3, store):
            _say(f"      {entry.backupId}  {entry.status}  {entry.records:,} records  {entry.bytes:,} bytes")

        _say(f"[5/6] restore {backup_id} -> {copy} through the restore state machine")
        restore = run_restore(s3, backup_id=backup_id, store=str(store), target=str(copy), progress=Progress())

        _say("[6/6] comparing the original and the restored copy")
        comparison = compare_prefixes(s3, source, copy)
        original = s3dbjs.snapshot(s3dbjs.connection_string(server.endpoint_url, DB_BUCKET, "app", KEY, SECRET))
        restored = s3dbjs.snapshot(s3dbjs.connection_string(server.endpoint_url, DB_BUCKET, "restored", KEY,
                                                            SECRET))
    totals = manifest.totals
    result: dict[str, Any] = {
        "backupId": backup_id,
        "status": "completed" if comparison.equal and original == restored else "failed",
        "records": totals["records"],
        "objects": totals["lines"],
        "bytes": totals["bytes"],
        "rawBytes": totals["rawBytes"],
        "compressionRatio": round(totals["rawBytes"] / totals["bytes"], 2) if totals["bytes"] else None,
        "compression": sorted({f.compression for f in manifest.files}),
        "backupSeconds": round(backup.seconds, 2),
        "backupRecordsPerSecond": round(totals["records"] / backup.seconds, 1),
        "backupObjectsPerSecond": round(totals["lines"] / backup.seconds, 1),
        "restoreSeconds": round(restore.seconds, 2),
        "restoredObjects": restore.output.get("records", 0) + restore.output.get("objects", 0),
        "comparedObjects": comparison.objects,
        "identicalObjects": comparison.identical,
        "differences": comparison.different[:10] + comparison.only_in_first[:10] + comparison.only_in_second[:10],
        "s3dbjsReadsSameRecords": original == restored,
        "resources": {name: entry["recordCount"] for name, entry in manifest.resources.items()},
    }
    if as_json:
        sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    else:
        _print_summary(result)
    return 0 if result["status"] == "completed" else 1


def _print_summary(r: dict[str, Any]) -> None:
    lines = [
        "",
        f"backup    {r['backupId']}",
        f"records   {r['records']:,} ({r['objects']:,} objects incl. partition references) in "
        f"{len(r['resources'])} resources: " + ", ".join(f"{k} {v:,}" for k, v in r["resources"].items()),
        f"bytes     {r['rawBytes']:,} JSONL -> {r['bytes']:,} {'/'.join(r['compression'])} "
        f"(ratio {r['compressionRatio']}x)",
        f"backup    {r['backupSeconds']} s, {r['backupRecordsPerSecond']:,} records/s "
        f"({r['backupObjectsPerSecond']:,} objects/s)",
        f"restore   {r['restoreSeconds']} s, {r['restoredObjects']:,} objects written",
        f"compare   {r['identicalObjects']:,}/{r['comparedObjects']:,} objects identical "
        "(key, metadata, content type, body)",
        f"s3db.js   reads the same records and partitions from the copy: {r['s3dbjsReadsSameRecords']}",
        f"result    {r['status'].upper()}",
    ]
    if r["differences"]:
        lines.append("differences: " + ", ".join(r["differences"]))
    sys.stdout.write("\n".join(lines) + "\n")
