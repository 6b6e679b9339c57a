"""`s3://bucket/prefix` locations: the one way the engine names a database or a store."""

from __future__ import annotations

import re
from dataclasses import dataclass

from s3db_backup.errors import ConfigError

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class S3Location:
    """A bucket and a key prefix without leading or trailing slashes ("" for the bucket root)."""

    bucket: str
    prefix: str = ""

    @classmethod
    def parse(cls, url: str, *, operation: str = "validateConfig") -> S3Location:
        if not isinstance(url, str) or not url.startswith("s3://"):
            raise ConfigError(
                f"not an S3 location: {url!r}",
                description="Locations are written s3://BUCKET/PREFIX.",
                operation=operation,
            )
        bucket, _, prefix = url[len("s3://") :].partition("/")
        if not _BUCKET.match(bucket):
            raise ConfigError(
                f"invalid bucket name in {url!r}",
                description="Bucket names are 3-63 lowercase letters, digits, dots and hyphens.",
                operation=operation,
            )
        if "//" in url[len("s3://") :]:
            raise ConfigError(f"empty path segment in {url!r}", operation=operation)
        prefix = prefix.strip("/")
        return cls(bucket, prefix)

    def key(self, relative: str) -> str:
        """The full key of `relative` under this prefix."""
        return f"{self.prefix}/{relative}" if self.prefix else relative

    @property
    def key_prefix(self) -> str:
        """The prefix every key below this location starts with ("" or "prefix/")."""
        return f"{self.prefix}/" if self.prefix else ""

    def relative(self, key: str) -> str:
        kp = self.key_prefix
        if not key.startswith(kp):
            raise ValueError(f"{key!r} is not under {self}")
        return key[len(kp) :]

    def child(self, relative: str) -> S3Location:
        return S3Location(self.bucket, self.key(relative.strip("/")))

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
