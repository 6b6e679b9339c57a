"""Fixtures for the interop tests, which run the real s3db.js 21.6.2 (interop/) against moto_server."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from s3db_backup.local import s3dbjs
from s3db_backup.local.moto_server import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, MotoServer

#: Records per resource in the shared demo database (events get a quarter of it).
DEMO_RECORDS = 200


class SeededDb(NamedTuple):
    """Where a seeded database lives, and seed.mjs's summary of it."""

    bucket: str
    prefix: str
    connection: str
    summary: dict[str, Any]


@pytest.fixture(scope="session")
def demo_records() -> int:
    """Records per resource in ``demo_db`` (its ``events`` get a quarter of it)."""
    return DEMO_RECORDS


@pytest.fixture(scope="session")
def s3dbjs_installed() -> Path:
    """interop/node_modules installed from package-lock.json (npm ci only when missing or stale)."""
    return s3dbjs.ensure_installed()


@pytest.fixture(scope="session")
def s3db_connection(moto_server: MotoServer):
    """``s3db_connection(bucket, prefix)`` -> the s3db.js connection string for that place on moto_server."""

    def make(bucket: str, prefix: str) -> str:
        return s3dbjs.connection_string(
            moto_server.endpoint_url, bucket, prefix, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
        )

    return make


@pytest.fixture
def fresh_bucket(moto_server: MotoServer) -> str:
    """A new, empty bucket for one test."""
    return moto_server.create_bucket(f"t-{uuid.uuid4().hex[:20]}")


@pytest.fixture(scope="session")
def demo_db(moto_server: MotoServer, s3dbjs_installed: Path, s3db_connection, demo_records: int) -> SeededDb:
    """A demo-profile database (DEMO_RECORDS records per resource, seed 7) in a bucket of its own.

    Seeded once per session; tests must treat it as read-only (write copies to other prefixes).
    """
    bucket = moto_server.create_bucket(f"demo-{uuid.uuid4().hex[:12]}")
    prefix = "databases/demo"
    connection = s3db_connection(bucket, prefix)
    summary = s3dbjs.seed(connection, "demo", demo_records, 7)
    return SeededDb(bucket, prefix, connection, summary)


@pytest.fixture(scope="session")
def demo_snapshot(demo_db: SeededDb) -> dict[str, Any]:
    """s3db.js's snapshot of ``demo_db``, taken once."""
    return s3dbjs.snapshot(demo_db.connection)
