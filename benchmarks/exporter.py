"""One backup in a process of its own, so its CPU time and peak RSS are the exporter's alone. Runs the
engine the way the workflow does (plan, every unit's chunk loop with up to 8 units at once, manifest)
without the local Step Functions emulation, whose overhead does not exist on AWS.

    python -m benchmarks.exporter --endpoint URL --source s3://B/P --store s3://B/P [--compression gzip]
        [--get obstore|boto3] [--concurrency 16]

Prints one JSON line: seconds, cpuSeconds, peakRssMiB, records, bytes, rawBytes.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

from s3db_backup.export.chunk import export_chunk
from s3db_backup.export.manifest_writer import write_manifest
from s3db_backup.export.obstore_getter import obstore_getter
from s3db_backup.export.plan import plan_backup
from s3db_backup.locations import S3Location
from s3db_backup.s3client import make_s3_client


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--store", required=True)
    p.add_argument("--compression", default="gzip")
    p.add_argument("--get", default="obstore", choices=["obstore", "boto3"])
    p.add_argument("--concurrency", type=int, default=16)
    args = p.parse_args()
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name="us-east-1")
    s3 = make_s3_client(endpoint_url=args.endpoint, session=session)
    getter = (obstore_getter(S3Location.parse(args.source), session=session, region="us-east-1",
                             endpoint_url=args.endpoint) if args.get == "obstore" else None)
    started, cpu0 = time.monotonic(), _cpu()
    plan = plan_backup(s3, source=args.source, store=args.store,
                       options={"compression": args.compression, "concurrency": args.concurrency})

    def run_unit(unit: dict[str, Any]) -> None:
        job = {k: plan[k] for k in ("backupId", "source", "store", "settings")} | {"unit": unit}
        state: dict[str, Any] = {"job": job, "cursor": None, "done": False}
        while not state["done"]:
            state = export_chunk(s3, state["job"], state["cursor"], deadline=float("inf"), getter=getter)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(run_unit, plan["units"]))
    result = write_manifest(s3, backup_id=plan["backupId"], store=args.store)
    seconds, cpu = time.monotonic() - started, _cpu() - cpu0
    manifest = json.loads(s3.get_object(Bucket=S3Location.parse(args.store).bucket,
                                        Key=f"{S3Location.parse(args.store).key(plan['backupId'])}/s3db.json")
                          ["Body"].read())
    sys.stdout.write(json.dumps({
        "seconds": seconds, "cpuSeconds": cpu,
        "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "records": result["records"], "bytes": result["bytes"], "rawBytes": manifest["totals"]["rawBytes"],
    }) + "\n")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
