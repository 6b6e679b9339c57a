"""Where s3db.js 21.6.2 keeps things under a database prefix, and what a key found there is.

    s3db.json                                              schemas of every resource and version
    resource=<name>/data/id=<id>                           one record (metadata + optional body)
    resource=<name>/partition=<p>/<field>=<value>/id=<id>  zero-byte partition reference
Anything else (plugin folders, counters, caches) is kept as stored: never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SCHEMA_KEY = "s3db.json"
RESOURCE_DIR = "resource="

KeyKind = Literal["record", "partition", "other"]


def resource_dir(resource: str) -> str:
    return f"{RESOURCE_DIR}{resource}/"


def data_dir(resource: str) -> str:
    return f"{RESOURCE_DIR}{resource}/data/"


def record_key(resource: str, record_id: str) -> str:
    return f"{data_dir(resource)}id={record_id}"


def resource_of_dir(common_prefix: str) -> str | None:
    """`resource=users/` -> `users`; None for any other folder."""
    if common_prefix.startswith(RESOURCE_DIR) and common_prefix.endswith("/"):
        name = common_prefix[len(RESOURCE_DIR) : -1]
        return name or None
    return None


@dataclass(frozen=True)
class KeyInfo:
    kind: KeyKind
    resource: str | None = None
    record_id: str | None = None


def classify(relative_key: str) -> KeyInfo:
    """What an object is, from its key relative to the database prefix."""
    if not relative_key.startswith(RESOURCE_DIR):
        return KeyInfo("other")
    resource, sep, rest = relative_key[len(RESOURCE_DIR) :].partition("/")
    if not sep or not resource:
        return KeyInfo("other")
    if rest.startswith("data/id="):
        record_id = rest[len("data/id=") :]
        if record_id and "/" not in record_id:
            return KeyInfo("record", resource, record_id)
        return KeyInfo("other", resource)
    if rest.startswith("partition="):
        last = rest.rsplit("/", 1)[-1]
        if last.startswith("id=") and len(last) > 3:
            return KeyInfo("partition", resource, last[3:])
    return KeyInfo("other", resource)
