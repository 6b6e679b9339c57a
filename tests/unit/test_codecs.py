"""Compression frames for every codec: parts decompress on their own, whole files stay readable by the
codec's standard tools, damage raises, and backups restore exactly whatever the codec."""

from __future__ import annotations

import gzip
import hashlib
import io
import itertools
import json
import zlib
from typing import Any

import brotli
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3db_backup.archive.frames import CODECS, Codec, empty_file
from s3db_backup.config import Settings
from s3db_backup.errors import ConfigError, IntegrityError
from tests.unit.engine_driver import backup, restore, snapshot_objects, write_fake_database

COMPRESSED = [name for name in CODECS if name != "none"]
CHECKSUMMED = ["gzip", "zstd", "deflate"]  # brotli carries no checksum: the part's sha256 (and GCM) cover it

lines_st = st.lists(st.binary(max_size=200).map(lambda b: b.replace(b"\n", b" ") + b"\n"), max_size=40)


def write_part(codec: Codec, lines: list[bytes], closes: set[int]) -> tuple[bytes, list[int]]:
    """One part the way PartWriter makes it: frames closed after the lines in `closes` and at the end."""
    compressor, data, frames = codec.compressor(), bytearray(), []
    for i, line in enumerate(lines):
        data += compressor.compress(line)
        if i in closes:
            data += compressor.finish()
            frames.append(len(data) - sum(frames))
    data += compressor.finish()
    if len(data) - sum(frames):
        frames.append(len(data) - sum(frames))
    if not data:
        data = bytearray(empty_file(codec))
        frames = [len(data)] if data else []
    return bytes(data), frames


@st.composite
def split_lines(draw: Any) -> tuple[list[bytes], list[list[bytes]], list[set[int]]]:
    lines = draw(lines_st)
    cuts = sorted(draw(st.sets(st.integers(0, len(lines)), max_size=5)))
    bounds = [0, *cuts, len(lines)]
    parts = [lines[a:b] for a, b in itertools.pairwise(bounds)]
    closes = [draw(st.sets(st.integers(0, max(len(p) - 1, 0)), max_size=3)) for p in parts]
    return lines, parts, closes


@pytest.mark.parametrize("name", list(CODECS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=split_lines())
def test_any_split_into_parts_decompresses_to_the_same_bytes(name: str, case: Any) -> None:
    codec = CODECS[name]
    lines, parts, closes = case
    written = [write_part(codec, p, c) for p, c in zip(parts, closes, strict=True)]
    # every part on its own, with the frame sizes the manifest records
    for (data, frames), part_lines in zip(written, parts, strict=True):
        assert b"".join(codec.iter_decompress(data, frames)) == b"".join(part_lines)
        if codec.self_delimiting:  # and without them for every codec but brotli
            assert b"".join(codec.iter_decompress(data)) == b"".join(part_lines)
    whole = b"".join(data for data, _ in written)
    all_frames = [size for _, frames in written for size in frames]
    assert b"".join(codec.iter_decompress(whole, all_frames)) == b"".join(lines)
    assert standard_tool_reads(codec, whole, all_frames) == b"".join(lines)


def standard_tool_reads(codec: Codec, whole: bytes, frames: list[int]) -> bytes:
    """The file read with the codec's own library (not our decoder)."""
    if codec.name == "gzip":
        return gzip.decompress(whole)
    if codec.name == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(whole), read_across_frames=True)
        return reader.read()
    if codec.name == "deflate":
        out, rest = b"", whole
        while rest:
            d = zlib.decompressobj()
            out += d.decompress(rest) + d.flush()
            rest = d.unused_data
        return out
    if codec.name == "brotli":  # one stream per frame, split by the recorded sizes
        out, offset = b"", 0
        for size in frames:
            out += brotli.decompress(whole[offset : offset + size])
            offset += size
        return out
    return whole


@pytest.mark.parametrize("name", COMPRESSED)
@settings(max_examples=40, deadline=None)
@given(lines=lines_st.filter(bool), data=st.data())
def test_a_truncated_frame_raises(name: str, lines: list[bytes], data: Any) -> None:
    codec = CODECS[name]
    frame, _ = write_part(codec, lines, set())
    cut = data.draw(st.integers(0, len(frame) - 1))
    with pytest.raises(ValueError):
        b"".join(codec.iter_decompress(frame[:cut] or b"\x00"))
    with pytest.raises(ValueError):  # recorded sizes no longer match
        b"".join(codec.iter_decompress(frame[:cut], [len(frame)]))


@pytest.mark.parametrize("name", CHECKSUMMED)
@settings(max_examples=80, deadline=None)
@given(lines=lines_st.filter(bool), data=st.data())
def test_a_damaged_frame_raises_or_decodes_to_the_original(name: str, lines: list[bytes], data: Any) -> None:
    """A flipped byte never decodes to different data (header bytes outside the checksum may not matter)."""
    codec = CODECS[name]
    frame, frames = write_part(codec, lines, set())
    at = data.draw(st.integers(0, len(frame) - 1))
    bit = data.draw(st.integers(0, 7))
    damaged = bytearray(frame)
    damaged[at] ^= 1 << bit
    try:
        out = b"".join(codec.iter_decompress(bytes(damaged), frames))
    except ValueError:
        return
    assert out == b"".join(lines)


def test_brotli_streams_without_sizes_are_refused_not_misread() -> None:
    codec = CODECS["brotli"]
    data, frames = write_part(codec, [b"a\n", b"b\n", b"c\n"], {0})
    assert len(frames) == 2
    with pytest.raises(ValueError, match="brotli"):
        list(codec.iter_decompress(data))
    assert b"".join(codec.iter_decompress(data, frames)) == b"a\nb\nc\n"


def test_unknown_compression_is_refused() -> None:
    with pytest.raises(ConfigError, match="compression must be one of"):
        Settings.from_options({"compression": "lzma"})


def manifest_of(s3: Any, backup_dir: str) -> dict[str, Any]:
    return json.loads(s3.get_object(Bucket="backups", Key=f"{backup_dir}/s3db.json")["Body"].read())


@pytest.mark.parametrize("name", list(CODECS))
def test_backup_and_restore_with_every_codec(s3: Any, name: str) -> None:
    write_fake_database(s3, "srcdb", "app", records=40)
    before = snapshot_objects(s3, "srcdb", "app")
    result, _ = backup(s3, "s3://srcdb/app", "s3://backups/b", compression=name, chunkMaxLines=7)
    manifest = manifest_of(s3, f"b/{result['backupId']}")
    ext = CODECS[name].extension
    assert manifest["resources"]["users"]["exportFile"] == f"users{ext}"
    assert {f["compression"] for f in manifest["files"]} == {name}
    assert all(f["key"].endswith(ext) for f in manifest["files"])
    users = next(f for f in manifest["files"] if f["kind"] == "records" and f["resource"] == "users")
    body = s3.get_object(Bucket="backups", Key=f"b/{result['backupId']}/users{ext}")["Body"].read()
    frames = [size for p in users["parts"] for size in p["frames"]]
    text = standard_tool_reads(CODECS[name], body, frames)
    assert [json.loads(x)["id"] for x in text.splitlines()] == [f"u-{i:05d}" for i in range(40)]

    restore(s3, result["backupId"], "s3://backups/b", target="s3://srcdb/copy")
    assert snapshot_objects(s3, "srcdb", "copy") == before


@pytest.mark.parametrize("name", ["brotli", "zstd"])
def test_multipart_files_with_spills_restore_exactly(s3: Any, name: str) -> None:
    """Spills make parts of several frames; brotli needs their recorded sizes to read such a part."""
    write_fake_database(s3, "srcdb", "app", records=10, big_bodies=24)
    before = snapshot_objects(s3, "srcdb", "app")
    result, _ = backup(s3, "s3://srcdb/app", "s3://backups", compression=name, chunkMaxLines=5, partSizeMiB=5)
    manifest = manifest_of(s3, result["backupId"])
    notes = next(f for f in manifest["files"] if f["key"] == f"notes{CODECS[name].extension}")
    assert len(notes["parts"]) >= 2
    assert any(len(p["frames"]) > 1 for p in notes["parts"])
    assert all(sum(p["frames"]) == p["size"] for p in notes["parts"])
    restore(s3, result["backupId"], "s3://backups", target="s3://srcdb/copy", options={"chunkMaxLines": 4})
    assert snapshot_objects(s3, "srcdb", "copy") == before


@pytest.mark.parametrize("name", COMPRESSED)
def test_a_damaged_part_is_an_integrity_error_for_every_codec(s3: Any, name: str) -> None:
    """Even with the manifest's checksum made to match, a damaged frame cannot restore quietly."""
    write_fake_database(s3, "srcdb", "app", records=20)
    result, _ = backup(s3, "s3://srcdb/app", "s3://backups", compression=name)
    key = f"{result['backupId']}/users{CODECS[name].extension}"
    body = bytearray(s3.get_object(Bucket="backups", Key=key)["Body"].read())
    body = body[: len(body) - 3]  # truncated frame, checksum "fixed" in the manifest
    s3.put_object(Bucket="backups", Key=key, Body=bytes(body))
    manifest = manifest_of(s3, result["backupId"])
    entry = next(f for f in manifest["files"] if f["key"] == key.split("/", 1)[1])
    entry["bytes"] = entry["parts"][0]["size"] = len(body)
    entry["parts"][0]["sha256"] = hashlib.sha256(body).hexdigest()
    entry["parts"][0]["frames"] = [len(body)]
    s3.put_object(Bucket="backups", Key=f"{result['backupId']}/s3db.json", Body=json.dumps(manifest).encode())
    with pytest.raises(IntegrityError):
        restore(s3, result["backupId"], "s3://backups", target="s3://srcdb/copy")
    assert s3.list_objects_v2(Bucket="srcdb", Prefix="copy/")["KeyCount"] == 0
