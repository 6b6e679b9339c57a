"""One backup in a process of its own, so its CPU time and peak RSS are the exporter's alone. Runs the
engine the way the workflow does (plan; up to 8 units at once, each split then its shards' chunk loops;
manifest) without the local Step Functions emulation, whose overhead does not exist on AWS.

    python -m benchmarks.exporter --endpoint URL --source s3://B/P --store s3://B/P [--compression gzip]
        [--get obstore|boto3] [--concurrency 16] [--list-page-keys N]

Prints one JSON line: seconds, cpuSeconds, peakRssMiB, splitSeconds (the longest unit's listing and cut) and
splitSpans (each unit's) and span (the whole backup's), as time.monotonic() pairs, so a driver that stops
this process can take its stops out; records, bytes, rawBytes.
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
from s3db_backup.export.split import split_unit
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
    p.add_argument("--list-page-keys", type=int, help="the listPageKeys setting (default: the engine's)")
    args = p.parse_args()
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name="us-east-1")
    s3 = make_s3_client(endpoint_url=args.endpoint, session=session)
    getter = (obstore_getter(S3Location.parse(args.source), session=session, region="us-east-1",
                             endpoint_url=args.endpoint) if args.get == "obstore" else None)
    started, cpu0 = time.monotonic(), _cpu()
    options = {"compression": args.compression, "concurrency": args.concurrency}
    if args.list_page_keys:
        options["listPageKeys"] = args.list_page_keys
    plan = plan_backup(s3, source=args.source, store=args.store, options=options)

    def loop(step: Any, job: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        state: dict[str, Any] = {"job": job, "cursor": None, "done": False}
        while not state["done"]:
            state = step(s3, state["job"], state["cursor"], deadline=float("inf"), **kwargs)
        return state

    split_spans: list[tuple[float, float]] = []  # time.monotonic(): one clock for every process on Linux

    def run_unit(unit: dict[str, Any]) -> None:
        job = {k: plan[k] for k in ("backupId", "source", "store", "settings")} | {"unit": unit}
        split_started = time.monotonic()
        shards = loop(split_unit, job)["shards"]
        split_spans.append((split_started, time.monotonic()))
        with ThreadPoolExecutor(8) as shard_pool:  # the workflow's inner Map (shardConcurrency 8)
            list(shard_pool.map(lambda shard: loop(export_chunk, job | {"shard": shard}, getter=getter), shards))

    with ThreadPoolExecutor(8) as pool:  # the workflow's Map over units (mapConcurrency 8)
        list(pool.map(run_unit, plan["units"]))
    result = write_manifest(s3, backup_id=plan["backupId"], store=args.store)
    seconds, cpu = time.monotonic() - started, _cpu() - cpu0
    manifest = json.loads(s3.get_object(Bucket=S3Location.parse(args.store).bucket,
                                        Key=f"{S3Location.parse(args.store).key(plan['backupId'])}/s3db.json")
                          ["Body"].read())
    sys.stdout.write(json.dumps({
        "seconds": seconds, "cpuSeconds": cpu,
        "peakRssMiB": peak_rss_mib(), "splitSeconds": max((end - start for start, end in split_spans), default=0.0),
        "splitSpans": split_spans, "span": (started, started + seconds),
        "records": result["records"], "bytes": result["bytes"], "rawBytes": manifest["totals"]["rawBytes"],
    }) + "\n")


def peak_rss_mib() -> float:
    """This process's own peak RSS: VmHWM of its address space. Not ru_maxrss: Linux carries the parent's
    high-water mark into a child started with vfork+exec (as subprocess does), so a child's ru_maxrss
    reports the benchmark driver's peak, not its own (it made every size look like the largest)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
