"""Compression frames. Every part of a backup file is one or more complete frames, so any part can be
decompressed on its own with a ranged GET, and a damaged part costs only that part.

| codec   | frame                        | whole file readable by                          | integrity check in frame |
|---------|------------------------------|-------------------------------------------------|--------------------------|
| gzip    | a gzip member (RFC 1952)     | `zcat`, `gzip.open` (multi-member)              | CRC-32 + length          |
| zstd    | a zstd frame (RFC 8878)      | `zstd -d`, `zstandard` (multi-frame)            | XXH64 content checksum   |
| deflate | a zlib stream (RFC 1950)     | a loop over zlib's `unused_data`; one frame:    | Adler-32                 |
|         |                              | `zlib.decompress`, `pigz -dz`, `openssl zlib -d`|                          |
| brotli  | a brotli stream (RFC 7932)   | one stream: `brotli -d`; several: split by the  | none (sha256 / GCM only) |
|         |                              | manifest's part table and `frames` sizes        |                          |
| none    | the bytes themselves         | anything                                        | none                     |

Brotli has no multi-member format and its decoder cannot say where a stream ends inside a longer buffer, so
the manifest records the size of every frame of a part (`frames`); see docs/compression-and-encryption.md.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import brotli
import zstandard


@dataclass(frozen=True)
class Codec:
    name: str
    extension: str
    content_type: str
    #: Compression level (quality for brotli) a new frame starts with.
    level: int = 0
    #: True when frames can be told apart by reading them (the decoder reports where a frame ends).
    self_delimiting: bool = True

    def compressor(self) -> FrameCompressor:
        return FrameCompressor(self)

    def iter_decompress(self, data: bytes, frames: Sequence[int] | None = None) -> Iterator[bytes]:
        """Decompress a run of complete frames; ValueError when the data is truncated or corrupt.

        `frames` are the sizes of the frames in `data` (from the manifest); with them every frame must end
        exactly at its recorded size. Without them, frames are found by reading, which brotli cannot do
        beyond a single stream."""
        if frames is not None:
            if sum(frames) != len(data) or any(size <= 0 for size in frames):
                raise ValueError(f"{self.name} frame sizes {list(frames)} do not add up to {len(data)} bytes")
            offset = 0
            for size in frames:
                out, rest = _decode_one(self, memoryview(data)[offset : offset + size])
                if rest:
                    raise ValueError(f"{self.name} frame ends {len(rest)} bytes before its recorded size")
                yield out
                offset += size
            return
        view = bytes(data)
        while view:
            out, view = _decode_one(self, view)
            if view and not self.self_delimiting:
                raise ValueError(f"trailing data after a {self.name} stream")
            yield out


def _decode_one(codec: Codec, data: Any) -> tuple[bytes, bytes]:
    """One frame from the start of `data`: (its bytes, what follows it)."""
    name = codec.name
    if name == "none":
        return bytes(data), b""
    if name in ("gzip", "deflate"):
        d = zlib.decompressobj(wbits=31 if name == "gzip" else 15)
        try:
            out = d.decompress(data) + d.flush()
        except zlib.error as exc:
            raise ValueError(f"corrupt {name} frame: {exc}") from exc
        if not d.eof:
            raise ValueError(f"truncated {name} frame")
        return out, d.unused_data
    if name == "zstd":
        z = zstandard.ZstdDecompressor().decompressobj()
        try:
            out = z.decompress(bytes(data))
        except zstandard.ZstdError as exc:
            raise ValueError(f"corrupt zstd frame: {exc}") from exc
        if not z.eof:
            raise ValueError("truncated zstd frame")
        return out, z.unused_data
    if name == "brotli":
        b = brotli.Decompressor()
        try:
            out = b.process(bytes(data))
        except brotli.error as exc:
            raise ValueError(f"corrupt brotli stream (or several streams without their sizes): {exc}") from exc
        if not b.is_finished():
            raise ValueError("truncated brotli stream")
        return out, b""
    raise ValueError(f"unknown codec {name}")


class FrameCompressor:
    """Feeds bytes into the current frame; `finish()` closes the frame and returns its tail."""

    def __init__(self, codec: Codec, level: int | None = None) -> None:
        self.codec = codec
        self.level = codec.level if level is None else level
        self._obj: Any = None

    def _start(self) -> Any:
        name = self.codec.name
        if name == "gzip":
            return zlib.compressobj(self.level, zlib.DEFLATED, 31)
        if name == "deflate":
            return zlib.compressobj(self.level, zlib.DEFLATED, 15)
        if name == "zstd":
            return zstandard.ZstdCompressor(level=self.level, write_checksum=True).compressobj()
        if name == "brotli":
            return brotli.Compressor(quality=self.level, mode=brotli.MODE_TEXT)
        raise ValueError(f"unknown codec {name}")

    def compress(self, data: bytes) -> bytes:
        if self.codec.name == "none":
            return data
        if self._obj is None:
            self._obj = self._start()
        if self.codec.name == "brotli":
            return self._obj.process(data)
        return self._obj.compress(data)

    def finish(self) -> bytes:
        if self.codec.name == "none" or self._obj is None:
            return b""
        obj, self._obj = self._obj, None
        if self.codec.name == "brotli":
            return obj.finish()
        if self.codec.name == "zstd":
            return obj.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH)
        return obj.flush(zlib.Z_FINISH)

    @property
    def open(self) -> bool:
        return self._obj is not None


GZIP = Codec("gzip", ".jsonl.gz", "application/gzip", level=6)
ZSTD = Codec("zstd", ".jsonl.zst", "application/zstd", level=3)
BROTLI = Codec("brotli", ".jsonl.br", "application/x-brotli", level=5, self_delimiting=False)
DEFLATE = Codec("deflate", ".jsonl.zz", "application/zlib", level=6)
NONE = Codec("none", ".jsonl", "application/x-ndjson")
CODECS = {c.name: c for c in (GZIP, ZSTD, BROTLI, DEFLATE, NONE)}


def empty_file(codec: Codec) -> bytes:
    """A valid file with no lines: one empty frame (zcat of it prints nothing)."""
    c = codec.compressor()
    return c.compress(b"") + c.finish() if codec.name != "none" else b""
