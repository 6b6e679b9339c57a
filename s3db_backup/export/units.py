"""Export units: the pieces a backup fans out over, one Map iteration each, one file each.

A resource gives two units: its records (`resource=<r>/data/`) and every other object under its folder
(partition references, s3db.js's own caches). Objects outside any resource folder form one more unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from s3db_backup.archive.frames import Codec
from s3db_backup.format import layout

Kind = Literal["records", "objects", "unscoped"]
OBJECTS_DIR = "_objects"
ENCRYPTED_SUFFIX = ".enc"
SHARD_NAME = "shard-{:05d}"


@dataclass(frozen=True)
class Unit:
    kind: Kind
    resource: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Unit:
        return cls(kind=data["kind"], resource=data.get("resource"))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "resource": self.resource}

    def file_key(self, codec: Codec, encrypted: bool = False, shard: int | None = None) -> str:
        """The file's key relative to the backup folder; no two units can collide. Encrypted files end in
        `.enc` (`users.jsonl.gz.enc`): they are no longer what the codec's extension promises. Shards of a
        split unit go to a folder named after the unsharded file (`users/shard-00000.jsonl.gz`); resource
        names never hold a '/' (it would end the `resource=<name>/` folder), so no resource file collides."""
        ext = codec.extension + (ENCRYPTED_SUFFIX if encrypted else "")
        if self.kind == "records":
            base = f"{self.resource}"
        elif self.kind == "objects":
            base = f"{OBJECTS_DIR}/resource={self.resource}"
        else:
            base = f"{OBJECTS_DIR}/prefix"
        return f"{base}{ext}" if shard is None else f"{base}/{SHARD_NAME.format(shard)}{ext}"


@dataclass(frozen=True)
class Scope:
    """A key range to walk: every key under `prefix`, or with `shallow` only its direct children."""

    prefix: str
    shallow: bool = False

    def to_list(self) -> list[Any]:
        return [self.prefix, self.shallow]

    @classmethod
    def from_list(cls, data: list[Any]) -> Scope:
        return cls(str(data[0]), bool(data[1]))


def scopes_for(unit: Unit, subdirs: list[str]) -> list[Scope]:
    """The scopes of a unit, given the folders found directly under its root (relative keys)."""
    if unit.kind == "records":
        return [Scope(layout.data_dir(str(unit.resource)))]
    if unit.kind == "objects":
        root = layout.resource_dir(str(unit.resource))
        return [Scope(root, shallow=True)] + [Scope(d) for d in subdirs if d != layout.data_dir(str(unit.resource))]
    return [Scope("", shallow=True)] + [Scope(d) for d in subdirs if layout.resource_of_dir(d) is None]


def root_of(unit: Unit) -> str | None:
    """The folder whose subfolders a unit needs listed to know its scopes (None: no listing needed)."""
    if unit.kind == "records":
        return None
    if unit.kind == "objects":
        return layout.resource_dir(str(unit.resource))
    return ""
