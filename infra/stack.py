"""The deployable stack: one `S3dbBackup` built from the operator's config, plus its outputs."""

from __future__ import annotations

import os
from typing import Any

import aws_cdk as cdk
from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.config import BackupConfig, load_config
from infra.construct import S3dbBackup
from infra.workflows import RetryPolicy


class S3dbBackupStack(Stack):
    """Backs up the database named in `config`; outputs the state machines and the store bucket."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: BackupConfig,
        code: lambda_.Code | None = None,
        retry: RetryPolicy | None = None,
        **stack_props: Any,
    ) -> None:
        super().__init__(scope, id, **stack_props)
        self.backup = S3dbBackup(
            self,
            "S3dbBackup",
            source_bucket_name=config.source_bucket,
            source_prefix=config.source_prefix,
            store_bucket_name=config.store_bucket,
            store_prefix=config.store_prefix,
            schedule=config.schedule,
            timezone=config.timezone,
            retention_count=config.retention_count,
            backup_options=config.backup_options,
            map_concurrency=config.map_concurrency,
            shard_concurrency=config.shard_concurrency,
            name_prefix=config.stack_name,
            code=code,
            retry=retry,
            kms_key_arns=config.kms_key_arns,
            passphrase_secret_arns=config.passphrase_secret_arns,
        )
        CfnOutput(self, "BackupStateMachineArn", value=self.backup.backup.state_machine.state_machine_arn)
        CfnOutput(self, "RestoreStateMachineArn", value=self.backup.restore.state_machine.state_machine_arn)
        CfnOutput(self, "StoreBucketName", value=self.backup.store_bucket.bucket_name)


def build_app(app: cdk.App | None = None) -> tuple[cdk.App, S3dbBackupStack]:
    """The app and its one stack, configured from cdk.json's context and `-c` overrides.

    Args:
        app: default a new App writing to $CDK_OUTDIR (set by the CDK CLI) or else cdk.out/.
    """
    app = app or cdk.App(outdir=None if os.environ.get("CDK_OUTDIR") else "cdk.out")
    config = load_config(app.node)
    environment = cdk.Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
    )
    return app, S3dbBackupStack(app, config.stack_name, config=config, env=environment)
