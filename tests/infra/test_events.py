"""The sample console inputs in events/ have the shapes the state machines take."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.config import load_config

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def test_backup_event_matches_the_scheduled_input():
    event = load("backup-full.json")
    config = load_config()
    assert set(event) == {"source", "store", "type", "options"}
    assert event["source"] == config.source_url
    assert event["store"] == f"s3://<STORE_BUCKET>/{config.store_prefix}"
    assert event["type"] == "full"


@pytest.mark.parametrize("name", ["restore-latest.json", "restore-to-new-prefix.json"])
def test_restore_events(name):
    event = load(name)
    assert set(event) == {"backupId", "store", "target", "overwrite", "resources"}
    assert event["overwrite"] is False
    assert event["target"] is None or event["target"].startswith("s3://")
