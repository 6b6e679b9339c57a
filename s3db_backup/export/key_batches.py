"""Key batches: the keys SplitUnit listed, kept in the backup's work folder for the shards to export.

A unit is listed once. SplitUnit writes the first page of each scope as numbered batches of at most
`BATCH_KEYS` keys; the shard holding them reads those batches instead of listing them again, and lists the
rest of its ranges itself (export/split.py). The backup therefore holds every object that exists for
the whole backup (one deleted after it was listed is counted as vanished); one written while it runs may be
left for the next backup, and none can appear in two shards.

A batch is gzip-compressed JSON (`{"version": 1, "keys": [...]}`, relative keys in listing order): JSON
because S3 keys may hold any character, newlines included.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

from botocore.exceptions import ClientError

from s3db_backup.catalog import is_missing
from s3db_backup.errors import StoreError

#: Keys per batch: about 0.4 MB of JSON for s3db.js keys, 10,000 batches for 100 million records.
BATCH_KEYS = 10_000
VERSION = 1


def batch_name(range_id: int, number: int) -> str:
    """Names batch `number` of a range; the shard plan, not the name, says the order batches are read in."""
    return f"{range_id:04d}-{number:06d}.json.gz"


def write_batch(s3: Any, bucket: str, key: str, keys: list[str]) -> None:
    body = gzip.compress(json.dumps({"version": VERSION, "keys": keys}, ensure_ascii=False).encode("utf-8"),
                         compresslevel=1)
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json", ContentEncoding="gzip")


def read_batch(s3: Any, bucket: str, key: str, *, expected: int, backup_id: str) -> list[str]:
    """The batch's keys. A batch that is missing, unreadable or of another length than SplitUnit recorded
    stops the export: going on would silently drop the keys it should hold."""
    keys: Any = None
    try:
        data = json.loads(gzip.decompress(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
        if isinstance(data, dict) and data.get("version") == VERSION:
            keys = data.get("keys")
        detail = f"{len(keys)} keys" if isinstance(keys, list) else "not a key batch"
    except ClientError as exc:
        if not is_missing(exc):
            raise
        detail = "missing"
    except (OSError, ValueError) as exc:  # not gzip, not JSON
        detail = str(exc)
    if not isinstance(keys, list) or len(keys) != expected:
        raise StoreError(
            f"key batch {key} of backup {backup_id} is not what SplitUnit wrote ({detail}; expected {expected})",
            description="The shard cannot know which objects to export; run the backup again.",
            operation="export", backupId=backup_id,
        )
    return keys
