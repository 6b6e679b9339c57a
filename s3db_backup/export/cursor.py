"""The export cursor: everything a chunk needs to continue where the previous one stopped.

It stays a few hundred bytes whatever the database size: no records, no ETags, no part list.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Phase = Literal["export", "complete"]


@dataclass
class Counters:
    lines: int = 0
    records: int = 0
    objects: int = 0
    unrecognized: int = 0
    vanished: int = 0
    rawBytes: int = 0
    retries: int = 0  # S3 requests retried by the client (throttling, 5xx, network); counted, never fatal


@dataclass
class ExportCursor:
    scopes: list[list[Any]]  # a unit exported unsplit: [[prefix, shallow], ...] relative to the source prefix
    scope: int = 0  # index of the scope being walked
    after: str | None = None  # last relative key written (or skipped past) in that scope or piece
    batch: int = 0  # a shard: index of the piece being exported (a key batch, or a range to list)
    offset: int = 0  # a shard: keys of that key batch already consumed
    part: int = 1  # next part number
    uploadId: str | None = None
    spill: str | None = None  # key of the parked frame the next chunk starts from
    seq: int = 0  # invocations so far
    phase: Phase = "export"
    counts: Counters = field(default_factory=Counters)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExportCursor:
        return cls(**{**data, "counts": Counters(**data.get("counts", {}))})
