"""The eleven Lambda functions of docs/architecture.md: one table, one construct that builds them.

All functions share one code asset (the engine `s3db_backup/`, the handlers `functions/` and the runtime
dependencies), run on x86_64 / Python 3.12 and log, trace and emit metrics through Powertools.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.bundling import LAMBDA_ARCHITECTURE

CHUNK_MEMORY_MB = 1769  # one full vCPU: compression and sha256 are CPU-bound
CHUNK_TIMEOUT_SECONDS = 900  # the Lambda maximum; chunk handlers stop early on their own time budget
DEFAULT_MEMORY_MB = 512
DEFAULT_TIMEOUT_SECONDS = 300


@dataclass(frozen=True, kw_only=True)
class FunctionSpec:
    """One row of the function table."""

    id: str
    """Construct id; also the name used by `${Function:<id>}` placeholders in the packaged workflows."""
    module: str
    """Handler module under `functions/`."""
    memory_mb: int = DEFAULT_MEMORY_MB
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS

    @property
    def handler(self) -> str:
        return f"functions.{self.module}.handler"

    def as_json(self) -> dict[str, object]:
        """The entry of `s3db_backup/workflows/functions.json` (read by the local runner)."""
        return {
            "id": self.id,
            "handler": self.handler,
            "timeoutSeconds": self.timeout_seconds,
            "memoryMB": self.memory_mb,
        }


def _chunk(id: str, module: str) -> FunctionSpec:
    return FunctionSpec(id=id, module=module, memory_mb=CHUNK_MEMORY_MB, timeout_seconds=CHUNK_TIMEOUT_SECONDS)


FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(id="PlanBackup", module="plan_backup"),
    FunctionSpec(id="SplitUnit", module="split_unit", timeout_seconds=CHUNK_TIMEOUT_SECONDS),
    _chunk("ExportChunk", "export_chunk"),
    FunctionSpec(id="WriteManifest", module="write_manifest"),
    FunctionSpec(id="PruneRetention", module="prune_retention"),
    FunctionSpec(id="FailBackup", module="fail_backup"),
    FunctionSpec(id="PlanRestore", module="plan_restore"),
    _chunk("VerifyChunk", "verify_chunk"),
    _chunk("ImportChunk", "import_chunk"),
    FunctionSpec(id="FinalizeRestore", module="finalize_restore"),
    FunctionSpec(id="FailRestore", module="fail_restore"),
)

BACKUP_FUNCTIONS = ("PlanBackup", "SplitUnit", "ExportChunk", "WriteManifest", "PruneRetention", "FailBackup")
RESTORE_FUNCTIONS = ("PlanRestore", "VerifyChunk", "ImportChunk", "FinalizeRestore", "FailRestore")


class BackupFunctions(Construct):
    """Builds one `lambda_.Function` per spec; index it by construct id: `functions["ExportChunk"]`."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        code: lambda_.Code,
        specs: Sequence[FunctionSpec] = FUNCTIONS,
        architecture: lambda_.Architecture = LAMBDA_ARCHITECTURE,
        runtime: lambda_.Runtime = lambda_.Runtime.PYTHON_3_12,
        service_name: str = "s3db-backup",
        metrics_namespace: str = "S3dbBackup",
        log_level: str = "INFO",
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        tracing: bool = True,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        """
        Args:
            code: the shared code asset (see `infra.bundling.project_code`).
            specs: the function table; default FUNCTIONS (the eleven functions of the contract).
            architecture: default LAMBDA_ARCHITECTURE (x86_64, see infra.bundling).
            runtime: default Python 3.12.
            service_name: POWERTOOLS_SERVICE_NAME; default "s3db-backup".
            metrics_namespace: POWERTOOLS_METRICS_NAMESPACE; default "S3dbBackup".
            log_level: POWERTOOLS_LOG_LEVEL; default "INFO".
            log_retention: retention of each function's log group; default one month.
            tracing: X-Ray active tracing; default on.
            environment: extra environment variables for every function.
        """
        super().__init__(scope, id)
        self.specs: dict[str, FunctionSpec] = {spec.id: spec for spec in specs}
        self._functions: dict[str, lambda_.Function] = {}
        for spec in specs:
            env = {
                "POWERTOOLS_SERVICE_NAME": service_name,
                "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace,
                "POWERTOOLS_LOG_LEVEL": log_level,
                **(environment or {}),
            }
            self._functions[spec.id] = lambda_.Function(
                self,
                spec.id,
                code=code,
                handler=spec.handler,
                runtime=runtime,
                architecture=architecture,
                memory_size=spec.memory_mb,
                timeout=Duration.seconds(spec.timeout_seconds),
                environment=env,
                tracing=lambda_.Tracing.ACTIVE if tracing else lambda_.Tracing.DISABLED,
                log_group=logs.LogGroup(self, f"{spec.id}Logs", retention=log_retention),
                description=f"s3db-backup {spec.id} ({spec.handler})",
            )

    def __getitem__(self, id: str) -> lambda_.Function:
        return self._functions[id]

    def __iter__(self) -> Iterator[lambda_.Function]:
        return iter(self._functions.values())

    def items(self) -> Iterator[tuple[str, lambda_.Function]]:
        return iter(self._functions.items())
