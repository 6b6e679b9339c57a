"""The boto3 session every AWS client of the engine (KMS, Secrets Manager) is made from.

The local runner builds it before moto's emulation starts, so calls are signed with the user's own
credentials; on Lambda it is the default session of the function's role.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3

_lock = threading.Lock()
_session: Any = None


def use_session(session: Any) -> None:
    global _session
    with _lock:
        _session = session


def session() -> Any:
    global _session
    with _lock:
        if _session is None:
            _session = boto3.session.Session()
        return _session


def client(service: str) -> Any:
    return session().client(service)
