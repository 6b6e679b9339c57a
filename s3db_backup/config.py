"""Engine settings, with the defaults a user gets when they set nothing.

Settings travel inside the workflow's state (a few hundred bytes), so they are plain JSON-able values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from s3db_backup.archive.crypto import PROVIDERS
from s3db_backup.archive.frames import CODECS
from s3db_backup.errors import ConfigError

MIB = 1024 * 1024
#: S3's smallest allowed size for every multipart part but the last.
MIN_PART_BYTES = 5 * MIB


@dataclass(frozen=True)
class Settings:
    #: Target size of one multipart part (compressed bytes); each part is a complete compression frame.
    partSizeBytes: int = 8 * MIB
    #: Objects fetched or written concurrently by one chunk invocation.
    concurrency: int = 32
    #: Stop a chunk after this many lines (0 = only the time budget decides). Bounds each invocation.
    chunkMaxLines: int = 0
    #: Seconds left to the Lambda deadline at which a chunk stops and hands over its cursor.
    marginSeconds: int = 60
    #: Compression of backup files: gzip (default), zstd, brotli, deflate (zlib streams) or none.
    compression: str = "gzip"
    #: Encryption of backup files (AES-256-GCM per part): none (default), kms or passphrase.
    encryption: str = "none"
    #: KMS key (id, ARN or alias) whose data key encrypts a backup, for encryption=kms.
    kmsKeyId: str = ""
    #: Secrets Manager secret (ARN or name) holding the passphrase; empty: env S3DB_BACKUP_PASSPHRASE.
    passphraseSecret: str = ""
    #: Keys per shard: a unit (a resource's records, its other objects) with more keys is split from its
    #: listing into shards exported in parallel, each its own file.
    shardRecords: int = 100_000
    #: Keys asked for per LIST page. AWS S3 returns at most 1,000 whatever is asked; S3-compatible servers
    #: that allow more (Ceph RGW when configured, moto) answer in fewer requests.
    listPageKeys: int = 10_000
    #: Complete backups kept by the retention pruner (keep the last N).
    retentionCount: int = 7

    @classmethod
    def from_options(cls, options: dict[str, Any] | None, operation: str = "validateConfig") -> Settings:
        options = dict(options or {})
        if "partSizeMiB" in options:
            options["partSizeBytes"] = int(float(options.pop("partSizeMiB")) * MIB)
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - names - {"resources", "exclude"})
        if unknown:
            raise ConfigError(
                f"unknown option(s): {', '.join(unknown)}",
                description=f"Known options: {', '.join(sorted(names | {'partSizeMiB'}))}.",
                operation=operation,
            )
        values = {k: v for k, v in options.items() if k in names}
        try:
            settings = cls(**{k: type(getattr(cls, k))(v) for k, v in values.items()})
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"invalid option value: {exc}", operation=operation) from exc
        settings.validate(operation)
        return settings

    def validate(self, operation: str) -> None:
        problems = []
        if self.partSizeBytes < MIN_PART_BYTES:
            problems.append(f"partSizeBytes must be at least {MIN_PART_BYTES} (S3's multipart minimum)")
        if not 1 <= self.concurrency <= 256:
            problems.append("concurrency must be between 1 and 256")
        if self.chunkMaxLines < 0:
            problems.append("chunkMaxLines must be 0 or more")
        if self.marginSeconds < 0:
            problems.append("marginSeconds must be 0 or more")
        if self.compression not in CODECS:
            problems.append(f"compression must be one of {', '.join(sorted(CODECS))}")
        if self.encryption not in PROVIDERS:
            problems.append(f"encryption must be one of {', '.join(PROVIDERS)}")
        if self.encryption == "kms" and not self.kmsKeyId:
            problems.append("encryption=kms needs kmsKeyId")
        if self.shardRecords < 1:
            problems.append("shardRecords must be at least 1")
        if not 1 <= self.listPageKeys <= 100_000:
            problems.append("listPageKeys must be between 1 and 100000")
        if self.retentionCount < 1:
            problems.append("retentionCount must be at least 1")
        if problems:
            raise ConfigError("invalid settings", description="; ".join(problems), operation=operation)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Settings:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in names})
