"""Fixtures shared by every test folder: one moto_server child process per test session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from s3db_backup.local.moto_server import MotoServer


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """A running moto_server (S3 and the other moto services) on a free 127.0.0.1 port.

    Shared by the whole session: tests isolate themselves with their own bucket or prefix. Its log is in
    the session's temporary directory (``moto_server.log``).
    """
    log_path = tmp_path_factory.mktemp("moto") / "moto_server.log"
    with MotoServer(log_path=log_path) as server:
        yield server


@pytest.fixture(scope="session")
def s3_client(moto_server: MotoServer) -> Any:
    """A boto3 S3 client bound to ``moto_server`` (fake credentials, region us-east-1)."""
    return moto_server.client("s3")
