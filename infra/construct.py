"""`S3dbBackup`: everything that backs up one s3db.js database and restores it.

Store bucket, functions, the backup and restore state machines, the nightly schedule, and the grants that
wire them, in one visible place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, RemovalPolicy, TimeZone
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.bundling import project_code
from infra.config import DEFAULT_SCHEDULE
from infra.functions import BACKUP_FUNCTIONS, FUNCTIONS, RESTORE_FUNCTIONS, BackupFunctions
from infra.workflows import RetryPolicy, Workflow, backup_definition, restore_definition

# Functions that read the source database (plan it, export it, copy its s3db.json into the manifest).
SOURCE_READERS = ("PlanBackup", "SplitUnit", "ExportChunk", "WriteManifest")
# Functions that check / write the restore target.
TARGET_READERS = ("PlanRestore",)
TARGET_WRITERS = ("ImportChunk", "FinalizeRestore")
# Encrypted backups: PlanBackup creates the data key; the functions that read or write parts recover it.
KEY_CREATORS = ("PlanBackup",)
KEY_USERS = ("ExportChunk", "PlanRestore", "VerifyChunk", "ImportChunk")
ENCRYPTION_CONTEXT_KEY = "s3db-backup:backupId"


class S3dbBackup(Construct):
    """Backup and restore of the s3db.js database at `s3://<source_bucket_name>/<source_prefix>`.

    Attributes: `store_bucket`, `source_bucket`, `restore_target_bucket`, `functions`, `backup` and
    `restore` (`Workflow`: `.state_machine`, `.log_group`), `schedule` (None when unscheduled).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        source_bucket_name: str,
        source_prefix: str = "",
        store_bucket_name: str | None = None,
        store_prefix: str = "backups/",
        restore_target_bucket_name: str | None = None,
        restore_target_prefix: str = "",
        schedule: str | None = DEFAULT_SCHEDULE,
        timezone: str = "UTC",
        retention_count: int = 7,
        backup_options: Mapping[str, Any] | None = None,
        map_concurrency: int = 8,
        shard_concurrency: int = 8,
        retry: RetryPolicy | None = None,
        name_prefix: str = "S3dbBackup",
        code: lambda_.Code | None = None,
        noncurrent_version_days: int = 30,
        log_level: sfn.LogLevel = sfn.LogLevel.ERROR,
        kms_key_arns: Sequence[str] = (),
        passphrase_secret_arns: Sequence[str] = (),
    ) -> None:
        """
        Args:
            source_bucket_name: bucket of the database (existing; read only).
            source_prefix: key prefix of the database; default "" (bucket root).
            store_bucket_name: existing bucket for the backups; default None = create a secured one
                (versioned, SSE-S3, public access blocked, TLS only, retained on stack deletion).
            store_prefix: key prefix of the backups in the store; default "backups/".
            restore_target_bucket_name: bucket restores may write to; default the source bucket.
            restore_target_prefix: key prefix restores may write under; default "" (the whole bucket, so
                a restore can go to a new prefix).
            schedule: Scheduler expression starting a full backup; default nightly at 02:00
                ("cron(0 2 * * ? *)"); None = no schedule.
            timezone: time zone of the schedule; default "UTC".
            retention_count: complete backups kept (input option `retentionCount`); default 7.
            backup_options: more `options` of the scheduled input; default none.
            map_concurrency: MaxConcurrency of every Map state over units or files; default 8.
            shard_concurrency: MaxConcurrency of the Map over the shards of one split unit; default 8
                (so up to map_concurrency x shard_concurrency ExportChunk invocations at once).
            retry: retries of the Lambda tasks; default `RetryPolicy()` (2 s, 6 attempts, rate 2).
            name_prefix: state machines are named `<name_prefix>-backup` / `-restore`; default "S3dbBackup".
            code: the functions' code; default the bundled project (`infra.bundling.project_code`).
            noncurrent_version_days: days a created store keeps overwritten/deleted object versions;
                default 30.
            log_level: state machine log level; default ERROR.
            kms_key_arns: KMS keys backups may be encrypted with (option `encryption: kms`); PlanBackup may
                generate data keys and the part readers/writers decrypt them, only with our encryption
                context; default none.
            passphrase_secret_arns: Secrets Manager secrets holding passphrases (option `passphraseSecret`);
                default none.
        """
        super().__init__(scope, id)
        retry = retry or RetryPolicy()
        store_pattern = f"{store_prefix}*"
        source_pattern = f"{source_prefix}*"
        target_pattern = f"{restore_target_prefix}*"

        self.source_bucket = s3.Bucket.from_bucket_name(self, "Source", source_bucket_name)
        self.store_bucket = (
            s3.Bucket.from_bucket_name(self, "Store", store_bucket_name)
            if store_bucket_name
            else self._create_store(noncurrent_version_days)
        )
        self.restore_target_bucket = (
            s3.Bucket.from_bucket_name(self, "RestoreTarget", restore_target_bucket_name)
            if restore_target_bucket_name and restore_target_bucket_name != source_bucket_name
            else self.source_bucket
        )

        self.functions = BackupFunctions(self, "Functions", code=code or project_code())

        # Grants: the source is only ever read; the store is read, written, listed and pruned (incl.
        # multipart uploads: s3:Abort*, s3:List*); the restore target is checked, then written.
        for function_id in SOURCE_READERS:
            self.source_bucket.grant_read(self.functions[function_id], source_pattern)
        # (grant_write includes s3:DeleteObject*.)
        for spec in FUNCTIONS:
            self.store_bucket.grant_read_write(self.functions[spec.id], store_pattern)
        for function_id in TARGET_READERS + TARGET_WRITERS:
            self.restore_target_bucket.grant_read(self.functions[function_id], target_pattern)
        for function_id in TARGET_WRITERS:
            self.restore_target_bucket.grant_write(self.functions[function_id], target_pattern)

        self._grant_encryption(tuple(kms_key_arns), tuple(passphrase_secret_arns))

        def pick(ids: tuple[str, ...]) -> dict[str, lambda_.IFunction]:
            return {function_id: self.functions[function_id] for function_id in ids}

        self.backup = Workflow(
            self,
            "Backup",
            state_machine_name=f"{name_prefix}-backup",
            log_level=log_level,
            define=lambda scope: backup_definition(
                scope, functions=pick(BACKUP_FUNCTIONS), map_concurrency=map_concurrency, retry=retry,
                shard_concurrency=shard_concurrency,
            ),
        )
        self.restore = Workflow(
            self,
            "Restore",
            state_machine_name=f"{name_prefix}-restore",
            log_level=log_level,
            define=lambda scope: restore_definition(
                scope, functions=pick(RESTORE_FUNCTIONS), map_concurrency=map_concurrency, retry=retry
            ),
        )

        self.backup_input: dict[str, Any] = {
            "source": f"s3://{source_bucket_name}/{source_prefix}",
            "store": f"s3://{self.store_bucket.bucket_name}/{store_prefix}",
            "type": "full",
            "options": {"retentionCount": retention_count, **(backup_options or {})},
        }
        self.schedule = (
            scheduler.Schedule(
                self,
                "Schedule",
                schedule=scheduler.ScheduleExpression.expression(schedule, TimeZone.of(timezone)),
                target=targets.StepFunctionsStartExecution(
                    self.backup.state_machine,
                    input=scheduler.ScheduleTargetInput.from_object(self.backup_input),
                    retry_attempts=3,
                ),
                description=f"Full backup of s3://{source_bucket_name}/{source_prefix}",
            )
            if schedule
            else None
        )

    def _grant_encryption(self, kms_key_arns: tuple[str, ...], secret_arns: tuple[str, ...]) -> None:
        context = {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": [ENCRYPTION_CONTEXT_KEY]}}
        for ids, action in ((KEY_CREATORS, "kms:GenerateDataKey"), (KEY_USERS, "kms:Decrypt")):
            if not kms_key_arns:
                break
            for function_id in ids:
                self.functions[function_id].add_to_role_policy(iam.PolicyStatement(
                    actions=[action], resources=list(kms_key_arns), conditions=context))
        if secret_arns:
            for function_id in KEY_CREATORS + KEY_USERS:
                self.functions[function_id].add_to_role_policy(iam.PolicyStatement(
                    actions=["secretsmanager:GetSecretValue"], resources=list(secret_arns)))

    def _create_store(self, noncurrent_version_days: int) -> s3.Bucket:
        return s3.Bucket(
            self,
            "Store",
            versioned=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-multipart-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                ),
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=Duration.days(noncurrent_version_days),
                ),
            ],
        )

    def grant_start_backup(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let `grantee` (a CI role, an operator) start backups."""
        return self.backup.state_machine.grant_start_execution(grantee)

    def grant_start_restore(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let `grantee` start restores."""
        return self.restore.state_machine.grant_start_execution(grantee)
