"""Compares two database prefixes object by object (key, user metadata, content type, body): the bar a
restore must meet, since s3db.js reads a byte-identical copy exactly like the original."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from s3db_backup.locations import S3Location


@dataclass
class Comparison:
    objects: int = 0
    identical: int = 0
    only_in_first: list[str] = field(default_factory=list)
    only_in_second: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not (self.only_in_first or self.only_in_second or self.different)


def _keys(s3: Any, where: S3Location) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=where.bucket, Prefix=where.key_prefix):
        keys.extend(where.relative(o["Key"]) for o in page.get("Contents", []))
    return keys


def _fingerprint(s3: Any, where: S3Location, key: str) -> tuple[Any, ...]:
    resp = s3.get_object(Bucket=where.bucket, Key=where.key(key))
    body = resp["Body"].read()
    return (sorted((resp.get("Metadata") or {}).items()), resp.get("ContentType"), len(body),
            hashlib.sha256(body).hexdigest())


def compare_prefixes(s3: Any, first: S3Location, second: S3Location, *, concurrency: int = 32) -> Comparison:
    a, b = set(_keys(s3, first)), set(_keys(s3, second))
    result = Comparison(objects=len(a | b), only_in_first=sorted(a - b), only_in_second=sorted(b - a))
    common = sorted(a & b)
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        left = pool.map(lambda k: _fingerprint(s3, first, k), common)
        right = pool.map(lambda k: _fingerprint(s3, second, k), common)
        for key, x, y in zip(common, left, right, strict=True):
            if x == y:
                result.identical += 1
            else:
                result.different.append(key)
    return result
