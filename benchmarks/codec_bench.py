"""Client CPU of the s3db.js codec per record: decode, encode, and the backup's verify step (decode, re-encode,
compare with the stored object, as archive/records.py does).

    .venv/bin/python -m benchmarks.codec_bench [--iterations 20000] [--profile items]

Three resources: `items`, the benchmark record of interop/bench_template.mjs with the s3db.json s3db.js 21.6.2
writes for it (and the object it stored, both copied from a run against moto_server); `orders`, richer types
(nested objects, json, datetime, uuid, arrays of numbers, a secret, timestamps); `pages`, a body-overflow
resource whose long text goes to the body. Figures are microseconds of process CPU (time.process_time) per
record, so other processes on a shared machine do not inflate them.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from s3db_backup.archive.lines import StoredObject
from s3db_backup.format.codec import ResourceCodec
from s3db_backup.format.schema import DatabaseSchema

#: s3db.json as s3db.js 21.6.2 wrote it for interop/bench_template.mjs (timestamps and hash as of that run).
ITEMS_SCHEMA = {
    "version": "1", "s3dbVersion": "21.6.2", "lastUpdated": "2026-11-30T21:46:03.471Z",
    "resources": {"items": {
        "currentVersion": "v1", "partitions": {}, "createdBy": "user",
        "versions": {"v1": {
            "hash": "sha256:dc4c77da676368518bda6c9abbd38483b788c2ea33eab05c439e620bfe3c68f1",
            "attributes": {"name": "string|required", "email": "string", "age": "number", "score": "number",
                           "active": "boolean", "tags": "array|items:string", "city": "string"},
            "behavior": "user-managed", "timestamps": False, "partitions": {}, "paranoid": True,
            "allNestedObjectsOptional": True, "autoDecrypt": True, "cache": False, "hooks": {}, "idSize": 22,
            "idGenerator": "default", "createdAt": "2026-11-30T21:46:03.474Z"}},
        "schemaRegistry": {"nextIndex": 7, "mapping": {"name": 0, "email": 1, "age": 2, "score": 3, "active": 4,
                                                       "tags": 5, "city": 6}, "burned": []},
        "pluginSchemaRegistry": {}}},
}  # fmt: skip
#: The object s3db.js 21.6.2 stored for the template record (a clone, as benchmarks/dataset.py makes them).
ITEMS_OBJECT = StoredObject(
    key="resource=items/data/id=i-0000001",
    metadata={"3": "1p.25", "0": "Ana Souza", "2": "y", "1": "ana@example.com", "6": "Lisboa", "4": "1",
              "5": "gold|early", "_v": "v1"},
    content_type="application/octet-stream",
    body=b"",
)

ORDERS_ATTRIBUTES = {
    "ref": "uuid|required", "customer": {"name": "string", "email": "string", "address": {
        "street": "string", "city": "string", "zip": "string"}},
    "placedAt": "datetime", "due": "dateonly", "total": "number", "count": "number|integer",
    "lines": "json", "weights": "array|items:number", "scores": "array|items:number|integer:true",
    "labels": "array|items:string", "paid": "boolean", "status": "string", "card": "secret",
}  # fmt: skip
ORDERS_RECORD = {
    "id": "o-000001", "ref": "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
    "customer": {"name": "João Silva", "email": "joao@example.com",
                 "address": {"street": "Rua Augusta 10", "city": "Lisboa", "zip": "1100-053"}},
    "placedAt": "2024-05-17T10:21:33.120Z", "due": "2024-06-01", "total": 1234.56, "count": 3,
    "lines": [{"sku": "A-1", "qty": 2, "price": 10.5}, {"sku": "B-7", "qty": 1, "price": 1213.56}],
    "weights": [0.5, 1.25, 3.0], "scores": [3, 14, 159], "labels": ["gift", "express|fast"], "paid": True,
    "status": "completed", "card": "c2VjcmV0LWNpcGhlcnRleHQ=",
}  # fmt: skip
PAGES_ATTRIBUTES = {"title": "string", "slug": "string", "views": "number|integer", "body": "string",
                    "tags": "array|items:string", "meta": "json"}
PAGES_RECORD = {
    "id": "p-000001", "title": "Backups without servers", "slug": "https://www.example.com/backups", "views": 4711,
    "body": "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 60, "tags": ["s3", "backup", "ops"],
    "meta": {"lang": "en", "draft": False, "words": 540},
}  # fmt: skip


def _schema(name: str, attributes: dict[str, Any], behavior: str, timestamps: bool, names: list[str]) -> dict:
    return {"resources": {name: {"currentVersion": "v1", "versions": {"v1": {
        "behavior": behavior, "timestamps": timestamps, "attributes": attributes}},
        "schemaRegistry": {"nextIndex": len(names), "burned": [], "mapping": {n: i for i, n in enumerate(names)}}}}}


@dataclass(frozen=True)
class Case:
    name: str
    codec: ResourceCodec
    stored: StoredObject


def cases() -> list[Case]:
    items = ResourceCodec.from_schema(DatabaseSchema.parse(json.dumps(ITEMS_SCHEMA)), "items")
    order_names = ["ref", "customer.name", "customer.email", "customer.address.street", "customer.address.city",
                   "customer.address.zip", "placedAt", "due", "total", "count", "lines", "weights", "scores",
                   "labels", "paid", "status", "card", "createdAt", "updatedAt", "customer", "customer.address"]
    orders = ResourceCodec.from_schema(DatabaseSchema.parse(json.dumps(
        _schema("orders", ORDERS_ATTRIBUTES, "user-managed", True, order_names))), "orders")
    pages = ResourceCodec.from_schema(DatabaseSchema.parse(json.dumps(
        _schema("pages", PAGES_ATTRIBUTES, "body-overflow", False, list(PAGES_ATTRIBUTES)))), "pages")
    order = {**ORDERS_RECORD, "createdAt": "2024-05-17T10:21:33.120Z", "updatedAt": "2024-05-18T08:00:00.000Z"}
    return [
        Case("items", items, ITEMS_OBJECT),
        Case("orders", orders, orders.encode(order, "v1")),
        Case("pages", pages, pages.encode(PAGES_RECORD, "v1")),
    ]


def verify(codec: ResourceCodec, stored: StoredObject) -> bool:
    """What a backup does per record: decode, re-encode, compare with the stored object."""
    decoded = codec.decode(stored)
    return codec.encode(decoded.data, decoded.version) == stored


def per_call_us(fn: Callable[[], Any], iterations: int) -> float:
    fn()  # warm caches the codec may build lazily
    start = time.process_time()
    for _ in range(iterations):
        fn()
    return (time.process_time() - start) / iterations * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument("--profile", metavar="CASE", help="print a cProfile of verify for one case instead")
    args = parser.parse_args()
    all_cases = cases()
    for case in all_cases:
        if not verify(case.codec, case.stored):
            raise SystemExit(f"{case.name}: the stored object does not re-encode to itself")
    if args.profile:
        case = next(c for c in all_cases if c.name == args.profile)
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [verify(case.codec, case.stored) for _ in range(args.iterations)])
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return
    print(f"{'case':8} {'decode µs':>10} {'encode µs':>10} {'verify µs':>10}   ({args.iterations} iterations)")
    for case in all_cases:
        data = case.codec.decode(case.stored)
        dec = per_call_us(lambda c=case: c.codec.decode(c.stored), args.iterations)
        enc = per_call_us(lambda c=case, d=data: c.codec.encode(d.data, d.version), args.iterations)
        ver = per_call_us(lambda c=case: verify(c.codec, c.stored), args.iterations)
        print(f"{case.name:8} {dec:10.1f} {enc:10.1f} {ver:10.1f}")


if __name__ == "__main__":
    main()
