"""The operator's settings: read from the `context` of cdk.json, overridden by `cdk -c key=value`.

Everything an operator changes without touching code lives here (which database, where backups go, when,
how many to keep); the constructs take these values as keyword arguments.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CDK_JSON = PROJECT_ROOT / "cdk.json"

DEFAULT_SCHEDULE = "cron(0 2 * * ? *)"


@dataclass(frozen=True, kw_only=True)
class BackupConfig:
    """One s3db.js database to back up, and how.

    Each field is one context key of cdk.json (the camelCase name in brackets).
    """

    source_bucket: str
    """[sourceBucket] Bucket holding the s3db.js database. Required."""
    source_prefix: str = ""
    """[sourcePrefix] Key prefix of the database in the source bucket ("" = bucket root)."""
    store_bucket: str | None = None
    """[storeBucket] Existing bucket for the backups; None = the stack creates a secured bucket."""
    store_prefix: str = "backups/"
    """[storePrefix] Key prefix of the backups in the store bucket."""
    schedule: str | None = DEFAULT_SCHEDULE
    """[schedule] EventBridge Scheduler expression (cron/rate/at); "" or null = no schedule."""
    timezone: str = "UTC"
    """[timezone] IANA time zone the schedule expression is evaluated in."""
    retention_count: int = 7
    """[retentionCount] Complete backups to keep; older ones are pruned after each backup."""
    map_concurrency: int = 8
    """[mapConcurrency] Units (resources, backup files) processed at once by each Map state."""
    shard_concurrency: int = 8
    """[shardConcurrency] Shards of one split unit exported at once (see backupOptions.shardRecords)."""
    backup_options: Mapping[str, Any] = field(default_factory=dict)
    """[backupOptions] Extra `options` of the scheduled backup input (e.g. {"partSizeMiB": 8})."""
    stack_name: str = "S3dbBackup"
    """[stackName] Name of the stack; also the prefix of the state machine names."""
    kms_key_arns: tuple[str, ...] = ()
    """[kmsKeyArns] KMS keys encrypted backups may use (backupOptions {"encryption": "kms", "kmsKeyId": ...})."""
    passphrase_secret_arns: tuple[str, ...] = ()
    """[passphraseSecretArns] Secrets Manager secrets holding backup passphrases."""

    @property
    def source_url(self) -> str:
        return f"s3://{self.source_bucket}/{self.source_prefix}"


def _optional_str(value: Any) -> str | None:
    return None if value in (None, "", "null") else str(value)


def _mapping(value: Any) -> Mapping[str, Any]:
    if isinstance(value, str):
        value = json.loads(value) if value else {}
    if not isinstance(value, Mapping):
        raise ValueError(f"backupOptions must be a JSON object, got {value!r}")
    return dict(value)


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = json.loads(value) if value.startswith("[") else [v for v in value.split(",") if v]
    return tuple(str(v) for v in value or ())


# context key -> (field name, converter); converters accept the strings that `cdk -c key=value` passes.
_KEYS: dict[str, tuple[str, Any]] = {
    "sourceBucket": ("source_bucket", str),
    "sourcePrefix": ("source_prefix", str),
    "storeBucket": ("store_bucket", _optional_str),
    "storePrefix": ("store_prefix", str),
    "schedule": ("schedule", _optional_str),
    "timezone": ("timezone", str),
    "retentionCount": ("retention_count", int),
    "mapConcurrency": ("map_concurrency", int),
    "shardConcurrency": ("shard_concurrency", int),
    "backupOptions": ("backup_options", _mapping),
    "stackName": ("stack_name", str),
    "kmsKeyArns": ("kms_key_arns", lambda v: _strings(v)),
    "passphraseSecretArns": ("passphrase_secret_arns", lambda v: _strings(v)),
}


def read_cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """The `context` object of cdk.json ({} if the file is absent)."""
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text()).get("context", {}))


def config_from_context(context: Mapping[str, Any]) -> BackupConfig:
    """Build the config from context values (unknown keys, e.g. CDK feature flags, are ignored)."""
    kwargs = {}
    for key, (name, convert) in _KEYS.items():
        if key in context:
            kwargs[name] = convert(context[key])
    if not kwargs.get("source_bucket"):
        raise ValueError("context key 'sourceBucket' is required (set it in cdk.json or with -c sourceBucket=...)")
    return BackupConfig(**kwargs)


def load_config(node: Any = None, *, cdk_json: Path = CDK_JSON) -> BackupConfig:
    """Config from cdk.json's context, overridden by the app's context (`cdk -c ...`, CDK_CONTEXT_JSON).

    `python app.py` runs without the CDK CLI, which is what normally injects cdk.json's context, so the file
    is read here too; under the CLI both sources agree.
    """
    context = read_cdk_json_context(cdk_json)
    if node is not None:
        for key in _KEYS:
            value = node.try_get_context(key)
            if value is not None:
                context[key] = value
    return config_from_context(context)
