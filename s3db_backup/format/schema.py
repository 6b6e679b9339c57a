"""The database's `s3db.json`: which resources exist. Read as text so a restore can write it back exactly."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from s3db_backup.errors import SourceError


@dataclass(frozen=True)
class DatabaseSchema:
    raw: str
    document: dict[str, Any]

    @classmethod
    def parse(cls, raw: str, *, where: str = "") -> DatabaseSchema:
        try:
            document = json.loads(raw)
        except ValueError as exc:
            raise SourceError(
                f"s3db.json at {where} is not valid JSON",
                description=f"The database's schema file could not be parsed: {exc}.",
                operation="plan",
                key=where,
            ) from exc
        if not isinstance(document, dict) or not isinstance(document.get("resources", {}), dict):
            raise SourceError(
                f"s3db.json at {where} has no 'resources' object",
                description="This does not look like an s3db.js database schema.",
                operation="plan",
                key=where,
            )
        return cls(raw, document)

    @property
    def resources(self) -> list[str]:
        return sorted(self.document.get("resources", {}))

    def resource(self, name: str) -> dict[str, Any]:
        return dict(self.document.get("resources", {}).get(name) or {})

    def current_definition(self, name: str) -> dict[str, Any]:
        """The definition of the resource's current version (what the seed's manifest shows)."""
        entry = self.resource(name)
        version = entry.get("currentVersion")
        versions = entry.get("versions") or {}
        return dict(versions.get(version) or {}) if isinstance(versions, dict) else {}


def merge(target: DatabaseSchema | None, source: DatabaseSchema, resources: list[str], *,
          overwrite: bool = False) -> str:
    """The target's s3db.json after restoring `resources` from `source`; other resources are kept.

    With no target schema and every resource restored, the source text comes back byte for byte. A resource
    the target already defines keeps its definition unless `overwrite`; the backup's schema versions are
    added beside the target's so every restored object's `_v` stays readable.
    """
    if target is None:
        if set(resources) >= set(source.resources):
            return source.raw
        target = DatabaseSchema("", {k: v for k, v in source.document.items() if k != "resources"})
    merged = dict(target.document)
    merged_resources = dict(merged.get("resources") or {})
    for name in resources:
        incoming = source.document.get("resources", {}).get(name)
        if incoming is None:
            continue
        existing = merged_resources.get(name)
        if overwrite or not isinstance(existing, dict):
            merged_resources[name] = incoming
            continue
        combined = dict(existing)
        versions = dict(incoming.get("versions") or {})
        versions.update(existing.get("versions") or {})
        combined["versions"] = versions
        merged_resources[name] = combined
    merged["resources"] = merged_resources
    return json.dumps(merged, indent=2, ensure_ascii=False)
