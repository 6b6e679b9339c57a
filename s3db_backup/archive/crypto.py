"""Encryption of backup files: AES-256-GCM, one GCM message per multipart part.

A stored part is `nonce (12 bytes) || ciphertext || tag (16 bytes)`; the plaintext is the part's compression
frames. The associated data binds each part to its place, so a part moved to another backup, file or
position, or a file whose trailing parts were dropped, fails authentication:

    b"s3db-backup/part/v1\\n" + JSON [backupId, fileKey, partNumber, isFinalPart]   (compact, UTF-8)

The 256-bit data key comes from a provider and is never written to S3 or to the workflow's state. What the
key can be re-created from (the KMS-wrapped key, or the KDF parameters and salt) is the manifest's
`encryption` block; while a backup runs it lives in the plan (`.work/plan.json`) and every chunk re-creates
the key from it. A key-check value (a GCM tag over nothing) lets a wrong key or passphrase fail at once,
before a part is read or anything is written.

Providers:
- `kms`: KMS GenerateDataKey (AES_256) at plan time, KMS Decrypt in chunks; the encryption context
  `{"s3db-backup:backupId": <backupId>}` ties the wrapped key to its backup.
- `passphrase`: Argon2id (RFC 9106's second recommended setting: 3 passes, 4 lanes, 64 MiB) over the
  passphrase and a random 16-byte salt. The passphrase comes from a Secrets Manager secret (on AWS) or the
  environment variable S3DB_BACKUP_PASSPHRASE (locally).
"""

from __future__ import annotations

import base64
import functools
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from s3db_backup.errors import ConfigError, IntegrityError

ALGORITHM = "AES-256-GCM"
PROVIDERS = ("none", "kms", "passphrase")
PASSPHRASE_ENV = "S3DB_BACKUP_PASSPHRASE"
NONCE_BYTES = 12
TAG_BYTES = 16
OVERHEAD = NONCE_BYTES + TAG_BYTES
KMS_CONTEXT_KEY = "s3db-backup:backupId"

#: Argon2id parameters for new backups; the ones used are stored with each backup.
ARGON2_PARAMS: dict[str, int] = {"iterations": 3, "lanes": 4, "memoryCostKiB": 64 * 1024}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _aad(domain: str, *fields: Any) -> bytes:
    return f"s3db-backup/{domain}/v1\n".encode() + json.dumps(
        list(fields), separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def part_aad(backup_id: str, file_key: str, number: int, final: bool) -> bytes:
    """The associated data of one part: which backup, which file, which position, and whether it is last."""
    return _aad("part", backup_id, file_key, int(number), bool(final))


class PartCipher:
    """Seals and opens the parts (and spill objects) of one backup with its data key."""

    def __init__(self, key: bytes, backup_id: str) -> None:
        if len(key) != 32:
            raise ValueError("AES-256-GCM needs a 32-byte key")
        self._aead = AESGCM(key)
        self.backup_id = backup_id

    def _seal(self, data: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data, aad)

    def _open(self, blob: bytes, aad: bytes) -> bytes:
        if len(blob) < OVERHEAD:
            raise InvalidTag()
        return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)

    def seal_part(self, data: bytes, file_key: str, number: int, final: bool) -> bytes:
        return self._seal(data, part_aad(self.backup_id, file_key, number, final))

    def open_part(self, blob: bytes, file_key: str, number: int, final: bool) -> bytes:
        """The part's plaintext; InvalidTag when it was altered, moved, or is not (or is no longer) last."""
        return self._open(blob, part_aad(self.backup_id, file_key, number, final))

    def seal_spill(self, data: bytes, key: str) -> bytes:
        return self._seal(data, _aad("spill", self.backup_id, key))

    def open_spill(self, blob: bytes, key: str) -> bytes:
        return self._open(blob, _aad("spill", self.backup_id, key))

    def key_check(self) -> str:
        return _b64(self._seal(b"", _aad("key-check", self.backup_id)))

    def matches(self, key_check: str) -> bool:
        try:
            self._open(_unb64(key_check), _aad("key-check", self.backup_id))
        except (InvalidTag, ValueError):
            return False
        return True


# -- providers -------------------------------------------------------------------------------------------
def client(service: str) -> Any:
    """The boto3 client for KMS / Secrets Manager, from the engine's session (s3db_backup.aws)."""
    from s3db_backup import aws

    return aws.client(service)


def create_encryption(
    backup_id: str, *, provider: str, kms_key_id: str = "", passphrase_secret: str = "", operation: str = "plan"
) -> dict[str, Any] | None:
    """A new data key for a backup: the manifest's `encryption` block (None for provider `none`)."""
    if provider == "none":
        return None
    if provider == "kms":
        context = {KMS_CONTEXT_KEY: backup_id}
        try:
            resp = client("kms").generate_data_key(KeyId=kms_key_id, KeySpec="AES_256", EncryptionContext=context)
        except Exception as exc:
            raise ConfigError(
                f"KMS cannot create a data key with {kms_key_id}",
                description=f"GenerateDataKey failed: {exc}. Check the key id and kms:GenerateDataKey.",
                operation=operation, backupId=backup_id,
            ) from exc
        block: dict[str, Any] = {"algorithm": ALGORITHM, "provider": "kms", "kmsKeyId": resp["KeyId"],
                                 "wrappedKey": _b64(resp["CiphertextBlob"]), "encryptionContext": context}
        key = resp["Plaintext"]
    elif provider == "passphrase":
        kdf = {"name": "argon2id", **ARGON2_PARAMS, "length": 32, "salt": _b64(os.urandom(16))}
        block = {"algorithm": ALGORITHM, "provider": "passphrase", "kdf": kdf,
                 "passphraseSecret": passphrase_secret or None}
        key = _derive(_passphrase(passphrase_secret, None, operation, backup_id), json.dumps(kdf, sort_keys=True))
    else:
        raise ConfigError(f"unknown encryption provider {provider!r}", operation=operation)
    block["keyCheck"] = PartCipher(key, backup_id).key_check()
    return block


def open_cipher(
    block: dict[str, Any] | None, backup_id: str, *, passphrase_secret: str = "", operation: str
) -> PartCipher | None:
    """The cipher of a backup from its `encryption` block; ConfigError when the key or passphrase is wrong."""
    if not block:
        return None
    if block.get("algorithm") != ALGORITHM:
        raise ConfigError(f"unsupported encryption {block.get('algorithm')!r}", operation=operation,
                          backupId=backup_id)
    provider = block.get("provider")
    if provider == "kms":
        key = _unwrap(block["wrappedKey"], block.get("kmsKeyId") or "",
                      json.dumps(block.get("encryptionContext") or {}, sort_keys=True), operation, backup_id)
        what = "the KMS data key"
    elif provider == "passphrase":
        passphrase = _passphrase(passphrase_secret, block.get("passphraseSecret"), operation, backup_id)
        key = _derive(passphrase, json.dumps(block["kdf"], sort_keys=True))
        what = "the passphrase"
    else:
        raise ConfigError(f"unknown encryption provider {provider!r}", operation=operation, backupId=backup_id)
    cipher = PartCipher(key, backup_id)
    if not cipher.matches(block.get("keyCheck", "")):
        raise ConfigError(
            f"{what} does not open backup {backup_id}",
            description="The key-check value in the backup does not verify with this key; nothing was read "
            "or written. Use the passphrase (or KMS key) the backup was made with.",
            operation=operation, backupId=backup_id,
        )
    return cipher


def _passphrase(secret: str, recorded_secret: str | None, operation: str, backup_id: str) -> str:
    """From the secret named in the options, else the environment variable, else the secret the backup used."""
    name = secret or ("" if os.environ.get(PASSPHRASE_ENV) else recorded_secret or "")
    if name:
        try:
            value = client("secretsmanager").get_secret_value(SecretId=name).get("SecretString")
        except Exception as exc:
            raise ConfigError(
                f"cannot read the passphrase secret {name}",
                description=f"GetSecretValue failed: {exc}. Check the secret and secretsmanager:GetSecretValue.",
                operation=operation, backupId=backup_id,
            ) from exc
    else:
        value = os.environ.get(PASSPHRASE_ENV)
    if not value:
        raise ConfigError(
            "no passphrase for an encrypted backup",
            description=f"Set {PASSPHRASE_ENV} or the passphraseSecret option (a Secrets Manager secret).",
            operation=operation, backupId=backup_id,
        )
    return value


@functools.lru_cache(maxsize=16)
def _derive(passphrase: str, kdf_json: str) -> bytes:
    """The key from a passphrase; cached, so warm functions derive once per backup."""
    kdf = json.loads(kdf_json)
    salt, length = _unb64(kdf["salt"]), int(kdf["length"])
    secret = passphrase.encode("utf-8")
    if kdf["name"] == "argon2id":
        return Argon2id(salt=salt, length=length, iterations=int(kdf["iterations"]), lanes=int(kdf["lanes"]),
                        memory_cost=int(kdf["memoryCostKiB"])).derive(secret)
    if kdf["name"] == "scrypt":
        return Scrypt(salt=salt, length=length, n=int(kdf["n"]), r=int(kdf["r"]), p=int(kdf["p"])).derive(secret)
    raise ValueError(f"unknown KDF {kdf['name']!r}")


@functools.lru_cache(maxsize=16)
def _unwrap(wrapped: str, key_id: str, context_json: str, operation: str, backup_id: str) -> bytes:
    try:
        resp = client("kms").decrypt(CiphertextBlob=_unb64(wrapped), EncryptionContext=json.loads(context_json),
                                     **({"KeyId": key_id} if key_id else {}))
    except Exception as exc:
        raise ConfigError(
            f"KMS cannot unwrap the data key of backup {backup_id}",
            description=f"Decrypt failed: {exc}. Check kms:Decrypt on the backup's key.",
            operation=operation, backupId=backup_id,
        ) from exc
    return resp["Plaintext"]


def open_part_or_fail(cipher: PartCipher, blob: bytes, *, file_key: str, number: int, final: bool,
                      operation: str) -> bytes:
    try:
        return cipher.open_part(blob, file_key, number, final)
    except InvalidTag:
        raise IntegrityError(
            f"part {number} of {file_key} fails authentication",
            description="AES-GCM rejected the part: it was altered, belongs to another backup, file or position, "
            + ("or parts after it were dropped." if final else "or it was moved."),
            operation=operation, backupId=cipher.backup_id, file=file_key, part=number,
        ) from None
