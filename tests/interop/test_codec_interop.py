"""The codec judged by the real s3db.js 21.6.2: Node writes every type and behavior (seed profile `types`), Python
decodes each stored object to exactly what get() returns, and objects Python encodes are read back by s3db.js
identically."""

from __future__ import annotations

import base64
import uuid
import zlib
from typing import Any, NamedTuple

import pytest

from s3db_backup.archive.lines import StoredObject
from s3db_backup.format.codec import ResourceCodec, UnrecognizedObject
from s3db_backup.format.layout import SCHEMA_KEY, classify
from s3db_backup.format.schema import DatabaseSchema
from s3db_backup.local import s3dbjs

#: Records s3db.js changed after insert (update() rewrites differently from insert()).
UPDATED = {"kinds": {"k-00002", "k-00003"}, "packed_pn": {"pn-00002"},
           **{f"sized_{p}": {f"{p}-00001", f"{p}-00003"} for p in ("um", "bo", "bb", "td", "el")}}
#: v2 objects s3db.js wrote with a fresh index mapping that s3db.json's schemaRegistry does not hold (the resource
#: was redefined in the same session): keys outside the layout, so unrecognized, and get() misreads them.
UNRECOGNIZED = {("evolving", f"v-{i:05d}") for i in range(6, 11)}
#: Records whose decoded form cannot re-encode to the stored bytes (the backup keeps their stored form):
#: get() parses strings that look like JSON into objects; truncate-data records lose their `_truncated` flag.
def _not_reencodable(obj: StoredObject) -> bool:
    return "_truncated" in obj.metadata or any(v.startswith(("{", "[")) for v in obj.metadata.values())


#: What get() makes of some values s3db.js stored, so that writing the record again stores something else (the
#: backup keeps their stored form; s3db.js reads the re-encoded object the same way):
#: - a top-level timeonly: get() unmaps metadata twice, `12:30:05.500` -> `NaN:NaN:NaN.NaN`;
#: - -5e-324 is stored as `-` (encodeDecimal of a denormal) and read as -0, which is stored as `0`;
#: - buffers/bits: flatten() spreads them byte by byte (`blob.0`: 104, ...), a body-only get() reads an array;
#: - an IPv4 of six digits: get() decodes it again (base64 of the digits is 4 bytes): 1.2.3.100 -> GARBLED_IP.
GARBLED_IP = "215.109.245.211"
def _lossy(resource: str, data: dict[str, Any]) -> bool:
    return (resource == "packed_bufs" or data.get("time") == "NaN:NaN:NaN.NaN" or data.get("ip") == GARBLED_IP
            or (data.get("tiny") == 0 and resource.startswith("packed")))


def _canonical(value: Any) -> Any:
    """read_records.mjs's JSON form: Buffers as {"buffer": base64}."""
    if isinstance(value, bytes):
        return {"buffer": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value

#: Attributes holding secrets: get() decrypts them, the codec keeps the ciphertext.
SECRETS = {"kinds": {"token"}}


class TypesDb(NamedTuple):
    bucket: str
    prefix: str
    connection: str
    schema: DatabaseSchema
    objects: dict[str, StoredObject]
    reads: dict[str, dict[str, Any]]


def _objects(s3: Any, bucket: str, prefix: str) -> dict[str, StoredObject]:
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        for item in page.get("Contents", []):
            got = s3.get_object(Bucket=bucket, Key=item["Key"])
            rel = item["Key"][len(prefix) + 1 :]
            out[rel] = StoredObject(rel, dict(got["Metadata"]), got.get("ContentType"), got["Body"].read())
    return out


def _read(connection: str) -> dict[str, dict[str, Any]]:
    stdout = s3dbjs.run_script("read_records.mjs", ["--connection", connection], timeout=300)
    return s3dbjs._last_json_line(stdout, "read_records.mjs")


@pytest.fixture(scope="module")
def types_db(moto_server, s3dbjs_installed, s3db_connection, s3_client) -> TypesDb:
    bucket = moto_server.create_bucket(f"types-{uuid.uuid4().hex[:12]}")
    prefix = "db/types"
    connection = s3db_connection(bucket, prefix)
    s3dbjs.seed(connection, "types", 0, 1, timeout=300)
    objects = _objects(s3_client, bucket, prefix)
    schema = DatabaseSchema.parse(objects[SCHEMA_KEY].body.decode(), where=SCHEMA_KEY)
    return TypesDb(bucket, prefix, connection, schema, objects, _read(connection))


def _records(db: TypesDb, *, recognized: bool = False) -> list[StoredObject]:
    return [o for k, o in sorted(db.objects.items()) if classify(k).kind == "record"
            and not (recognized and (classify(k).resource, classify(k).record_id) in UNRECOGNIZED)]


def _without_secrets(resource: str, record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in SECRETS.get(resource, set())}


def test_every_resource_and_behavior_is_seeded(types_db: TypesDb) -> None:
    behaviors = {types_db.schema.current_definition(r).get("behavior") for r in types_db.schema.resources}
    assert behaviors == {"user-managed", "body-overflow", "body-only", "truncate-data", "enforce-limits"}
    assert len(types_db.schema.resource("evolving")["versions"]) == 2


def test_python_decodes_every_record_exactly_as_get(types_db: TypesDb) -> None:
    codecs = {r: ResourceCodec.from_schema(types_db.schema, r) for r in types_db.schema.resources}
    mismatches = []
    checked = 0
    for obj in _records(types_db):
        info = classify(obj.key)
        expected = types_db.reads[info.resource][info.record_id]
        assert "error" not in expected, expected
        if (info.resource, info.record_id) in UNRECOGNIZED:
            with pytest.raises(UnrecognizedObject, match="layout"):
                codecs[info.resource].decode(obj)
            checked += 1
            continue
        decoded = codecs[info.resource].decode(obj)
        assert decoded.version == obj.metadata["_v"]
        got = _canonical(_without_secrets(info.resource, decoded.data))
        want = _without_secrets(info.resource, expected["record"])
        if got != want:
            mismatches.append((obj.key, got, want))
        for secret in SECRETS.get(info.resource, ()):
            if secret in expected["record"]:
                assert decoded.data[secret] != expected["record"][secret], "a plaintext secret was decoded"
        checked += 1
    assert checked == sum(len(v) for v in types_db.reads.values())
    assert not mismatches, mismatches[:3]


def test_python_encoding_is_byte_identical_to_s3dbjs_inserts(types_db: TypesDb) -> None:
    codecs = {r: ResourceCodec.from_schema(types_db.schema, r) for r in types_db.schema.resources}
    different = []
    for obj in _records(types_db, recognized=True):
        info = classify(obj.key)
        if info.record_id in UPDATED.get(info.resource, set()):
            continue
        decoded = codecs[info.resource].decode(obj)
        encoded = codecs[info.resource].encode(decoded.data, decoded.version)
        if encoded != obj and not _not_reencodable(obj) and not _lossy(info.resource, decoded.data):
            different.append((obj, encoded))
    assert checked_types(types_db) >= {"timeonly", "mac", "cidr", "semver", "phone", "color", "duration", "ean",
                                       "ip4", "ip6", "buffer", "bits:16", "geo:lat", "geo:lon:4", "geo:point"}
    report = []
    for obj, enc in different:
        keys = sorted(set(obj.metadata) | set(enc.metadata))
        report.append((obj.key, [(k, obj.metadata.get(k), enc.metadata.get(k)) for k in keys
                                 if obj.metadata.get(k) != enc.metadata.get(k)],
                       obj.content_type, enc.content_type, obj.body[:80], enc.body[:80]))
    assert not different, (len(different), report)


def checked_types(db: TypesDb) -> set[str]:
    """Base types of every attribute the seeded s3db.json defines (nested ones included)."""
    found: set[str] = set()

    def walk(attributes: dict[str, Any]) -> None:
        for definition in attributes.values():
            if isinstance(definition, dict):
                walk(definition)
            elif isinstance(definition, str):
                found.add(definition.split("|")[0])

    for resource in db.schema.resources:
        walk(db.schema.current_definition(resource).get("attributes") or {})
    return found


def test_partition_references_match(types_db: TypesDb) -> None:
    codecs = {r: ResourceCodec.from_schema(types_db.schema, r) for r in types_db.schema.resources}
    expected = {k for k in types_db.objects if classify(k).kind == "partition"}
    stale = set()
    computed = set()
    for obj in _records(types_db, recognized=True):
        info = classify(obj.key)
        decoded = codecs[info.resource].decode(obj)
        computed.update(codecs[info.resource].partition_keys(decoded.data, decoded.version))
    for key in expected - computed:
        # updates leave the old reference when a partition value changes? s3db.js deletes it; none expected
        stale.add(key)
    assert computed <= expected, sorted(computed - expected)[:5]
    assert not stale, sorted(stale)[:5]
    for key in expected:
        obj = types_db.objects[key]
        codec = codecs[classify(key).resource]
        assert codec.partition_object(key, obj.metadata["_v"]) == obj


def test_s3dbjs_reads_python_encoded_objects_identically(types_db: TypesDb, moto_server, s3_client,
                                                         s3db_connection) -> None:
    codecs = {r: ResourceCodec.from_schema(types_db.schema, r) for r in types_db.schema.resources}
    prefix = "db/encoded"
    s3_client.put_object(Bucket=types_db.bucket, Key=f"{prefix}/{SCHEMA_KEY}",
                         Body=types_db.objects[SCHEMA_KEY].body, ContentType="application/json")
    for obj in _records(types_db):
        info = classify(obj.key)
        if (info.resource, info.record_id) in UNRECOGNIZED:
            encoded = obj  # restored as stored
        else:
            decoded = codecs[info.resource].decode(obj)
            encoded = codecs[info.resource].encode(decoded.data, decoded.version)
            if encoded != obj and info.record_id in UPDATED.get(info.resource, set()) | {"bb-00001"}:
                encoded = obj  # updates are stored differently from inserts: the backup keeps the stored form
            elif _not_reencodable(obj):
                encoded = obj
        s3_client.put_object(Bucket=types_db.bucket, Key=f"{prefix}/{encoded.key}", Body=encoded.body,
                             Metadata=encoded.metadata, ContentType=encoded.content_type)
    crafted = _crafted(codecs["packed_pu"])
    for obj in crafted:
        s3_client.put_object(Bucket=types_db.bucket, Key=f"{prefix}/{obj.key}", Body=obj.body, Metadata=obj.metadata,
                             ContentType=obj.content_type)
    reads = _read(s3db_connection(types_db.bucket, prefix))
    crafted_reads = {i: reads["packed_pu"].pop(i) for i in list(reads["packed_pu"]) if i.startswith("zz-")}
    assert reads == types_db.reads
    # Stored text s3db.js never writes itself but reads: compressed metadata, values outside each packing.
    assert len(crafted_reads) == len(crafted)
    for obj in crafted:
        decoded = codecs["packed_pu"].decode(obj)
        assert _canonical(decoded.data) == crafted_reads[decoded.id]["record"], decoded.id


def _deflate(text: str) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(text.encode()) + c.flush()


def _crafted(codec: ResourceCodec) -> list[StoredObject]:
    from s3db_backup.format.codec.concerns import encode_base85

    key = codec.versions[codec.current].schema.map
    text = "Überprüfung 東京 🚀 " * 8
    odd = [
        {key["label"]: "z:" + base64.b64encode(_deflate(text)).decode(),
         key["email"]: "z85:" + encode_base85(_deflate(text))},
        {key["label"]: "z:!!notdeflate", key["email"]: "z85:", key["cur"]: "z:"},
        {key["mac"]: "zzzzzzzzz", key["cidr"]: "abcdefg", key["ver"]: "-5", key["dur"]: "-5", key["ean"]: "1zz",
         key["color"]: "zzzzz", key["phone"]: "abc", key["time"]: "-5"},
        {key["mac"]: "-00000001", key["cidr"]: "zzzzzz1", key["ver"]: "zzzz", key["dur"]: "zzzzzz",
         key["ean"]: "0", key["color"]: "-0001", key["ip"]: "bm90IGFuIGlw", key["ip6"]: "::gg",
         key["lat"]: "~zz", key["lon"]: "~", key["point"]: "~1~2~3", key["tiny"]: "-"},
    ]
    return [StoredObject(f"resource=packed_pu/data/id=zz-{i:05d}", {"_v": "v1", **m}, "application/octet-stream", b"")
            for i, m in enumerate(odd, 1)]


def test_unrecognized_objects_are_reported(types_db: TypesDb) -> None:
    codec = ResourceCodec.from_schema(types_db.schema, "kinds")
    obj = next(o for o in _records(types_db) if o.key.startswith("resource=kinds/"))
    with pytest.raises(UnrecognizedObject, match=r"not in s3db\.json"):
        codec.decode(StoredObject(obj.key, {**obj.metadata, "_v": "v9"}, obj.content_type, obj.body))
    with pytest.raises(UnrecognizedObject, match="layout"):
        codec.decode(StoredObject(obj.key, {**obj.metadata, "zz": "x"}, obj.content_type, obj.body))
