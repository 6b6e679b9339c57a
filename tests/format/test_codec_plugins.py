"""Plugin attributes in the codec (plugins.py): keys, maps and records, with values checked against s3db.js 21.6.2
where noted (Schema built by s3db.js itself, or objects the `types` seed wrote)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3db_backup.archive.lines import StoredObject
from s3db_backup.format.codec import ResourceCodec, UnrecognizedObject
from s3db_backup.format.codec.plugins import (
    PluginMapError,
    attribute_hash,
    plugin_attributes,
    plugin_map,
    plugin_map_from_meta,
)
from s3db_backup.format.schema import DatabaseSchema


def _plugin(name: str, kind: str = "string") -> dict[str, Any]:
    return {"type": kind, "optional": True, "__plugin__": name, "__pluginCreated__": 1796077327788}


@pytest.mark.parametrize(("plugin", "attribute", "key"), [
    ("GraphPlugin", "snapshot", "pasb"), ("SeedPlugin", "_score", "pd8j"), ("SeedPlugin", "flagged", "pnb6"),
    ("OtherPlugin", "origin", "p3jl"), ("SeedPlugin", "tag", "p3eb"), ("P", "f58", "p3id"), ("P", "f62", "p3id"),
])
def test_attribute_hash_matches_s3dbjs(plugin: str, attribute: str, key: str) -> None:
    """Keys found in objects s3db.js wrote (the `types` seed) and in a Schema it built (f58/f62 collide)."""
    assert attribute_hash(plugin, attribute) == key


def test_maps_as_s3dbjs_schema_builds_them() -> None:
    """`new Schema({attributes: {title, f58, f62 (plugin P), f1 (plugin Q)}})` in s3db.js 21.6.2 gave pluginMap
    {"f58":"p3id","f62":"p3id1","f1":"pgts"}; with the registry below, {"f58":"p3id2","f62":"p3id","f1":"pgts"}."""
    attributes = {"title": "string", "f58": _plugin("P"), "f62": _plugin("P"), "f1": _plugin("Q")}
    assert plugin_attributes(attributes) == [("f58", "P"), ("f62", "P"), ("f1", "Q")]
    assert plugin_map(attributes, None) == {"f58": "p3id", "f62": "p3id1", "f1": "pgts"}
    assert plugin_map(attributes, {}) == {"f58": "p3id", "f62": "p3id1", "f1": "pgts"}
    registry = {"P": {"mapping": {"f62": "p3id"}, "burned": [{"key": "p3id1", "attribute": "old"}]},
                "Q": {"mapping": {}, "burned": []}}
    assert plugin_map(attributes, registry) == {"f58": "p3id2", "f62": "p3id", "f1": "pgts"}


@pytest.mark.parametrize("registry", [
    {"P": {"mapping": {"f58": 5}, "burned": []}},  # s3db.js: "Plugin schema registry contains non-string keys."
    {"P": {"mapping": {}, "burned": [{"key": 1}]}},  # "... contains invalid burned entries."
    {"P": {"burned": []}},  # TypeError: Cannot convert undefined or null to object
    ["not", "an", "object"],
])
def test_registries_s3dbjs_refuses_make_the_version_unusable(registry: Any) -> None:
    attributes = {"f58": _plugin("P")}
    with pytest.raises(PluginMapError):
        plugin_map(attributes, registry)
    registry = {"SeedPlugin": registry["P"]} if isinstance(registry, dict) else registry  # ATTRIBUTES' plugin
    codec = ResourceCodec.from_schema(_schema("user-managed", {"pluginSchemaRegistry": registry}), "things")
    assert "cannot connect" in codec.broken["v1"]


def test_plugin_markers_follow_javascript_truthiness() -> None:
    attributes = {"a": {"type": "string", "__plugin__": ""}, "b": {"type": "string", "__plugin__": 0},
                  "c": {"type": "string", "__plugin__": "X"}, "d": "string|optional"}
    assert plugin_attributes(attributes) == [("c", "X")]
    with pytest.raises(PluginMapError):
        plugin_attributes({"e": {"type": "string", "__plugin__": 7}})


@pytest.mark.parametrize(("stored", "override"), [
    ('{"snapshot":"pasb"}', {"pasb": "snapshot"}),
    ({"snapshot": "pasb", "x": 5}, {"pasb": "snapshot", "5": "x"}),  # already parsed by the first unmapper pass
    (["a", "b"], {"a": "0", "b": "1"}),  # lodash invert of an array: by index
    ("not json", None), ("", None), ("null", None), ("0", None), ("5", {}),
])
def test_plugin_map_from_metadata(stored: Any, override: dict[str, str] | None) -> None:
    assert plugin_map_from_meta({"_pluginmap": stored}) == override


# --- records --------------------------------------------------------------------------------------------------

#: A resource as s3db.json holds it after a plugin added attributes: `__plugin__` definitions, the schema registry
#: without them (the reader maps `<name>.type`... to new indexes, as s3db.js does on connect).
ATTRIBUTES = {"title": "string|required", "body": "string|optional", "n": "number|optional",
              "_score": _plugin("SeedPlugin", "number"), "flagged": _plugin("SeedPlugin", "boolean"),
              "origin": _plugin("OtherPlugin")}


def _schema(behavior: str, extra: dict[str, Any] | None = None) -> DatabaseSchema:
    entry = {"currentVersion": "v1", "partitions": {},
             "versions": {"v1": {"behavior": behavior, "timestamps": False, "attributes": ATTRIBUTES}},
             "schemaRegistry": {"nextIndex": 3, "mapping": {"title": 0, "body": 1, "n": 2}, "burned": []},
             "pluginSchemaRegistry": {}, **(extra or {})}
    return DatabaseSchema.parse(json.dumps({"resources": {"things": entry}}))


def _codec(behavior: str) -> ResourceCodec:
    return ResourceCodec.from_schema(_schema(behavior), "things")


def test_a_user_managed_record_as_s3dbjs_wrote_it() -> None:
    """plugged_um/um-00002 of the `types` seed (metadata as stored, get() as s3db.js returned it)."""
    stored = StoredObject("resource=things/data/id=um-00002", {
        "0": "b:5p2x5LqsIOODh+ODvOOCv+ODmeODvOOCuSAy", "2": "3", "pd8j": "-3", "pnb6": "false", "p3jl": "a|b",
        "_v": "v1"}, "application/octet-stream", b"")
    codec = _codec("user-managed")
    decoded = codec.decode(stored)
    assert decoded.data == {"title": "東京 データベース 2", "n": 3, "_score": "-3", "flagged": "false",
                            "origin": "a|b", "id": "um-00002"}
    assert codec.encode(decoded.data, "v1") == stored


def test_over_the_limit_the_plugin_map_goes_to_metadata() -> None:
    codec = _codec("user-managed")
    record = {"id": "x", "title": "t", "body": "東" * 1000, "_score": 1.5, "origin": "o"}
    stored = codec.encode(record, "v1")
    assert stored.metadata == {"_v": "v1", "_pluginmap": '{"_score":"pd8j","flagged":"pnb6","origin":"p3jl"}'}
    body = json.loads(stored.body)
    assert body["pd8j"] == 1.5 and body["p3jl"] == "o"
    # the body is unmapped with the object's own plugin map, not the schema's
    moved = json.dumps({**{k: v for k, v in body.items() if k != "pd8j"}, "zz9": 2}).encode()
    renamed = StoredObject(stored.key, {**stored.metadata, "_pluginmap": '{"_score":"zz9"}'}, stored.content_type,
                           moved)
    assert codec.decode(renamed).data["_score"] == 2


def test_a_non_empty_object_value_is_spread_under_its_own_name() -> None:
    """GraphPlugin's `snapshot`: flatten() stores `snapshot.name` as metadata key `snapshot_name`, which get() returns
    under that name; only an empty object is stored under the plugin key."""
    schema = DatabaseSchema.parse(json.dumps({"resources": {"edges": {
        "currentVersion": "v1", "pluginSchemaRegistry": {},
        "versions": {"v1": {"behavior": "body-overflow", "attributes": {
            "source": "string|required", "snapshot": _plugin("GraphPlugin", "object")}}},
        "schemaRegistry": {"nextIndex": 1, "mapping": {"source": 0}, "burned": []}}}}))
    codec = ResourceCodec.from_schema(schema, "edges")
    spread = codec.encode({"id": "e", "source": "a", "snapshot": {"name": "Bo"}}, "v1")
    assert spread.metadata == {"_v": "v1", "_pluginmap": '{"snapshot":"pasb"}', "0": "a", "snapshot_name": "Bo"}
    assert codec.decode(spread).data == {"source": "a", "snapshot_name": "Bo", "id": "e"}
    empty = codec.encode({"id": "e", "source": "a", "snapshot": {}}, "v1")
    assert empty.metadata["pasb"] == "{}"
    assert codec.decode(empty).data == {"source": "a", "snapshot": {}, "id": "e"}
    with pytest.raises(UnrecognizedObject, match="layout"):
        codec.decode(StoredObject(spread.key, {**spread.metadata, "other_name": "x"}, spread.content_type, b""))


def test_body_only_stores_both_maps() -> None:
    stored = _codec("body-only").encode({"id": "x", "title": "t", "_score": 2}, "v1")
    assert json.loads(stored.metadata["_pluginmap"]) == {"_score": "pd8j", "flagged": "pnb6", "origin": "p3jl"}
    assert "_score.type" in json.loads(stored.metadata["_map"])  # the reader's indexes for the definitions' fields
    assert json.loads(stored.body)["pd8j"] == 2


plain = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30).filter(
    lambda s: not s.startswith(("{", "[")) and s not in ("null", "undefined", "[object Object]", "font/woff2"))
records = st.fixed_dictionaries({"id": st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True), "title": plain}, optional={
    "body": st.one_of(plain, st.just("東" * 900)), "origin": plain, "_score": plain, "flagged": plain,
})


@pytest.mark.parametrize("behavior", ["user-managed", "body-overflow", "body-only", "enforce-limits"])
@settings(max_examples=100, deadline=None)
@given(record=records)
def test_decode_encode_roundtrip_with_plugin_attributes(behavior: str, record: dict) -> None:
    """Text values (plugin attributes with object definitions get no type hooks: stored as text, read as text)."""
    codec = _codec(behavior)
    try:
        stored = codec.encode(record, "v1")
    except ValueError:
        assert behavior == "enforce-limits"
        return
    decoded = codec.decode(stored)
    assert decoded.data == record
    assert codec.encode(decoded.data, decoded.version) == stored
