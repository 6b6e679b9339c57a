"""The `s3db-backup` command.

    s3db-backup backup  --source s3://BUCKET/PREFIX --store s3://BUCKET/PREFIX [--json]
    s3db-backup list    --store s3://BUCKET/PREFIX [--json]
    s3db-backup restore BACKUP_ID --store s3://BUCKET/PREFIX [--target s3://BUCKET/PREFIX] [--overwrite] [--json]
    s3db-backup demo

backup and restore run the packaged state machines locally (moto's Step Functions emulation, handlers in
this process); S3 is the endpoint of the standard AWS environment or --endpoint-url. Heavy modules are
imported inside the commands so that --help and list answer at once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _csv(value: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list of names")
    return items


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="s3db-backup",
        description="Backup and restore of s3db.js databases, through the same Step Functions workflow "
        "that runs on AWS (executed locally here).",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    common.add_argument("--endpoint-url", default=None,
                        help="S3 endpoint (default: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL / AWS)")
    common.add_argument("--quiet", action="store_true", help="no progress on stderr")
    tuning = argparse.ArgumentParser(add_help=False)
    tuning.add_argument("--concurrency", type=int, help="objects fetched or written at once per chunk (32)")
    tuning.add_argument("--chunk-max-lines", type=int, help="stop each chunk after N lines (0 = time only)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("backup", parents=[common, tuning], help="take a full or selective backup")
    b.add_argument("--source", required=True, help="the database: s3://BUCKET/PREFIX")
    b.add_argument("--store", required=True, help="where backups live: s3://BUCKET/PREFIX")
    b.add_argument("--type", default="full", choices=["full"], help="backup type (full)")
    b.add_argument("--resources", type=_csv, help="only these resources (comma-separated, * patterns)")
    b.add_argument("--exclude", type=_csv, help="skip these resources (comma-separated, * patterns)")
    b.add_argument("--part-size-mib", type=float, help="multipart part size in MiB (8; at least 5)")
    b.add_argument("--retention", type=int, help="complete backups to keep (7)")
    b.add_argument("--shard-records", type=int,
                   help="split a resource with more keys into parallel shards of this many keys (100000)")
    b.add_argument("--list-page-keys", type=int,
                   help="keys asked for per LIST page (10000; AWS gives at most 1000 whatever is asked)")
    b.add_argument("--compression", choices=["gzip", "zstd", "brotli", "deflate", "none"],
                   help="codec of the backup files (gzip)")
    b.add_argument("--encryption", choices=["none", "kms", "passphrase"],
                   help="AES-256-GCM per part with a KMS data key or a passphrase (none)")
    b.add_argument("--kms-key-id", help="KMS key for --encryption kms")
    b.add_argument("--passphrase-secret",
                   help="Secrets Manager secret holding the passphrase (default: env S3DB_BACKUP_PASSPHRASE)")

    ls = sub.add_parser("list", parents=[common], help="list backups in a store, newest first")
    ls.add_argument("--store", required=True, help="s3://BUCKET/PREFIX")

    r = sub.add_parser("restore", parents=[common, tuning], help="restore a backup")
    r.add_argument("backup_id", metavar="BACKUP_ID")
    r.add_argument("--store", required=True, help="s3://BUCKET/PREFIX")
    r.add_argument("--target", help="where to restore (default: the backup's source)")
    r.add_argument("--overwrite", action="store_true", help="replace objects that exist in the target")
    r.add_argument("--resources", type=_csv, help="only these resources (comma-separated)")

    d = sub.add_parser("demo", help="run the whole job locally on an embedded S3 and a sample database")
    d.add_argument("--records", type=int, default=1000, help="records per resource (1000)")
    d.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    return parser


def _options(args: argparse.Namespace) -> dict[str, Any]:
    names = {"concurrency": "concurrency", "chunk_max_lines": "chunkMaxLines", "part_size_mib": "partSizeMiB",
             "retention": "retentionCount", "resources": "resources", "exclude": "exclude",
             "compression": "compression", "encryption": "encryption", "kms_key_id": "kmsKeyId",
             "passphrase_secret": "passphraseSecret", "shard_records": "shardRecords",
             "list_page_keys": "listPageKeys"}
    return {key: getattr(args, attr) for attr, key in names.items() if getattr(args, attr, None) is not None}


def _s3(args: argparse.Namespace) -> tuple[Any, Any]:
    """The S3 client and the boto3 session it was made from (the standard credentials chain)."""
    import boto3

    from s3db_backup.s3client import make_s3_client

    session = boto3.session.Session()
    return make_s3_client(endpoint_url=args.endpoint_url, session=session), session


def _emit(args: argparse.Namespace, payload: dict[str, Any], human: str) -> None:
    if args.json:
        sys.stdout.write(json.dumps(payload, sort_keys=True, default=str) + "\n")
    else:
        sys.stdout.write(human + "\n")


def cmd_backup(args: argparse.Namespace) -> int:
    from s3db_backup.local.jobs import run_backup
    from s3db_backup.local.progress import Progress

    client, session = _s3(args)
    result = run_backup(client, source=args.source, store=args.store, backup_type=args.type,
                        options=_options(args), progress=Progress(quiet=args.quiet), session=session)
    out = result.output
    payload = {"backupId": out.get("backupId"), "status": "completed", "records": out.get("records", 0),
               "bytes": out.get("bytes", 0), "store": args.store, "source": args.source,
               "seconds": round(result.seconds, 3), **_backup_counts(client, args.store, out.get("backupId"))}
    rate = payload["records"] / result.seconds if result.seconds else 0.0
    kept = (f"; {payload['unrecognized']:,} unrecognized objects kept as stored"
            if payload.get("unrecognized") else "")
    _emit(args, payload, f"backup {payload['backupId']} completed: {payload['records']:,} records, "
          f"{payload['bytes']:,} bytes in {result.seconds:.1f} s ({rate:,.0f} records/s){kept}")
    return EXIT_OK


def _backup_counts(client: Any, store: str, backup_id: str | None) -> dict[str, int]:
    """Counts the state machine's small output leaves out, from the manifest: objects backed up as stored because
    nothing could read them (`unrecognized`) and objects deleted while the backup ran (`vanished`)."""
    from s3db_backup.catalog import BackupPaths, read_manifest
    from s3db_backup.locations import S3Location

    if not backup_id:
        return {}
    totals = read_manifest(client, BackupPaths(S3Location.parse(store), backup_id), "backup").totals
    return {name: int(totals.get(name, 0)) for name in ("objects", "unrecognized", "vanished")}


def cmd_list(args: argparse.Namespace) -> int:
    from s3db_backup.catalog import list_backups
    from s3db_backup.locations import S3Location

    entries = list_backups(_s3(args)[0], S3Location.parse(args.store, operation="list"))
    payload = {"store": args.store, "count": len(entries), "backups": [e.to_dict() for e in entries]}
    rows = [f"{'BACKUP ID':<36} {'STATUS':<11} {'CREATED':<24} {'RECORDS':>10} {'BYTES':>12}"]
    rows += [f"{e.backupId:<36} {e.status:<11} {e.createdAt or '-':<24} {e.records:>10,} {e.bytes:>12,}"
             for e in entries]
    _emit(args, payload, "\n".join(rows) if entries else f"no backups in {args.store}")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from s3db_backup.local.jobs import run_restore
    from s3db_backup.local.progress import Progress

    options = {k: v for k, v in _options(args).items() if k != "resources"}
    result = run_restore(_s3(args)[0], backup_id=args.backup_id, store=args.store, target=args.target,
                         overwrite=args.overwrite, resources=args.resources, options=options,
                         progress=Progress(quiet=args.quiet))
    out = result.output
    payload = {"backupId": args.backup_id, "restoreId": out.get("restoreId"), "status": "completed",
               "target": out.get("target"), "records": out.get("records", 0), "objects": out.get("objects", 0),
               "skipped": out.get("skipped", 0), "bytes": out.get("bytes", 0),
               "seconds": round(result.seconds, 3)}
    _emit(args, payload, f"restore of {args.backup_id} into {payload['target']} completed: "
          f"{payload['records']:,} records and {payload['objects']:,} other objects written, "
          f"{payload['skipped']:,} existing kept, in {result.seconds:.1f} s")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from s3db_backup.demo import run_demo

    return run_demo(records=args.records, as_json=args.json)


COMMANDS = {"backup": cmd_backup, "list": cmd_list, "restore": cmd_restore, "demo": cmd_demo}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    from s3db_backup.errors import BackupError

    try:
        return COMMANDS[args.command](args)
    except BackupError as err:
        _fail(args, err)
        return EXIT_FAILED
    except Exception as exc:  # an S3 or environment failure outside the workflow
        err = BackupError(f"{args.command} failed: {type(exc).__name__}: {exc}", operation=args.command,
                          description="Check the endpoint, credentials and locations.")
        _fail(args, err)
        return EXIT_FAILED


def _fail(args: argparse.Namespace, err: Any) -> None:
    sys.stderr.write(err.describe() + "\n")
    if getattr(args, "json", False):
        payload = {"backupId": getattr(args, "backup_id", None), "status": "failed", "records": 0, "bytes": 0,
                   "error": err.to_dict()}
        sys.stdout.write(json.dumps(payload, sort_keys=True, default=str) + "\n")


if __name__ == "__main__":
    sys.exit(main())
