"""A model of wall time and cost of a backup on AWS, from figures measured here and AWS's published prices
and limits. It prints figures; it is a model, not a measurement on AWS (which these machines cannot reach).

    .venv/bin/python -m benchmarks.cost_model [--cpu-ms-per-record 0.45] [--records 1000000 100000000]

Assumptions (each a flag):
  - client CPU per record: measured by benchmarks.export_bench (obstore GETs, gzip);
  - S3 GET latency for a small object from Lambda: 25 ms (published first-byte latencies are 10-50 ms);
  - in-flight GETs per chunk: 32 (the default `concurrency`); a 1,769 MB function has one vCPU;
  - S3 serves at least 5,500 GET/s per prefix; all records of a resource share the prefix
    `resource=<r>/data/`, so one resource is capped there until S3 splits the prefix (it does under load);
  - a chunk works 840 s (900 s timeout minus the 60 s margin);
  - SplitUnit: about 70 one-key LIST probes, then the listing's pages spread over 64 groups listed at once,
    100 ms per LIST page of 1,000 keys; shards of `shardRecords` keys, `shardConcurrency` at once.
Prices (us-east-1, x86_64): Lambda $0.0000166667 per GB-s and $0.20 per million requests; S3 GET $0.0004 and
PUT/LIST $0.005 per 1,000; Step Functions Standard $0.025 per 1,000 state transitions.
"""

from __future__ import annotations

import argparse
import math

LAMBDA_GB_S = 0.0000166667
LAMBDA_REQUEST = 0.20 / 1_000_000
S3_GET = 0.0004 / 1000
S3_PUT_LIST = 0.005 / 1000
SFN_TRANSITION = 0.025 / 1000


def model(records: int, *, cpu_ms: float, latency_ms: float, in_flight: int, memory_gb: float,
          prefix_cap: float, chunk_seconds: float, part_mib: float, bytes_per_record: float,
          shard_records: int, shard_concurrency: int, list_ms: float, list_ranges: int) -> dict[str, float]:
    shards = max(1, math.ceil(records / shard_records))
    per_lambda = min(in_flight / (latency_ms / 1000), 1000 / cpu_ms)  # records/s of one chunk
    rate = min(per_lambda * min(shards, shard_concurrency), prefix_cap)  # shards share the prefix cap
    pages = math.ceil(records / 1000)
    # SplitUnit: ~70 one-key probes, then the pages of up to `list_ranges` groups listed at once.
    split_seconds = 70 * list_ms / 1000 + math.ceil(pages / min(list_ranges, pages)) * list_ms / 1000
    seconds = split_seconds + records / rate
    lambda_seconds = records / per_lambda + split_seconds  # billed time, summed over shards
    chunks = math.ceil(records / per_lambda / chunk_seconds) + 2 * shards  # + each shard's "complete" step
    splits = math.ceil(split_seconds / chunk_seconds)
    parts = math.ceil(records * bytes_per_record / (part_mib * 1024 * 1024)) + shards
    gets = records + parts  # every object, plus reading each file back for its sha256
    puts_lists = 2 * pages + 70 + 2 * parts + 4 * shards  # LIST pages (split + export), parts + facts, misc
    transitions = 2 * (chunks + splits) + 3 * shards + 12
    cost = {
        "lambda": lambda_seconds * memory_gb * LAMBDA_GB_S + (chunks + splits) * LAMBDA_REQUEST,
        "s3Get": gets * S3_GET,
        "s3PutList": puts_lists * S3_PUT_LIST,
        "stepFunctions": transitions * SFN_TRANSITION,
    }
    return {"shards": shards, "recordsPerSecond": rate, "splitSeconds": split_seconds, "wallSeconds": seconds,
            "chunks": chunks, "lambdaGbSeconds": lambda_seconds * memory_gb, "transitions": transitions,
            **{f"usd.{k}": v for k, v in cost.items()}, "usd.total": sum(cost.values())}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--records", type=int, nargs="+", default=[1_000_000, 100_000_000])
    p.add_argument("--cpu-ms-per-record", type=float, default=0.45)
    p.add_argument("--latency-ms", type=float, default=25.0)
    p.add_argument("--in-flight", type=int, default=32)
    p.add_argument("--memory-gb", type=float, default=1.769)
    p.add_argument("--prefix-cap", type=float, default=5500.0)
    p.add_argument("--chunk-seconds", type=float, default=840.0)
    p.add_argument("--part-mib", type=float, default=8.0)
    p.add_argument("--compressed-bytes-per-record", type=float, default=40.0,
                   help="backup bytes per record (measured: ~28 B for small records with gzip)")
    p.add_argument("--shard-records", type=int, default=100_000, help="the shardRecords option (default)")
    p.add_argument("--shard-concurrency", type=int, default=8, help="shardConcurrency in cdk.json (default)")
    p.add_argument("--list-ms", type=float, default=100.0, help="latency of one LIST page of 1,000 keys")
    args = p.parse_args()
    for n in args.records:
        for label, shard_records in (("one file", max(args.records)), ("sharded", args.shard_records)):
            m = model(n, cpu_ms=args.cpu_ms_per_record, latency_ms=args.latency_ms, in_flight=args.in_flight,
                      memory_gb=args.memory_gb, prefix_cap=args.prefix_cap, chunk_seconds=args.chunk_seconds,
                      part_mib=args.part_mib, bytes_per_record=args.compressed_bytes_per_record,
                      shard_records=shard_records, shard_concurrency=args.shard_concurrency,
                      list_ms=args.list_ms, list_ranges=64)
            print(f"{n:>12,} records, {label:<8} ({m['shards']:>3} shard(s)): {m['recordsPerSecond']:6,.0f} "
                  f"records/s, split {m['splitSeconds']:5.0f} s, wall {m['wallSeconds'] / 60:7.1f} min, "
                  f"{m['chunks']:5} chunks, {m['lambdaGbSeconds']:9,.0f} GB-s, ${m['usd.total']:7.2f} "
                  f"(Lambda ${m['usd.lambda']:.2f}, S3 GET ${m['usd.s3Get']:.2f}, "
                  f"S3 PUT/LIST ${m['usd.s3PutList']:.2f}, Step Functions ${m['usd.stepFunctions']:.3f})")


if __name__ == "__main__":
    main()
