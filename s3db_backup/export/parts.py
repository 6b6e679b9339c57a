"""Writes one backup file as a multipart upload, a part at a time, across many invocations.

Each part is a complete compression frame. Part facts (size, sha256, lines, first/last key) go to a small
side object per part, never into the workflow state; the final object is assembled from parts 1..N where N
comes from the cursor, so parts left by a crashed attempt are ignored. When a chunk must stop before a part
is full, the closed frame is parked in a spill object that the next chunk starts from. The sizes of a part's
frames are recorded with it (brotli streams cannot be split without them). With a cipher, every part and
spill is sealed (AES-256-GCM, see archive/crypto.py) and the last part is always uploaded, empty or not,
because only it carries the final-part flag.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass
from typing import Any

from s3db_backup.archive.crypto import PartCipher
from s3db_backup.archive.frames import Codec, empty_file
from s3db_backup.catalog import BackupPaths, read_json, write_json
from s3db_backup.config import MIN_PART_BYTES
from s3db_backup.errors import IntegrityError


@dataclass
class PartStats:
    lines: int = 0
    first_key: str | None = None
    last_key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"lines": self.lines, "firstKey": self.first_key, "lastKey": self.last_key}


class PartWriter:
    def __init__(
        self,
        s3: Any,
        paths: BackupPaths,
        file_key: str,
        work_name: str,
        codec: Codec,
        part_size: int,
        *,
        next_part: int,
        upload_id: str | None,
        cipher: PartCipher | None = None,
    ) -> None:
        self.s3 = s3
        self.paths = paths
        self.bucket = paths.store.bucket
        self.key = paths.file(file_key)
        self.work_name = work_name
        self.codec = codec
        self.part_size = part_size
        self.next_part = next_part
        self.upload_id = upload_id
        self.file_key = file_key
        self.cipher = cipher
        self.content_type = "application/octet-stream" if cipher else codec.content_type
        self._compressor = codec.compressor()
        self._buffer = bytearray()
        self._frames: list[int] = []  # sizes of the closed frames in _buffer
        self._stats = PartStats()

    # -- feeding -------------------------------------------------------------------------------------
    def add(self, line: bytes, key: str) -> None:
        self._buffer += self._compressor.compress(line)
        if self._stats.first_key is None:
            self._stats.first_key = key
        self._stats.last_key = key
        self._stats.lines += 1

    @property
    def full(self) -> bool:
        return len(self._buffer) >= self.part_size

    @property
    def empty(self) -> bool:
        return self._stats.lines == 0 and not self._buffer

    # -- spills --------------------------------------------------------------------------------------
    def spill_key(self, seq: int) -> str:
        return self.paths.work(f"spill/{self.work_name}/{seq:06d}.bin")

    def load_spill(self, key: str) -> None:
        blob = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        if self.cipher is not None:
            try:
                blob = self.cipher.open_spill(blob, key)
            except Exception as exc:
                raise IntegrityError(f"spill {key} fails authentication", operation="export") from exc
        (header_len,) = struct.unpack(">I", blob[:4])
        header = json.loads(blob[4 : 4 + header_len])
        self._buffer = bytearray(blob[4 + header_len :])
        self._stats = PartStats(header["lines"], header["firstKey"], header["lastKey"])
        self._frames = list(header.get("frames") or [len(self._buffer)])

    def park(self, seq: int) -> str | None:
        """Close the current frame where a chunk stops: upload it if it is big enough to be a part,
        else park it in a spill object. Returns the spill key, or None."""
        if self.empty:
            return None
        self._close_frame()
        if len(self._buffer) >= MIN_PART_BYTES:
            self.upload_part()
            return None
        header = json.dumps({**self._stats.to_dict(), "frames": self._frames}).encode()
        key = self.spill_key(seq)
        body = struct.pack(">I", len(header)) + header + bytes(self._buffer)
        if self.cipher is not None:
            body = self.cipher.seal_spill(body, key)
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        return key

    # -- parts ---------------------------------------------------------------------------------------
    def _close_frame(self) -> None:
        self._buffer += self._compressor.finish()
        size = len(self._buffer) - sum(self._frames)
        if size:
            self._frames.append(size)

    def _seal(self, data: bytes, number: int, final: bool) -> bytes:
        return data if self.cipher is None else self.cipher.seal_part(data, self.file_key, number, final)

    def _part_info_key(self, number: int) -> str:
        return self.paths.work(f"parts/{self.work_name}/{number:05d}.json")

    def upload_part(self, *, final: bool = False) -> None:
        """Upload the buffer as the next part; `final` only for the file's last part."""
        self._close_frame()
        if not self._buffer:
            self._buffer = bytearray(empty_file(self.codec))
            self._frames = [len(self._buffer)] if self._buffer else []
        if self.upload_id is None:
            resp = self.s3.create_multipart_upload(Bucket=self.bucket, Key=self.key, ContentType=self.content_type)
            self.upload_id = resp["UploadId"]
        data = self._seal(bytes(self._buffer), self.next_part, final)
        self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=self.next_part, Body=data
        )
        info = {"number": self.next_part, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                **self._stats.to_dict(), "frames": self._frames}
        write_json(self.s3, self.bucket, self._part_info_key(self.next_part), info)
        self.next_part += 1
        self._buffer = bytearray()
        self._frames = []
        self._stats = PartStats()

    def upload_last(self) -> None:
        """Upload what is left as the file's last part. Encrypted files always get one (an empty frame when
        nothing is left), so the last part is authenticated as last and dropping trailing parts shows."""
        if not self.empty or self.cipher is not None:
            self.upload_part(final=True)

    def finish_single(self, *, keep_empty: bool) -> dict[str, Any] | None:
        """Finish a file that never needed a multipart upload: one PUT. None when empty and not kept."""
        self._close_frame()
        if self.empty and not keep_empty:
            return None
        if not self._buffer:
            self._buffer = bytearray(empty_file(self.codec))
            self._frames = [len(self._buffer)] if self._buffer else []
        data = self._seal(bytes(self._buffer), 1, True)
        self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=data, ContentType=self.content_type)
        digest = hashlib.sha256(data).hexdigest()
        part = {"number": 1, "offset": 0, "size": len(data), "sha256": digest, **self._stats.to_dict(),
                "frames": self._frames}
        return {"bytes": len(data), "sha256": digest, "parts": [part]}

    def complete(self, parts_count: int) -> dict[str, Any]:
        """Complete the multipart upload from parts 1..parts_count; re-runnable after a crash."""
        infos = [read_json(self.s3, self.bucket, self._part_info_key(n)) for n in range(1, parts_count + 1)]
        if any(i is None for i in infos):
            missing = [n for n, i in enumerate(infos, 1) if i is None]
            raise IntegrityError(f"part facts missing for parts {missing} of {self.key}", operation="upload")
        etags = self._list_part_etags()
        if etags is not None:
            for info in infos:
                if etags.get(info["number"], (None, None))[1] != info["size"]:
                    raise IntegrityError(
                        f"part {info['number']} of {self.key} differs from its facts", operation="upload"
                    )
            self.s3.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etags[n][0]} for n in
                                           range(1, parts_count + 1)]},
            )
        offset = 0
        parts = []
        for info in infos:
            parts.append({"number": info["number"], "offset": offset, "size": info["size"],
                          "sha256": info["sha256"], "lines": info["lines"], "firstKey": info["firstKey"],
                          "lastKey": info["lastKey"], "frames": info.get("frames")})
            offset += info["size"]
        digest, size = self._digest_object()
        if size != offset:
            raise IntegrityError(f"{self.key} is {size} bytes, its parts add up to {offset}", operation="upload")
        return {"bytes": size, "sha256": digest, "parts": parts}

    def _list_part_etags(self) -> dict[int, tuple[str, int]] | None:
        """ETag and size of every uploaded part; None when the upload is already completed."""
        from botocore.exceptions import ClientError

        found: dict[int, tuple[str, int]] = {}
        marker = 0
        while True:
            try:
                resp = self.s3.list_parts(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                                          PartNumberMarker=marker)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "NoSuchUpload":
                    return None
                raise
            for p in resp.get("Parts", []):
                found[int(p["PartNumber"])] = (p["ETag"], int(p["Size"]))
            if not resp.get("IsTruncated"):
                return found
            marker = int(resp["NextPartNumberMarker"])

    def _digest_object(self) -> tuple[str, int]:
        body = self.s3.get_object(Bucket=self.bucket, Key=self.key)["Body"]
        h = hashlib.sha256()
        size = 0
        for chunk in iter(lambda: body.read(1024 * 1024), b""):
            h.update(chunk)
            size += len(chunk)
        return h.hexdigest(), size

