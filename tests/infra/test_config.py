"""The operator's settings: cdk.json context, `-c` overrides (strings), defaults."""

from __future__ import annotations

import json

import pytest

from infra.config import CDK_JSON, DEFAULT_SCHEDULE, config_from_context, load_config


class FakeNode:
    def __init__(self, context):
        self.context = context

    def try_get_context(self, key):
        return self.context.get(key)


def test_defaults():
    config = config_from_context({"sourceBucket": "data"})
    assert config.source_url == "s3://data/"
    assert config.store_bucket is None
    assert (config.schedule, config.timezone) == (DEFAULT_SCHEDULE, "UTC")
    assert (config.retention_count, config.map_concurrency) == (7, 8)


def test_cli_strings_are_converted():
    config = config_from_context(
        {
            "sourceBucket": "data",
            "retentionCount": "3",
            "mapConcurrency": "2",
            "storeBucket": "",
            "schedule": "null",
            "backupOptions": '{"partSizeMiB": 16}',
        }
    )
    assert (config.retention_count, config.map_concurrency) == (3, 2)
    assert config.store_bucket is None and config.schedule is None
    assert config.backup_options == {"partSizeMiB": 16}


def test_source_bucket_is_required():
    with pytest.raises(ValueError, match="sourceBucket"):
        config_from_context({})


def test_app_context_overrides_cdk_json(tmp_path):
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {"sourceBucket": "a", "retentionCount": 4, "@aws-cdk/x": True}}))
    assert load_config(cdk_json=cdk_json).retention_count == 4
    assert load_config(FakeNode({"retentionCount": "9"}), cdk_json=cdk_json).retention_count == 9


def test_the_projects_cdk_json_is_valid():
    assert load_config(cdk_json=CDK_JSON).source_bucket
