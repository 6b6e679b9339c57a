"""AES-256-GCM per part with a KMS data key or a passphrase: round trips for every codec, the key never
stored, a wrong key or passphrase refused before anything is written, and tampered, swapped or dropped parts
caught as IntegrityError."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import boto3
import pytest

from s3db_backup.archive import crypto
from s3db_backup.archive.frames import CODECS
from s3db_backup.errors import ConfigError, IntegrityError
from s3db_backup.export.chunk import export_chunk
from s3db_backup.export.plan import plan_backup
from tests.unit.engine_driver import backup, restore, snapshot_objects, write_fake_database

PASS = "correct horse battery staple"


@pytest.fixture
def passphrase(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(crypto.PASSPHRASE_ENV, PASS)
    return PASS


@pytest.fixture
def kms_key(s3: Any) -> str:
    return boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]


def options_for(provider: str, kms_key: str | None = None) -> dict[str, Any]:
    return {"encryption": provider, **({"kmsKeyId": kms_key} if provider == "kms" else {})}


def manifest_of(s3: Any, backup_id: str) -> dict[str, Any]:
    return json.loads(s3.get_object(Bucket="backups", Key=f"{backup_id}/s3db.json")["Body"].read())


def put_manifest(s3: Any, backup_id: str, manifest: dict[str, Any]) -> None:
    s3.put_object(Bucket="backups", Key=f"{backup_id}/s3db.json", Body=json.dumps(manifest).encode())


def target_is_empty(s3: Any) -> bool:
    return s3.list_objects_v2(Bucket="srcdb", Prefix="copy/")["KeyCount"] == 0


def all_store_bytes(s3: Any) -> bytes:
    out = b""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="backups"):
        for o in page.get("Contents", []):
            out += s3.get_object(Bucket="backups", Key=o["Key"])["Body"].read()
    return out


@pytest.mark.parametrize("codec", list(CODECS))
@pytest.mark.parametrize("provider", ["passphrase", "kms"])
def test_encrypted_backup_restores_exactly(s3: Any, passphrase: str, kms_key: str, provider: str,
                                           codec: str) -> None:
    write_fake_database(s3, "srcdb", "app", records=30)
    before = snapshot_objects(s3, "srcdb", "app")
    result, _ = backup(s3, "s3://srcdb/app", "s3://backups", compression=codec, chunkMaxLines=7,
                       **options_for(provider, kms_key))
    manifest = manifest_of(s3, result["backupId"])
    block = manifest["encryption"]
    assert block["algorithm"] == "AES-256-GCM" and block["provider"] == provider
    assert manifest["resources"]["users"]["exportFile"] == f"users{CODECS[codec].extension}.enc"
    body = s3.get_object(Bucket="backups", Key=f"{result['backupId']}/users{CODECS[codec].extension}.enc")
    stored = body["Body"].read()
    assert b"u-00001" not in stored and b"_s3db" not in stored  # no plaintext, even with compression none
    assert body["ContentType"] == "application/octet-stream"

    restore(s3, result["backupId"], "s3://backups", target="s3://srcdb/copy")
    assert snapshot_objects(s3, "srcdb", "copy") == before


def test_kms_block_and_passphrase_block_hold_what_the_key_is_made_from(s3: Any, passphrase: str,
                                                                        kms_key: str) -> None:
    write_fake_database(s3, "srcdb", "app", records=3)
    kms_backup, _ = backup(s3, "s3://srcdb/app", "s3://backups", encryption="kms", kmsKeyId=kms_key)
    block = manifest_of(s3, kms_backup["backupId"])["encryption"]
    assert block["kmsKeyId"] == kms_key
    assert block["encryptionContext"] == {"s3db-backup:backupId": kms_backup["backupId"]}
    assert {"wrappedKey", "keyCheck"} <= set(block)
    pw_backup, _ = backup(s3, "s3://srcdb/app", "s3://backups", encryption="passphrase")
    block = manifest_of(s3, pw_backup["backupId"])["encryption"]
    assert block["kdf"]["name"] == "argon2id"
    assert {k: block["kdf"][k] for k in ("iterations", "lanes", "memoryCostKiB", "length")} == {
        "iterations": 3, "lanes": 4, "memoryCostKiB": 65536, "length": 32}
    assert len(base64.b64decode(block["kdf"]["salt"])) == 16


@pytest.mark.parametrize("provider", ["passphrase", "kms"])
def test_the_data_key_is_never_stored_nor_in_the_workflow_state(s3: Any, passphrase: str, kms_key: str,
                                                                provider: str) -> None:
    write_fake_database(s3, "srcdb", "app", records=12)
    plan = plan_backup(s3, source="s3://srcdb/app", store="s3://backups", options={
        **options_for(provider, kms_key), "chunkMaxLines": 3})
    unit = {"kind": "records", "resource": "users"}
    job = {k: plan[k] for k in ("backupId", "source", "store", "settings")} | {"unit": unit}
    states = [json.dumps(plan)]
    state = export_chunk(s3, job, None, deadline=float("inf"))  # stops after 3 lines: a spill is parked
    states.append(json.dumps(state))
    work = json.loads(s3.get_object(Bucket="backups", Key=f"{plan['backupId']}/.work/plan.json")["Body"].read())
    cipher_key = _key_of(work["encryption"], plan["backupId"])
    spills = s3.list_objects_v2(Bucket="backups", Prefix=f"{plan['backupId']}/.work/spill/")["Contents"]
    spill = s3.get_object(Bucket="backups", Key=spills[0]["Key"])["Body"].read()
    assert b"u-00000" not in spill  # spills are sealed too
    stored = all_store_bytes(s3)
    for form in (cipher_key, base64.b64encode(cipher_key), cipher_key.hex().encode()):
        assert form not in stored
        assert form.decode("latin-1") not in "".join(states)


def _key_of(block: dict[str, Any], backup_id: str) -> bytes:
    if block["provider"] == "kms":
        return boto3.client("kms", region_name="us-east-1").decrypt(
            CiphertextBlob=base64.b64decode(block["wrappedKey"]), EncryptionContext=block["encryptionContext"]
        )["Plaintext"]
    return crypto._derive(PASS, json.dumps(block["kdf"], sort_keys=True))


def test_passphrase_from_secrets_manager(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(crypto.PASSPHRASE_ENV, raising=False)
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    arn = sm.create_secret(Name="s3db-backup/passphrase", SecretString="from the vault")["ARN"]
    write_fake_database(s3, "srcdb", "app", records=5)
    before = snapshot_objects(s3, "srcdb", "app")
    result, _ = backup(s3, "s3://srcdb/app", "s3://backups", encryption="passphrase", passphraseSecret=arn)
    assert manifest_of(s3, result["backupId"])["encryption"]["passphraseSecret"] == arn
    # restore finds the secret the backup names
    restore(s3, result["backupId"], "s3://backups", target="s3://srcdb/copy")
    assert snapshot_objects(s3, "srcdb", "copy") == before


def test_missing_passphrase_fails_at_plan_and_writes_nothing(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(crypto.PASSPHRASE_ENV, raising=False)
    write_fake_database(s3, "srcdb", "app", records=3)
    with pytest.raises(ConfigError, match="no passphrase"):
        plan_backup(s3, source="s3://srcdb/app", store="s3://backups", options={"encryption": "passphrase"})
    assert s3.list_objects_v2(Bucket="backups")["KeyCount"] == 0
    with pytest.raises(ConfigError, match="kmsKeyId"):
        plan_backup(s3, source="s3://srcdb/app", store="s3://backups", options={"encryption": "kms"})


def test_wrong_passphrase_fails_before_anything_is_written(s3: Any, monkeypatch: pytest.MonkeyPatch,
                                                           passphrase: str) -> None:
    write_fake_database(s3, "srcdb", "app", records=5)
    result, _ = backup(s3, "s3://srcdb/app", "s3://backups", encryption="passphrase")
    monkeypatch.setenv(crypto.PASSPHRASE_ENV, "Correct horse battery staple")
    restores_before = s3.list_objects_v2(Bucket="backups", Prefix="_restores/")["KeyCount"]
    with pytest.raises(ConfigError, match="passphrase does not open"):
        restore(s3, result["backupId"], "s3://backups", target="s3://srcdb/copy")
    assert target_is_empty(s3)
    assert s3.list_objects_v2(Bucket="backups", Prefix="_restores/")["KeyCount"] == restores_before


def test_wrong_kms_key_fails_before_anything_is_written(s3: Any, kms_key: str) -> None:
    write_fake_database(s3, "srcdb", "app", records=5)
    result, _ = backup(s3, "s3://srcdb/app", "s3://backups", encryption="kms", kmsKeyId=kms_key)
    manifest = manifest_of(s3, result["backupId"])
    kms = boto3.client("kms", region_name="us-east-1")
    other = kms.create_key()["KeyMetadata"]["Arn"]
    foreign = kms.generate_data_key(KeyId=other, KeySpec="AES_256",
                                    EncryptionContext=manifest["encryption"]["encryptionContext"])
    manifest["encryption"]["wrappedKey"] = base64.b64encode(foreign["CiphertextBlob"]).decode()
    manifest["encryption"]["kmsKeyId"] = other
    put_manifest(s3, result["backupId"], manifest)
    with pytest.raises(ConfigError, match="KMS data key does not open"):
        restore(s3, result["backupId"], "s3://backups", target="s3://srcdb/copy")
    assert target_is_empty(s3)


def test_wrapped_key_of_another_backup_is_refused_by_kms(s3: Any, kms_key: str) -> None:
    """The encryption context binds a wrapped key to its backup id."""
    write_fake_database(s3, "srcdb", "app", records=5)
    one, _ = backup(s3, "s3://srcdb/app", "s3://backups", encryption="kms", kmsKeyId=kms_key)
    two, _ = backup(s3, "s3://srcdb/app", "s3://backups", encryption="kms", kmsKeyId=kms_key)
    manifest = manifest_of(s3, two["backupId"])
    manifest["encryption"] = manifest_of(s3, one["backupId"])["encryption"] | {
        "encryptionContext": {"s3db-backup:backupId": two["backupId"]}}
    put_manifest(s3, two["backupId"], manifest)
    with pytest.raises(ConfigError):
        restore(s3, two["backupId"], "s3://backups", target="s3://srcdb/copy")
    assert target_is_empty(s3)


# -- tampering: the manifest is rewritten to match, so only authentication can tell -------------------------
def multipart_backup(s3: Any) -> tuple[str, str, dict[str, Any]]:
    write_fake_database(s3, "srcdb", "app", records=5, big_bodies=24)  # notes: ~6 MiB, incompressible
    result, _ = backup(s3, "s3://srcdb/app", "s3://backups", encryption="passphrase", partSizeMiB=5)
    manifest = manifest_of(s3, result["backupId"])
    return result["backupId"], "notes.jsonl.gz.enc", manifest


def rewrite(s3: Any, backup_id: str, manifest: dict[str, Any], file_key: str, chunks: list[bytes],
            parts: list[dict[str, Any]]) -> None:
    """Store the file as `chunks` and make the manifest describe exactly those bytes."""
    body = b"".join(chunks)
    s3.put_object(Bucket="backups", Key=f"{backup_id}/{file_key}", Body=body)
    entry = next(f for f in manifest["files"] if f["key"] == file_key)
    offset = 0
    for part, chunk in zip(parts, chunks, strict=True):
        part.update(offset=offset, size=len(chunk), sha256=hashlib.sha256(chunk).hexdigest())
        offset += len(chunk)
    entry.update(parts=parts, bytes=len(body), sha256=hashlib.sha256(body).hexdigest(),
                 lines=sum(p["lines"] for p in parts))
    put_manifest(s3, backup_id, manifest)


def stored_parts(s3: Any, backup_id: str, manifest: dict[str, Any], file_key: str) -> list[bytes]:
    body = s3.get_object(Bucket="backups", Key=f"{backup_id}/{file_key}")["Body"].read()
    entry = next(f for f in manifest["files"] if f["key"] == file_key)
    return [body[p["offset"] : p["offset"] + p["size"]] for p in entry["parts"]]


def test_tampered_part_is_an_integrity_error(s3: Any, passphrase: str) -> None:
    write_fake_database(s3, "srcdb", "app", records=10)
    result, _ = backup(s3, "s3://srcdb/app", "s3://backups", encryption="passphrase")
    backup_id, file_key = result["backupId"], "users.jsonl.gz.enc"
    manifest = manifest_of(s3, backup_id)
    (part,) = stored_parts(s3, backup_id, manifest, file_key)
    damaged = bytearray(part)
    damaged[len(damaged) // 2] ^= 0x01
    entry = next(f for f in manifest["files"] if f["key"] == file_key)
    rewrite(s3, backup_id, manifest, file_key, [bytes(damaged)], entry["parts"])
    with pytest.raises(IntegrityError, match="fails authentication"):
        restore(s3, backup_id, "s3://backups", target="s3://srcdb/copy")
    assert target_is_empty(s3)


def test_swapped_parts_are_an_integrity_error(s3: Any, passphrase: str) -> None:
    backup_id, file_key, manifest = multipart_backup(s3)
    parts = next(f for f in manifest["files"] if f["key"] == file_key)["parts"]
    assert len(parts) >= 2
    chunks = stored_parts(s3, backup_id, manifest, file_key)
    chunks[0], chunks[1] = chunks[1], chunks[0]
    parts[0], parts[1] = parts[1], parts[0]
    parts[0]["number"], parts[1]["number"] = 1, 2
    rewrite(s3, backup_id, manifest, file_key, chunks, parts)
    with pytest.raises(IntegrityError, match=r"part 1 of notes\.jsonl\.gz\.enc fails authentication"):
        restore(s3, backup_id, "s3://backups", target="s3://srcdb/copy")
    assert target_is_empty(s3)


def test_dropped_last_part_is_an_integrity_error(s3: Any, passphrase: str) -> None:
    backup_id, file_key, manifest = multipart_backup(s3)
    parts = next(f for f in manifest["files"] if f["key"] == file_key)["parts"]
    chunks = stored_parts(s3, backup_id, manifest, file_key)
    rewrite(s3, backup_id, manifest, file_key, chunks[:-1], parts[:-1])
    with pytest.raises(IntegrityError, match="fails authentication"):
        restore(s3, backup_id, "s3://backups", target="s3://srcdb/copy")
    assert target_is_empty(s3)


def test_part_from_another_file_is_an_integrity_error(s3: Any, passphrase: str) -> None:
    write_fake_database(s3, "srcdb", "app", records=10)
    result, _ = backup(s3, "s3://srcdb/app", "s3://backups", encryption="passphrase")
    backup_id = result["backupId"]
    manifest = manifest_of(s3, backup_id)
    notes = next(f for f in manifest["files"] if f["key"] == "notes.jsonl.gz.enc")
    chunks = stored_parts(s3, backup_id, manifest, "notes.jsonl.gz.enc")
    rewrite(s3, backup_id, manifest, "users.jsonl.gz.enc", chunks, [dict(p) for p in notes["parts"]])
    with pytest.raises(IntegrityError, match="fails authentication"):
        restore(s3, backup_id, "s3://backups", target="s3://srcdb/copy")
    assert target_is_empty(s3)
