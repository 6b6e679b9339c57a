"""Property tests of the JSONL line codec and the compression frames: what the engine writes is what it
reads back, for any object and any way of cutting a file into parts."""

from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3db_backup.archive.frames import CODECS, GZIP, empty_file
from s3db_backup.archive.lines import StoredLine, StoredObject, decode_line, encode_line
from s3db_backup.format.layout import classify

header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
objects = st.builds(
    StoredObject,
    key=st.text(min_size=1, max_size=80).filter(lambda k: "\n" not in k),
    metadata=st.dictionaries(header_text.filter(bool), header_text, max_size=8),
    content_type=st.one_of(st.none(), st.sampled_from(["application/json", "application/octet-stream"])),
    body=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)),
    headers=st.dictionaries(st.sampled_from(["CacheControl", "ContentEncoding"]), header_text.filter(bool),
                            max_size=2),
)


@given(objects, st.one_of(st.none(), st.text(min_size=1, max_size=20)))
def test_a_line_decodes_to_the_object_it_encodes(obj: StoredObject, record_id: str | None) -> None:
    line = encode_line(obj, record_id)
    assert line.endswith(b"\n") and line.count(b"\n") == 1  # one object, one line, whatever the body
    assert decode_line(line) == StoredLine(record_id, obj)


def test_text_bodies_stay_readable_and_binary_bodies_are_marked() -> None:
    text = json.loads(encode_line(StoredObject("k", {}, None, "olá 🌍".encode()), "1"))
    assert text["_s3db"]["body"] == "olá 🌍" and "bodyEncoding" not in text["_s3db"]
    binary = json.loads(encode_line(StoredObject("k", {}, None, b"\xff\x00"), "1"))
    assert binary["_s3db"]["bodyEncoding"] == "base64"


@pytest.mark.parametrize("bad", [b"{}", b'{"_s3db": {"meta": {}}}', b"not json",
                                 b'{"_s3db": {"key": "k", "meta": {}, "body": "x", "bodyEncoding": "rot13"}}'])
def test_malformed_lines_are_refused(bad: bytes) -> None:
    with pytest.raises(ValueError):
        decode_line(bad)


@given(st.lists(st.binary(max_size=200), max_size=30), st.lists(st.integers(0, 30), max_size=5))
def test_any_cut_into_frames_reads_back_whole(chunks: list[bytes], cuts: list[int]) -> None:
    for codec in (GZIP, CODECS["none"]):  # self-delimiting framings; the others are tested in test_codecs.py
        out, compressor = b"", codec.compressor()
        for i, chunk in enumerate(chunks):
            out += compressor.compress(chunk)
            if i in cuts:
                out += compressor.finish()  # a part boundary: close the frame
        out += compressor.finish()
        assert b"".join(codec.iter_decompress(out)) == b"".join(chunks)
        if codec is GZIP:
            assert gzip.decompress(out) == b"".join(chunks)  # plain gzip tools read a multi-member file


def test_truncated_or_corrupt_frames_raise() -> None:
    compressor = GZIP.compressor()
    data = compressor.compress(b"hello\n" * 100) + compressor.finish()
    with pytest.raises(ValueError):
        list(GZIP.iter_decompress(data[:-5]))
    with pytest.raises(ValueError):
        list(GZIP.iter_decompress(data[:10] + bytes([data[10] ^ 0xFF]) + data[11:]))


def test_an_empty_file_is_valid_gzip() -> None:
    assert gzip.decompress(empty_file(GZIP)) == b""


@pytest.mark.parametrize(("key", "kind", "resource", "rid"), [
    ("resource=users/data/id=u-1", "record", "users", "u-1"),
    ("resource=users/partition=byCountry/country=BR/id=u-1", "partition", "users", "u-1"),
    ("resource=users/data/id=", "other", "users", None),
    ("resource=users/meta/count.json", "other", "users", None),
    ("plugin=cache/x", "other", None, None),
    ("s3db.json", "other", None, None),
])
def test_keys_are_classified_by_the_s3db_layout(key: str, kind: str, resource: str | None, rid: str | None) -> None:
    info = classify(key)
    assert (info.kind, info.resource, info.record_id) == (kind, resource, rid)
