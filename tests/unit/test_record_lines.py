"""The decoded line format: a record line reads back to the record it was written from, and whatever s3db.js
(or anyone) stored, the line the backup writes gives back the stored object byte for byte."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3db_backup.archive.lines import RecordLine, StoredLine, StoredObject, decode_line, encode_record_line
from s3db_backup.archive.records import ResourceCodecs, backup_line, restore_object
from s3db_backup.format.codec import ResourceCodec
from s3db_backup.format.schema import DatabaseSchema

SCHEMA = {"version": "1", "s3dbVersion": "21.6.2", "resources": {"people": {
    "currentVersion": "v1",
    "versions": {"v1": {"behavior": "body-overflow", "timestamps": False, "attributes": {
        "name": "string|required", "age": "number|integer|optional", "score": "number|optional",
        "active": "boolean|optional", "tags": "array|items:string|optional",
        "address": {"city": "string|optional"}}}},
    "schemaRegistry": {"nextIndex": 7, "burned": [], "mapping": {
        "name": 0, "age": 1, "score": 2, "active": 3, "tags": 4, "address.city": 5, "address": 6}},
}}}


def people_codec(behavior: str = "body-overflow") -> ResourceCodec:
    doc = json.loads(json.dumps(SCHEMA))
    doc["resources"]["people"]["versions"]["v1"]["behavior"] = behavior
    return ResourceCodec.from_schema(DatabaseSchema.parse(json.dumps(doc)), "people")


# --- line syntax ---------------------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1), st.text(max_size=30),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f != int(f)),
)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)
attribute_names = st.text(min_size=1, max_size=12).filter(lambda k: k not in ("id", "_s3db"))
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)
kept_parts = st.fixed_dictionaries({}, optional={
    "metadata": st.dictionaries(header_text.filter(bool), header_text, max_size=4),
    "content_type": st.one_of(st.none(), st.just("application/json")),
    "headers": st.dictionaries(st.sampled_from(["CacheControl", "ContentLanguage"]), header_text, max_size=2),
    "body": st.one_of(st.binary(max_size=60), st.text(max_size=60).map(str.encode)),
})


@given(st.text(min_size=1, max_size=20), st.dictionaries(attribute_names, json_values, max_size=6),
       st.text(min_size=1, max_size=5), kept_parts)
def test_a_record_line_decodes_to_the_record_it_encodes(record_id: str, attributes: dict[str, Any], version: str,
                                                        kept: dict[str, Any]) -> None:
    record = {"id": record_id, **attributes}
    line = encode_record_line(record, version, kept)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    parsed = decode_line(line)
    assert parsed == RecordLine(record, version, kept)
    assert list(parsed.record) == ["id", *attributes]  # `id` first, attribute order kept (encoders depend on it)


def test_a_record_line_is_the_record_plus_one_reserved_member() -> None:
    line = json.loads(encode_record_line({"name": "Ana", "id": "p-1", "age": 31}, "v1"))
    assert line == {"id": "p-1", "name": "Ana", "age": 31, "_s3db": {"version": "v1"}}
    assert list(line) == ["id", "name", "age", "_s3db"]


def test_numbers_read_back_as_javascript_numbers() -> None:
    line = b'{"id":"a","i":3,"f":2.0,"big":12345678901234567890,"e":1e3,"_s3db":{"version":"v1"}}'
    record = decode_line(line).record
    assert record == {"id": "a", "i": 3, "f": 2, "big": 1.2345678901234567e19, "e": 1000}
    assert type(record["f"]) is int and type(record["big"]) is float


@pytest.mark.parametrize("record", [{"id": ""}, {"name": "no id"}, {"id": "x", "_s3db": 1},
                                    {"id": "x", "n": float("nan")}])
def test_records_json_cannot_carry_are_refused(record: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        encode_record_line(record, "v1")


@pytest.mark.parametrize("bad", [b'{"id":"x","_s3db":{}}', b'{"id":"x","_s3db":{"version":""}}',
                                 b'{"_s3db":{"version":"v1"}}', b'{"id":"x","_s3db":{"version":"v1","meta":[]}}',
                                 b'{"id":"x","_s3db":{"version":"v1","body":"x","bodyEncoding":"hex"}}',
                                 b'{"id":"x","n":NaN,"_s3db":{"version":"v1"}}'])
def test_malformed_record_lines_are_refused(bad: bytes) -> None:
    with pytest.raises(ValueError):
        decode_line(bad)


# --- which line a stored object gets -------------------------------------------------------------------

plain = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30).filter(
    lambda s: not s.startswith(("{", "[")) and s not in ("null", "undefined", "[object Object]"))
people = st.fixed_dictionaries({"id": st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True), "name": plain}, optional={
    "age": st.integers(-(10**9), 10**9), "active": st.booleans(),
    "tags": st.lists(plain.filter(lambda t: "|" not in t), max_size=3).filter(lambda t: t != [""]),
    "address": st.fixed_dictionaries({"city": plain}),
})


@settings(max_examples=150, deadline=None)
@given(people)
def test_objects_s3dbjs_inserts_become_decoded_lines_that_restore_exactly(record: dict[str, Any]) -> None:
    codec = people_codec()
    stored = codec.encode(record, "v1")
    built = backup_line(stored, record["id"], codec)
    assert built.decoded
    line = json.loads(built.data)
    assert line["_s3db"] == {"version": "v1"}  # re-encoding gives the object back: nothing else is kept
    assert {k: v for k, v in line.items() if k != "_s3db"} == record
    assert restore_object(decode_line(built.data), codec) == stored


stored_objects = st.builds(
    StoredObject,
    key=st.just("resource=people/data/id=p-1"),
    metadata=st.one_of(
        st.dictionaries(st.sampled_from(["_v", "0", "1", "3", "5", "_overflow", "zz"]),
                        st.sampled_from(["v1", "v2", "", "Ana", "1z", "true", "{\"a\":1}", "u:%C3%A9", "[1]"]),
                        max_size=5),
        st.just({"_v": "v1", "0": "Ana"}),
    ),
    content_type=st.sampled_from([None, "application/json", "application/octet-stream", "binary/octet-stream"]),
    body=st.sampled_from([b"", b"{}", b'{"1":"2s"}', b"[1,2]", b"\xff\x00", b'{"4":"a|b"}', "é".encode()]),
    headers=st.sampled_from([{}, {"CacheControl": "no-cache"}]),
)


@settings(max_examples=300, deadline=None)
@given(stored_objects, st.sampled_from(["body-overflow", "user-managed", "body-only", "truncate-data"]))
def test_whatever_was_stored_the_line_restores_it_byte_for_byte(obj: StoredObject, behavior: str) -> None:
    codec = people_codec(behavior)
    built = backup_line(obj, "p-1", codec)
    parsed = decode_line(built.data)
    assert isinstance(parsed, RecordLine) == built.decoded
    assert restore_object(parsed, codec) == obj


def test_a_record_whose_reencoding_differs_keeps_only_the_stored_parts_that_differ() -> None:
    codec = people_codec("user-managed")
    # get() parses a string attribute that looks like JSON into an object: re-encoding writes other text.
    obj = StoredObject("resource=people/data/id=p-1", {"_v": "v1", "0": '{"a":1}', "1": "1z"},
                       "application/octet-stream", b"")
    built = backup_line(obj, "p-1", codec)
    line = json.loads(built.data)
    assert built.decoded and line["name"] == {"a": 1} and line["age"] == 97
    assert line["_s3db"] == {"version": "v1", "meta": obj.metadata}
    assert restore_object(decode_line(built.data), codec) == obj


@pytest.mark.parametrize(("obj", "why"), [
    (StoredObject("resource=people/data/id=p-1", {"_v": "v9", "0": "Ana"}, "application/octet-stream", b""),
     "unknown schema version"),
    (StoredObject("resource=people/data/id=p-1", {"0": "Ana"}, "application/octet-stream", b""), "no _v"),
    (StoredObject("resource=people/data/id=p-1", {"_v": "v1", "zz": "x"}, None, b""), "key outside the layout"),
    (StoredObject("resource=people/data/id=p-1", {"_v": "v1"}, None, b"\xff\xfe"), "body not UTF-8"),
])
def test_records_the_codec_cannot_read_keep_the_stored_form(obj: StoredObject, why: str) -> None:
    codec = people_codec()
    built = backup_line(obj, "p-1", codec)
    assert not built.decoded, why
    parsed = decode_line(built.data)
    assert parsed == StoredLine("p-1", obj)
    assert restore_object(parsed, codec) == obj


def test_without_a_schema_records_stay_as_stored_and_a_record_line_cannot_be_restored() -> None:
    obj = people_codec().encode({"id": "p-1", "name": "Ana"}, "v1")
    assert not backup_line(obj, "p-1", ResourceCodecs(None).get("people")).decoded
    assert ResourceCodecs.from_text("not json").get("people") is None
    with pytest.raises(ValueError, match="no schema"):
        restore_object(decode_line(encode_record_line({"id": "p-1", "name": "Ana"}, "v1")), None)


def test_a_decoded_value_json_cannot_hold_keeps_the_stored_form() -> None:
    class BytesCodec:  # decodes to raw bytes, as buffer fields written by something other than s3db.js can
        def decode(self, obj: StoredObject) -> Any:
            from s3db_backup.format.codec import DecodedRecord

            return DecodedRecord("p-1", "v1", {"id": "p-1", "blob": b"\x00\x01"})

    obj = StoredObject("resource=people/data/id=p-1", {"_v": "v1", "0": "x"}, None, b"")
    built = backup_line(obj, "p-1", BytesCodec())  # type: ignore[arg-type]
    assert not built.decoded and decode_line(built.data) == StoredLine("p-1", obj)
