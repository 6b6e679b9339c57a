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
#: A plugin attribute with a string definition: s3db.json cannot mark it as one (`_pluginAttributeMetadata` is not
#: saved), so a reader maps it as a user attribute and get() returns the writer's hash key (`p3eb`) as a field.
UNRECOGNIZED |= {("plugged_str", "ps-00001"), ("plugged_str", "ps-00002")}
#: Objects stored with the maps of the session that added the plugin attributes, which differ from what a process
#: connected from s3db.json writes: edges written before s3db.json held `snapshot` (version v1 has no plugin keys),
#: and body-only `_map`s without the `<plugin attribute>.type`... indexes a reader assigns. Read identically.
WRITER_MAPS = {("gedges", f"ge-{i:05d}") for i in (1, 2, 3)} | {("plugged_bb", f"bb-{i:05d}") for i in range(1, 7)}
#: Resources of the seed's plugin-attribute part (seed.mjs, seedPluginAttributes).
PLUGGED = ("gnodes", "gedges", "plugged_um", "plugged_bb", "plugged_bo", "plugged_str")
#: Records whose decoded form cannot re-encode to the stored bytes (the backup keeps their stored form):
#: get() parses strings that look like JSON into objects; truncate-data records lose their `_truncated` flag.
def _not_reencodable(obj: StoredObject) -> bool:
    return "_truncated" in obj.metadata or any(v.startswith(("{", "[")) for k, v in obj.metadata.items()
                                               if k not in ("_map", "_pluginmap"))


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
        if info.record_id in UPDATED.get(info.resource, set()) or (info.resource, info.record_id) in WRITER_MAPS:
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


# --- plugin attributes ---------------------------------------------------------------------------------------


def test_plugin_attributes_are_stored_under_plugin_keys_and_decoded_as_get(types_db: TypesDb) -> None:
    """GraphPlugin's `snapshot` and attributes added through Resource.addPluginAttribute: s3db.json marks them with
    `__plugin__`, records store them under the hash keys of the plugin map (plus `_pluginmap` where the behavior
    keeps it), and the codec reads them as get() does (the whole database is compared above; this pins the parts
    that make it a test of plugin attributes)."""
    from s3db_backup.format.codec.plugins import attribute_hash

    edges = ResourceCodec.from_schema(types_db.schema, "gedges")
    assert edges.versions[edges.current].schema.plugin_map == {"snapshot": attribute_hash("GraphPlugin", "snapshot")}
    um = ResourceCodec.from_schema(types_db.schema, "plugged_um")
    keys = um.versions[um.current].schema.plugin_map
    assert set(keys) == {"_score", "flagged", "origin"} and all(k.startswith("p") for k in keys.values())
    stored = {k: o for k, o in types_db.objects.items() if classify(k).kind == "record"}
    used = {v for o in stored.values() for v in o.metadata} & ({edges.versions["v2"].schema.plugin_map["snapshot"]}
                                                             | set(keys.values()))
    assert used == {edges.versions["v2"].schema.plugin_map["snapshot"], *keys.values()}
    assert any("_pluginmap" in o.metadata for k, o in stored.items() if k.startswith("resource=plugged_bb/"))
    assert any("_pluginmap" in o.metadata for k, o in stored.items() if k.startswith("resource=plugged_um/"))
    # get() keeps a plugin attribute whose name starts with "_"; a non-empty snapshot comes back under its spread keys
    reads = types_db.reads
    assert reads["plugged_um"]["um-00001"]["record"]["_score"] == "7.25"
    assert reads["plugged_bb"]["bb-00001"]["record"]["_score"] == 7.25
    assert reads["gedges"]["ge-00006"]["record"]["snapshot"] == {}
    assert reads["gedges"]["ge-00005"]["record"]["snapshot_name"] == "Ana"
    for resource, record_id in [("plugged_um", "um-00001"), ("plugged_bb", "bb-00001"), ("plugged_bo", "bo-00004"),
                                ("gedges", "ge-00006"), ("gedges", "ge-00001"), ("plugged_um", "um-00005")]:
        codec = ResourceCodec.from_schema(types_db.schema, resource)
        decoded = codec.decode(types_db.objects[f"resource={resource}/data/id={record_id}"])
        assert decoded.data == reads[resource][record_id]["record"], (resource, record_id)


def test_a_string_defined_plugin_attribute_is_lost_by_s3dbjs(types_db: TypesDb) -> None:
    """s3db.js 21.6.2 keeps the plugin name of a string definition in `_pluginAttributeMetadata`, which s3db.json
    does not hold: the writer stores the hash key, a reader maps the attribute to an index and get() returns the
    hash key as a field. The codec keeps such objects as stored."""
    from s3db_backup.format.codec.plugins import attribute_hash

    key = attribute_hash("SeedPlugin", "tag")
    assert types_db.objects["resource=plugged_str/data/id=ps-00001"].metadata[key] == "tag 1"
    assert types_db.reads["plugged_str"]["ps-00001"]["record"] == {"title": "t1", key: "tag 1", "id": "ps-00001"}
    with pytest.raises(UnrecognizedObject, match="layout"):
        ResourceCodec.from_schema(types_db.schema, "plugged_str").decode(
            types_db.objects["resource=plugged_str/data/id=ps-00001"])


def test_plugin_resources_back_up_and_restore_byte_identical(types_db: TypesDb, s3_client, s3db_connection) -> None:
    """The plugin resources alone, through the engine: records decoded (but the string-defined plugin attribute's),
    the restored copy byte-identical and read by s3db.js exactly like the original."""
    import gzip
    import json

    from s3db_backup.compare import compare_prefixes
    from s3db_backup.locations import S3Location
    from tests.unit.engine_driver import backup, restore

    bucket, source = types_db.bucket, "db/plugged"
    for key, obj in types_db.objects.items():
        info = classify(key)
        if key == SCHEMA_KEY or (info.kind in ("record", "partition") and info.resource in PLUGGED):
            s3_client.put_object(Bucket=bucket, Key=f"{source}/{key}", Body=obj.body, Metadata=obj.metadata,
                                 ContentType=obj.content_type)
    store = f"s3://{bucket}/plugged-backups"
    result, _ = backup(s3_client, f"s3://{bucket}/{source}", store, chunkMaxLines=7)
    manifest = json.loads(s3_client.get_object(Bucket=bucket, Key=f"plugged-backups/{result['backupId']}/s3db.json")
                          ["Body"].read())
    decoded, kept = 0, set()
    for file in manifest["files"]:
        if file["kind"] != "records":
            continue
        body = s3_client.get_object(Bucket=bucket, Key=f"plugged-backups/{result['backupId']}/{file['key']}")["Body"]
        for line in map(json.loads, gzip.decompress(body.read()).splitlines()):
            if "key" in line["_s3db"]:
                kept.add((file["resource"], classify(line["_s3db"]["key"]).record_id))
                continue
            decoded += 1
            assert {k: v for k, v in line.items() if k != "_s3db"} == \
                types_db.reads[file["resource"]][line["id"]]["record"]
    assert kept == {r for r in UNRECOGNIZED if r[0] in PLUGGED}
    assert decoded + len(kept) == sum(len(types_db.reads[r]) for r in PLUGGED)
    restore(s3_client, result["backupId"], store, target=f"s3://{bucket}/plugged-restored")
    comparison = compare_prefixes(s3_client, S3Location(bucket, source), S3Location(bucket, "plugged-restored"))
    assert comparison.equal, comparison
    args = ["--connection", s3db_connection(bucket, "plugged-restored"), "--resources", ",".join(PLUGGED)]
    reads = s3dbjs._last_json_line(s3dbjs.run_script("read_records.mjs", args, timeout=300), "read_records.mjs")
    assert reads == {r: types_db.reads[r] for r in PLUGGED}
