"""Reads the source database: lists a scope from a key onward, and GETs one object (the boto3 getter;
export/obstore_getter.py is the faster one). export/ordered_fetch.py runs a getter on many keys at once."""

from __future__ import annotations

from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from s3db_backup.archive.lines import HEADERS, StoredObject
from s3db_backup.catalog import is_missing
from s3db_backup.export.keyspace import PAST
from s3db_backup.export.units import Scope
from s3db_backup.format import layout
from s3db_backup.locations import S3Location


@dataclass
class ListedPage:
    keys: list[str]  # relative keys of objects to export, in order
    resume_after: str | None  # relative key to resume after once every key of the page is consumed
    truncated: bool
    token: str | None


def list_page(
    s3: Any, source: S3Location, scope: Scope, after: str | None, token: str | None, max_keys: int
) -> ListedPage:
    """One listing page of `scope` after relative key `after` (or from `token` within one invocation)."""
    params: dict[str, Any] = {"Bucket": source.bucket, "Prefix": source.key(scope.prefix) if scope.prefix
                              else source.key_prefix, "MaxKeys": max_keys}
    if scope.shallow:
        params["Delimiter"] = "/"
    if token:
        params["ContinuationToken"] = token
    elif after is not None:
        params["StartAfter"] = source.key(after)
    page = s3.list_objects_v2(**params)
    keys = [source.relative(o["Key"]) for o in page.get("Contents", [])]
    last = keys[-1] if keys else after
    folders = [source.relative(p["Prefix"]) for p in page.get("CommonPrefixes", [])]
    if folders and (last is None or folders[-1] + PAST > last):
        last = folders[-1] + PAST
    exported = [k for k in keys if not (scope.prefix == "" and k == layout.SCHEMA_KEY)]
    truncated = bool(page.get("IsTruncated"))
    return ListedPage(exported, last, truncated, page.get("NextContinuationToken") if truncated else None)


def list_pages(
    s3: Any, source: S3Location, scope: Scope, after: str | None, max_keys: int, *, end: str | None = None,
) -> Generator[ListedPage, None, None]:
    """The pages of `scope` after relative key `after`, up to key `end` (None: the scope's end). Each page is
    asked for as soon as the one before it arrives, so the listing runs while that page's objects are fetched:
    on a busy server the listing then costs no time of its own. Close the iterator to stop early."""

    def fetch(after: str | None, token: str | None) -> ListedPage:
        page = list_page(s3, source, scope, after, token, max_keys)
        if end is not None and page.keys and page.keys[-1] > end:
            return ListedPage([k for k in page.keys if k <= end], end, False, None)
        return page

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="list") as pool:
        ahead = pool.submit(fetch, after, None)
        try:
            while True:
                page = ahead.result()
                if page.truncated:
                    ahead = pool.submit(fetch, page.resume_after, page.token)
                yield page
                if not page.truncated:
                    return
        finally:
            ahead.cancel()


def list_subdirs(s3: Any, source: S3Location, root: str) -> list[str]:
    """Folders directly under relative folder `root`, as relative prefixes ending in '/'."""
    found: list[str] = []
    paginator = s3.get_paginator("list_objects_v2")
    prefix = source.key(root) if root else source.key_prefix
    for page in paginator.paginate(Bucket=source.bucket, Prefix=prefix, Delimiter="/"):
        found.extend(source.relative(p["Prefix"]) for p in page.get("CommonPrefixes", []))
    return found


Getter = Callable[[str], StoredObject | None]
"""Fetches one object by relative key; None when it vanished since it was listed. Thread-safe."""


def boto3_getter(s3: Any, source: S3Location) -> Getter:
    def get(key: str) -> StoredObject | None:
        try:
            resp = s3.get_object(Bucket=source.bucket, Key=source.key(key))
            body = resp["Body"].read()
        except ClientError as exc:
            if is_missing(exc):
                return None
            raise
        return StoredObject(
            key=key,
            metadata=dict(resp.get("Metadata") or {}),
            content_type=resp.get("ContentType"),
            body=body,
            headers={h: resp[h] for h in HEADERS if resp.get(h)},
        )

    return get
