"""Compression frames. Every part of a backup file is one or more complete frames (gzip members), so any
part can be decompressed on its own with a ranged GET, and a damaged part costs only that part. A whole
file is a valid multi-member gzip stream that `zcat` and `gzip.open` read."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Codec:
    name: str
    extension: str
    content_type: str

    def compressor(self) -> FrameCompressor:
        return FrameCompressor(self)

    def iter_decompress(self, data: bytes) -> Iterator[bytes]:
        """Decompress a run of complete frames; ValueError when the data is truncated or corrupt."""
        if self.name == "none":
            yield data
            return
        view = data
        while view:
            d = zlib.decompressobj(wbits=31)
            try:
                out = d.decompress(view)
                out += d.flush()
            except zlib.error as exc:
                raise ValueError(f"corrupt {self.name} frame: {exc}") from exc
            if not d.eof:
                raise ValueError(f"truncated {self.name} frame")
            yield out
            view = d.unused_data


class FrameCompressor:
    """Feeds bytes into the current frame; `finish()` closes the frame and returns its tail."""

    def __init__(self, codec: Codec, level: int = 6) -> None:
        self.codec = codec
        self.level = level
        self._obj: zlib._Compress | None = None

    def compress(self, data: bytes) -> bytes:
        if self.codec.name == "none":
            return data
        if self._obj is None:
            self._obj = zlib.compressobj(self.level, zlib.DEFLATED, 31)
        return self._obj.compress(data)

    def finish(self) -> bytes:
        if self.codec.name == "none" or self._obj is None:
            return b""
        tail = self._obj.flush(zlib.Z_FINISH)
        self._obj = None
        return tail

    @property
    def open(self) -> bool:
        return self._obj is not None


GZIP = Codec("gzip", ".jsonl.gz", "application/gzip")
NONE = Codec("none", ".jsonl", "application/x-ndjson")
CODECS = {c.name: c for c in (GZIP, NONE)}


def empty_file(codec: Codec) -> bytes:
    """A valid file with no lines: one empty frame (zcat of it prints nothing)."""
    c = codec.compressor()
    return c.compress(b"") + c.finish() if codec.name != "none" else b""
