"""Every error the engine raises: one `BackupError` family with the seed's fields.

The seed's `BackupError` carries name, message, description, driver and operation. Errors cross process
boundaries here (Lambda -> Step Functions -> CLI), so `str()` is a JSON object that `from_json` rebuilds.
"""

from __future__ import annotations

import json
from typing import Any


class BackupError(Exception):
    """A backup or restore failed in a way the user must see; never retried by the workflow."""

    def __init__(
        self,
        message: str,
        *,
        description: str = "",
        driver: str = "s3",
        operation: str = "backup",
        **context: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.description = description
        self.driver = driver
        self.operation = operation
        self.context = {k: v for k, v in context.items() if v is not None}

    @property
    def name(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "message": self.message,
            "description": self.description,
            "driver": self.driver,
            "operation": self.operation,
            **({"context": self.context} if self.context else {}),
        }

    def __str__(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, default=str)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.to_dict(),))

    @staticmethod
    def from_json(text: str) -> BackupError | None:
        """Rebuild an error from its `str()`; None when the text is not one of ours."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError):
            return None
        if not isinstance(data, dict) or "message" not in data or "operation" not in data:
            return None
        return _rebuild(data)

    def describe(self) -> str:
        """A human-readable block for terminals."""
        lines = [f"{self.name}: {self.message}"]
        if self.description:
            lines.append(f"  description: {self.description}")
        lines.append(f"  driver: {self.driver}")
        lines.append(f"  operation: {self.operation}")
        for key, value in sorted(self.context.items()):
            lines.append(f"  {key}: {value}")
        return "\n".join(lines)


class ConfigError(BackupError):
    """The request itself is wrong: a bad URL, option or argument."""


class SourceError(BackupError):
    """The source database cannot be read as an s3db.js database."""


class StoreError(BackupError):
    """The backup store is missing, unreadable or holds something unexpected."""


class BackupNotFoundError(StoreError):
    """No complete backup with that id exists in the store."""


class IntegrityError(StoreError):
    """A backup file does not match its manifest (size, checksum, record count)."""


class TargetError(BackupError):
    """The restore target cannot be written as asked."""


_CLASSES: dict[str, type[BackupError]] = {
    cls.__name__: cls
    for cls in (
        BackupError,
        ConfigError,
        SourceError,
        StoreError,
        BackupNotFoundError,
        IntegrityError,
        TargetError,
    )
}


def _rebuild(data: dict[str, Any]) -> BackupError:
    cls = _CLASSES.get(str(data.get("name")), BackupError)
    return cls(
        str(data.get("message", "")),
        description=str(data.get("description", "")),
        driver=str(data.get("driver", "s3")),
        operation=str(data.get("operation", "backup")),
        **dict(data.get("context") or {}),
    )
