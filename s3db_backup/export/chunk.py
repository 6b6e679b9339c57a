"""ExportChunk: export one unit from its cursor for as long as the invocation's budget allows.

Re-running a chunk with the same cursor writes the same part numbers and spill keys again, so a retry after
a crash (before or after an UploadPart) cannot duplicate or lose a record.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Generator
from typing import Any

from s3db_backup.archive.crypto import PartCipher, open_cipher
from s3db_backup.archive.frames import CODECS
from s3db_backup.archive.records import ResourceCodecs, backup_line
from s3db_backup.catalog import BackupPaths, read_json, write_json
from s3db_backup.errors import StoreError
from s3db_backup.export.cursor import ExportCursor
from s3db_backup.export.job import ExportJob
from s3db_backup.export.key_batches import read_batch
from s3db_backup.export.ordered_fetch import OrderedFetcher
from s3db_backup.export.parts import PartWriter
from s3db_backup.export.reader import Getter, ListedPage, boto3_getter, list_pages, list_subdirs
from s3db_backup.export.split import Piece, ShardPlan, key_batch_key, read_shard_plan
from s3db_backup.export.units import Scope, root_of, scopes_for
from s3db_backup.format import layout
from s3db_backup.s3client import retries_so_far


def unit_result_key(paths: BackupPaths, file_key: str) -> str:
    return paths.work(f"units/{file_key}.json")


def export_chunk(
    s3: Any,
    job_data: dict[str, Any],
    cursor_data: dict[str, Any] | None,
    *,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
    getter: Getter | None = None,
) -> dict[str, Any]:
    """Run one chunk; `deadline` is a `clock()` value after which no new object is started. `getter`
    fetches source objects (default: GETs through `s3`)."""
    job = ExportJob.from_dict(job_data)
    _check_still_running(s3, job)
    codec = CODECS[job.settings.compression]
    cipher = _cipher(s3, job)
    cursor = _first_cursor(s3, job) if cursor_data is None else ExportCursor.from_dict(cursor_data)
    cursor.seq += 1
    retries_before = retries_so_far(s3)

    def settle() -> None:
        cursor.counts.retries += retries_so_far(s3) - retries_before

    writer = PartWriter(
        s3, job.paths, job.file_key, job.work_name, codec, job.settings.partSizeBytes,
        next_part=cursor.part, upload_id=cursor.uploadId, cipher=cipher,
    )
    if cursor.phase == "complete":
        file_facts = writer.complete(cursor.part - 1)
        settle()
        return _done(s3, job, cursor, file_facts)

    if cursor.spill:
        writer.load_spill(cursor.spill)
    cursor.spill = None
    stopped = _walk(s3, job, cursor, writer, deadline=deadline, clock=clock,
                    getter=getter or boto3_getter(s3, job.source))
    if stopped:
        cursor.spill = writer.park(cursor.seq)
        cursor.part, cursor.uploadId = writer.next_part, writer.upload_id
        settle()
        return {"job": job_data, "cursor": cursor.to_dict(), "done": False}
    # The unit is exhausted: write what is left as the last part.
    if writer.upload_id is None:
        facts = writer.finish_single(keep_empty=job.unit.kind == "records")
        settle()
        return _done(s3, job, cursor, facts)
    writer.upload_last()
    cursor.part, cursor.uploadId = writer.next_part, writer.upload_id
    cursor.phase = "complete"
    settle()
    return {"job": job_data, "cursor": cursor.to_dict(), "done": False}


def _first_cursor(s3: Any, job: ExportJob) -> ExportCursor:
    """Where a unit starts: its scopes when it is listed as it goes, the first key batch of a shard."""
    if job.shard is None:
        root = root_of(job.unit)
        subdirs = list_subdirs(s3, job.source, root) if root is not None else []
        return ExportCursor(scopes=[s.to_list() for s in scopes_for(job.unit, subdirs)])
    return ExportCursor(scopes=[])  # its batches are read (and checked against the split) as it walks


def _shard_pieces(s3: Any, job: ExportJob) -> tuple[ShardPlan, list[Piece]]:
    """The pieces SplitUnit cut into this shard: key batches it listed, and ranges left to list."""
    plan = read_shard_plan(s3, job.paths, job.unit, job.settings, "export")
    shard = job.shard if job.shard is not None else 0
    if plan.count != job.shards or not 0 <= shard < plan.count:
        raise StoreError(
            f"shard {job.shard} of {job.shards} does not match the split of {job.unit.kind}:{job.unit.resource}",
            description=f"SplitUnit cut this unit into {plan.count} shard(s).",
            operation="export", backupId=job.backup_id,
        )
    return plan, plan.shard_pieces(shard)


def _check_still_running(s3: Any, job: ExportJob) -> None:
    """A chunk of a backup already marked failed (a sibling failed and the Catch ran) writes nothing."""
    status = read_json(s3, job.store.bucket, job.paths.status)
    if status is None or status.get("status") != "in-progress":
        raise StoreError(
            f"backup {job.backup_id} is no longer in progress",
            description=f"Its status is {(status or {}).get('status', 'missing')}; this chunk stops.",
            operation="export", backupId=job.backup_id,
        )


def _cipher(s3: Any, job: ExportJob) -> PartCipher | None:
    """The backup's cipher, re-created from what PlanBackup stored (the key itself is never stored)."""
    if job.settings.encryption == "none":
        return None
    from s3db_backup.export.plan import PLAN

    plan = read_json(s3, job.store.bucket, job.paths.work(PLAN)) or {}
    if not plan.get("encryption"):
        raise StoreError(f"backup {job.backup_id} has no encryption key", operation="export",
                         backupId=job.backup_id)
    return open_cipher(plan["encryption"], job.backup_id, passphrase_secret=job.settings.passphraseSecret,
                       operation="export")


class _Budget:
    """How many more keys one invocation takes: it stops at the deadline or after chunkMaxLines lines, but
    the first page or batch it reads always goes on, so every invocation makes progress."""

    def __init__(self, cursor: ExportCursor, max_lines: int, deadline: float, clock: Callable[[], float]) -> None:
        self.cursor, self.max_lines, self.deadline, self.clock = cursor, max_lines, deadline, clock
        self.lines_before = cursor.counts.lines
        self.started = False

    def expired(self) -> bool:
        return self.clock() >= self.deadline

    def take(self, keys: int) -> int | None:
        """How many of the next `keys` to export (None: stop now)."""
        written = self.cursor.counts.lines - self.lines_before
        if self.started and (self.expired() or (self.max_lines and written >= self.max_lines)):
            return None
        self.started = True
        return self.max_lines - written if self.max_lines else keys


def _walk(
    s3: Any,
    job: ExportJob,
    cursor: ExportCursor,
    writer: PartWriter,
    *,
    deadline: float,
    clock: Callable[[], float],
    getter: Getter,
) -> bool:
    """Write lines until the unit is exhausted (False) or the chunk must stop (True)."""
    fetcher = OrderedFetcher(getter, job.settings.concurrency)
    budget = _Budget(cursor, job.settings.chunkMaxLines, deadline, clock)
    walk = _walk_shard if job.shard is not None else _walk_listing
    return walk(s3, job, cursor, writer, fetcher, budget)


def _walk_shard(
    s3: Any, job: ExportJob, cursor: ExportCursor, writer: PartWriter, fetcher: OrderedFetcher, budget: _Budget,
) -> bool:
    """A shard: its pieces in key order. A key batch is read as SplitUnit wrote it; a range left to list is
    listed as it goes, from where SplitUnit stopped (or the range's start) to the range's end."""
    plan, pieces = _shard_pieces(s3, job)
    while cursor.batch < len(pieces):
        r, number, count = pieces[cursor.batch]
        if number is not None:
            key = key_batch_key(job.paths, job.unit, job.settings, r.id, number)
            keys = read_batch(s3, job.store.bucket, key, expected=count, backup_id=job.backup_id)[cursor.offset:]
            take = budget.take(len(keys))
            if take is None:
                return True
            consumed = _export_keys(job, cursor, writer, fetcher, keys[:take], budget)
            cursor.offset += consumed
            if consumed < len(keys):
                return True  # stopped inside the batch; resume at cursor.offset
        else:
            scope = Scope(r.prefix) if r.prefix is not None else plan.scope_of(r)
            start = cursor.after if cursor.after is not None else r.after if r.after is not None else r.start
            pages = list_pages(s3, job.source, scope, start, job.settings.listPageKeys, end=r.end)
            if _export_pages(job, cursor, writer, fetcher, pages, budget):
                return True
        cursor.batch, cursor.offset, cursor.after = cursor.batch + 1, 0, None
    return False


def _walk_listing(
    s3: Any, job: ExportJob, cursor: ExportCursor, writer: PartWriter, fetcher: OrderedFetcher, budget: _Budget,
) -> bool:
    """A unit exported unsplit: listed as it goes, scope by scope, from the key after cursor.after."""
    while cursor.scope < len(cursor.scopes):
        scope = Scope.from_list(cursor.scopes[cursor.scope])
        pages = list_pages(s3, job.source, scope, cursor.after, job.settings.listPageKeys)
        if _export_pages(job, cursor, writer, fetcher, pages, budget):
            return True
        cursor.scope += 1
        cursor.after = None
    return False


def _export_pages(
    job: ExportJob, cursor: ExportCursor, writer: PartWriter, fetcher: OrderedFetcher,
    pages: Generator[ListedPage, None, None], budget: _Budget,
) -> bool:
    """Export a listing page by page (True: the invocation must stop; resume after cursor.after). Closes
    `pages`, so its read-ahead stops with the walk."""
    try:
        for page in pages:
            take = budget.take(len(page.keys))
            if take is None:
                return True
            consumed = _export_keys(job, cursor, writer, fetcher, page.keys[:take], budget)
            if consumed < len(page.keys):
                return True  # stopped inside the page
            cursor.after = page.resume_after
        return False
    finally:
        pages.close()


def _export_keys(
    job: ExportJob, cursor: ExportCursor, writer: PartWriter, fetcher: OrderedFetcher, keys: list[str],
    budget: _Budget,
) -> int:
    """Fetch and write `keys` in order, uploading parts as they fill; how many were consumed before the
    deadline. An object gone since it was listed is counted as vanished."""
    consumed = 0
    for key, obj in fetcher.fetch_in_order(keys):
        if obj is None:
            cursor.counts.vanished += 1
        else:
            _write(job, cursor, writer, key, obj)
        cursor.after = key
        consumed += 1
        if writer.full:
            writer.upload_part()
        if budget.expired():
            break
    return consumed


#: The codecs of each chunk invocation, keyed by its PartWriter (one per invocation): built on first use, so
#: the source schema is read once per invocation and never for units without records.
_INVOCATION_CODECS: weakref.WeakKeyDictionary[PartWriter, ResourceCodecs] = weakref.WeakKeyDictionary()


def _codecs_for(job: ExportJob, writer: PartWriter) -> ResourceCodecs:
    codecs = _INVOCATION_CODECS.get(writer)
    if codecs is None:
        from s3db_backup.export.plan import SOURCE_SCHEMA

        raw = writer.s3.get_object(Bucket=job.store.bucket, Key=job.paths.work(SOURCE_SCHEMA))["Body"].read()
        codecs = ResourceCodecs.from_text(raw.decode("utf-8"))
        _INVOCATION_CODECS[writer] = codecs
    return codecs


def _write(job: ExportJob, cursor: ExportCursor, writer: PartWriter, key: str, obj: Any,
           codecs: ResourceCodecs | None = None) -> None:
    """Write one object's line: records decoded where the line provably restores them (archive/records.py),
    everything else as stored. `codecs` defaults to the invocation's, loaded from the backup's source schema.

    `unrecognized` counts objects kept as stored because nothing reads them: keys outside the s3db.js layout,
    and records the codec could not decode (those still count as records: they restore like any other)."""
    info = layout.classify(key)
    record_id = info.record_id if info.kind == "record" and job.unit.kind == "records" else None
    codec = None
    if record_id is not None:
        codec = (codecs or _codecs_for(job, writer)).get(info.resource)
    built = backup_line(obj, record_id, codec)
    writer.add(built.data, key)
    counts = cursor.counts
    counts.lines += 1
    counts.rawBytes += len(built.data)
    if record_id is not None:
        counts.records += 1
    else:
        counts.objects += 1
    if info.kind == "other" or (record_id is not None and not built.decoded):
        counts.unrecognized += 1


def _done(s3: Any, job: ExportJob, cursor: ExportCursor, facts: dict[str, Any] | None) -> dict[str, Any]:
    counts = cursor.counts
    result = {
        "unit": job.unit.to_dict(),
        "file": None if facts is None else {
            "key": job.file_key,
            "kind": job.unit.kind,
            "resource": job.unit.resource,
            "compression": job.settings.compression,
            "shard": job.shard if job.shards > 1 else None,
            "shards": job.shards,
            **counts.__dict__,
            **facts,
        },
        "counts": counts.__dict__,
        "invocations": cursor.seq,
    }
    write_json(s3, job.store.bucket, unit_result_key(job.paths, job.file_key), result)
    return {
        "job": None,
        "cursor": None,
        "done": True,
        "unit": job.unit.to_dict(),
        "records": counts.records,
        "lines": counts.lines,
    }
