"""The backup and restore state machines of docs/architecture.md, written with the CDK Step Functions constructs.

The synthesized definitions are also packaged (`python -m infra.export_workflows`) and executed by the local
runner and the tests, so this module is the single source of both workflows.

Shape shared by both:
    Plan -> Run (Parallel, one branch; Catch States.ALL at $.error -> MarkFailed -> Failed)
and inside Run, Map states over `$.units` whose iterations are a chunk loop: a Lambda task whose result
replaces the state (`{"job", "cursor", "done"}`) and a Choice that loops until `done` is true.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

# Transient failures of the Lambda service (CDK's default retrier's list, plus throttling).
LAMBDA_SERVICE_ERRORS: tuple[str, ...] = (
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)
# A task that outlived its TimeoutSeconds, or a function that outlived its own timeout. Safe to run again:
# every task is idempotent (chunks restart from the cursor they were given).
TIMEOUT_ERRORS: tuple[str, ...] = ("States.Timeout", "Sandbox.Timedout")
# Seconds a task may run beyond its function's timeout before Step Functions gives up on it (States.Timeout).
TASK_TIMEOUT_MARGIN_SECONDS = 60


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Retries of every Lambda task. Errors raised by the handlers (BackupError and the rest) are never
    retried: only the errors listed in LAMBDA_SERVICE_ERRORS and TIMEOUT_ERRORS are."""

    interval_seconds: int = 2
    """First wait before retrying a Lambda service error (CDK's default: 2 s)."""
    max_attempts: int = 6
    """Retries of a Lambda service error (CDK's default: 6)."""
    backoff_rate: float = 2.0
    """Multiplier of the wait after each retry (CDK's default: 2)."""
    timeout_interval_seconds: int = 5
    """Wait before running a timed-out task again."""
    timeout_max_attempts: int = 2
    """Retries of a timed-out task."""

    def apply(self, task: sfn.TaskStateBase) -> None:
        task.add_retry(
            errors=list(LAMBDA_SERVICE_ERRORS),
            interval=Duration.seconds(self.interval_seconds),
            max_attempts=self.max_attempts,
            backoff_rate=self.backoff_rate,
        )
        task.add_retry(
            errors=list(TIMEOUT_ERRORS),
            interval=Duration.seconds(self.timeout_interval_seconds),
            max_attempts=self.timeout_max_attempts,
            backoff_rate=1.0,
        )


def invoke(
    scope: Construct,
    id: str,
    function: lambda_.IFunction,
    *,
    retry: RetryPolicy,
    payload: Mapping[str, object] | None = None,
    result_path: str | None = None,
) -> tasks.LambdaInvoke:
    """A Lambda task with the function ARN as Resource: the handler's JSON is the task's result.

    Args:
        payload: Parameters built from the state (JsonPath values); None = the whole state.
        result_path: where the result goes; None = it replaces the state.
    """
    timeout = getattr(function, "timeout", None)
    task = tasks.LambdaInvoke(
        scope,
        id,
        lambda_function=function,
        payload=sfn.TaskInput.from_object(dict(payload)) if payload is not None else None,
        payload_response_only=True,
        retry_on_service_exceptions=False,  # replaced by `retry`, whose intervals are configurable
        result_path=result_path,
        task_timeout=(
            sfn.Timeout.duration(Duration.seconds(timeout.to_seconds() + TASK_TIMEOUT_MARGIN_SECONDS))
            if timeout is not None
            else None
        ),
    )
    retry.apply(task)
    return task


def chunk_loop(
    scope: Construct,
    *,
    task_name: str,
    choice_name: str,
    done_name: str,
    function: lambda_.IFunction,
    retry: RetryPolicy,
    then: sfn.IChainable | None = None,
) -> sfn.IChainable:
    """The body of a Map iteration: call `function` with `{"job", "cursor"}` until it answers `done`.

    The handler receives the whole state and returns `{"job", "cursor", "done"}`, which replaces the state;
    the next call resumes from that cursor. A missing `done` fails the iteration (States.Runtime).

    Args:
        then: where the loop goes once done (with the last answer as its state); None = the iteration ends.
    """
    task = invoke(scope, task_name, function, retry=retry)
    done = then if then is not None else sfn.Succeed(scope, done_name)
    choice = sfn.Choice(scope, choice_name).when(sfn.Condition.boolean_equals("$.done", True), done).otherwise(task)
    return task.next(choice)


def shard_map(
    scope: Construct,
    id: str,
    *,
    max_concurrency: int,
    iterator: sfn.IChainable,
) -> sfn.Map:
    """An inline Map over `$.shards` (SplitUnit's answer) whose iterations start from
    `{"job": $.job, "shard": {"index", "count"}, "cursor": null}`; its result is discarded."""
    step = sfn.Map(
        scope,
        id,
        items_path="$.shards",
        item_selector={
            "job": sfn.JsonPath.object_at("$.job"),
            "shard": sfn.JsonPath.object_at("$$.Map.Item.Value"),
            "cursor": sfn.JsonPath.string_to_json("null"),
        },
        max_concurrency=max_concurrency,
        result_path=sfn.JsonPath.DISCARD,
    )
    return step.item_processor(iterator)


def chunk_map(
    scope: Construct,
    id: str,
    *,
    job: Mapping[str, str],
    max_concurrency: int,
    iterator: sfn.IChainable,
) -> sfn.Map:
    """An inline Map over `$.units` whose iterations start from `{"job": {...job, "unit"}, "cursor": null}`.

    The Map's result is discarded: its output is its input, and the chunks' results are in the store.

    Args:
        job: job fields copied from the Map's input, name -> JSONPath.
    """
    selector_job = {name: sfn.JsonPath.string_at(path) for name, path in job.items()}
    selector_job["unit"] = sfn.JsonPath.string_at("$$.Map.Item.Value")
    step = sfn.Map(
        scope,
        id,
        items_path="$.units",
        # A literal None would be dropped on the way through jsii: build the JSON null with an intrinsic.
        item_selector={"job": selector_job, "cursor": sfn.JsonPath.string_to_json("null")},
        max_concurrency=max_concurrency,
        result_path=sfn.JsonPath.DISCARD,
    )
    return step.item_processor(iterator)


def guarded_run(
    scope: Construct,
    *,
    body: sfn.IChainable,
    on_failure: tasks.LambdaInvoke,
) -> sfn.Parallel:
    """`Run`: a one-branch Parallel around `body` whose output is the branch's output.

    Any error inside (States.ALL) lands at `$.error` = `{"Error", "Cause"}` of the Parallel's input, goes
    through `on_failure`, then ends the execution as failed with that Error and Cause.
    """
    failed = sfn.Fail(scope, "Failed", error_path="$.error.Error", cause_path="$.error.Cause")
    run = sfn.Parallel(scope, "Run", output_path="$[0]")
    run.branch(body)
    run.add_catch(on_failure.next(failed), errors=["States.ALL"], result_path="$.error")
    return run


def backup_definition(
    scope: Construct,
    *,
    functions: Mapping[str, lambda_.IFunction],
    map_concurrency: int,
    retry: RetryPolicy,
    shard_concurrency: int = 8,
) -> sfn.IChainable:
    """Plan -> Run(Export map -> WriteManifest -> Prune -> Result); failures -> MarkFailed -> Failed.

    An Export iteration splits its unit (SplitUnit loop), then exports its shards in parallel (an inner
    Map of ExportChunk loops); a unit below `shardRecords` keys is one shard, one file."""
    s = sfn.JsonPath.string_at
    plan = invoke(scope, "Plan", functions["PlanBackup"], retry=retry)
    shards = shard_map(
        scope,
        "Shards",
        max_concurrency=shard_concurrency,
        iterator=chunk_loop(
            scope,
            task_name="ExportChunk",
            choice_name="Done?",
            done_name="ShardDone",
            function=functions["ExportChunk"],
            retry=retry,
        ),
    )
    export = chunk_map(
        scope,
        "Export",
        job={"backupId": "$.backupId", "source": "$.source", "store": "$.store", "settings": "$.settings"},
        max_concurrency=map_concurrency,
        iterator=chunk_loop(
            scope,
            task_name="SplitUnit",
            choice_name="Split?",
            done_name="UnitSplit",
            function=functions["SplitUnit"],
            retry=retry,
            then=shards,
        ),
    )
    write_manifest = invoke(
        scope,
        "WriteManifest",
        functions["WriteManifest"],
        retry=retry,
        payload={"backupId": s("$.backupId"), "source": s("$.source"), "store": s("$.store")},
        result_path="$.manifest",
    )
    prune = invoke(
        scope,
        "Prune",
        functions["PruneRetention"],
        retry=retry,
        payload={"backupId": s("$.backupId"), "store": s("$.store"), "retention": s("$.retention")},
        result_path="$.prune",
    )
    result = sfn.Pass(
        scope,
        "Result",
        parameters={
            "backupId": s("$.backupId"),
            "store": s("$.store"),
            "records": s("$.manifest.records"),
            "bytes": s("$.manifest.bytes"),
            "status": s("$.manifest.status"),
        },
    )
    mark_failed = invoke(
        scope,
        "MarkFailed",
        functions["FailBackup"],
        retry=retry,
        payload={
            "backupId": s("$.backupId"),
            "source": s("$.source"),
            "store": s("$.store"),
            "error": s("$.error"),
        },
        result_path=sfn.JsonPath.DISCARD,
    )
    run = guarded_run(scope, body=export.next(write_manifest).next(prune).next(result), on_failure=mark_failed)
    return plan.next(run)


def restore_definition(
    scope: Construct,
    *,
    functions: Mapping[str, lambda_.IFunction],
    map_concurrency: int,
    retry: RetryPolicy,
) -> sfn.IChainable:
    """PlanRestore -> Run(Verify map -> Import map -> FinalizeRestore); failures -> MarkFailed -> Failed."""
    s = sfn.JsonPath.string_at
    job = {name: f"$.{name}" for name in ("restoreId", "backupId", "store", "target", "overwrite", "settings")}
    plan = invoke(scope, "PlanRestore", functions["PlanRestore"], retry=retry)
    verify = chunk_map(
        scope,
        "Verify",
        job=job,
        max_concurrency=map_concurrency,
        iterator=chunk_loop(
            scope,
            task_name="VerifyChunk",
            choice_name="Verified?",
            done_name="UnitVerified",
            function=functions["VerifyChunk"],
            retry=retry,
        ),
    )
    import_ = chunk_map(
        scope,
        "Import",
        job=job,
        max_concurrency=map_concurrency,
        iterator=chunk_loop(
            scope,
            task_name="ImportChunk",
            choice_name="Imported?",
            done_name="UnitImported",
            function=functions["ImportChunk"],
            retry=retry,
        ),
    )
    finalize = invoke(
        scope,
        "FinalizeRestore",
        functions["FinalizeRestore"],
        retry=retry,
        payload={
            "restoreId": s("$.restoreId"),
            "backupId": s("$.backupId"),
            "store": s("$.store"),
            "target": s("$.target"),
        },
    )
    mark_failed = invoke(
        scope,
        "MarkFailed",
        functions["FailRestore"],
        retry=retry,
        payload={
            "restoreId": s("$.restoreId"),
            "backupId": s("$.backupId"),
            "store": s("$.store"),
            "target": s("$.target"),
            "error": s("$.error"),
        },
        result_path=sfn.JsonPath.DISCARD,
    )
    run = guarded_run(scope, body=verify.next(import_).next(finalize), on_failure=mark_failed)
    return plan.next(run)


class Workflow(Construct):
    """A STANDARD state machine with its log group and X-Ray tracing, around one of the definitions."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        define: Callable[[Construct], sfn.IChainable],
        state_machine_name: str | None = None,
        log_level: sfn.LogLevel = sfn.LogLevel.ERROR,
        include_execution_data: bool = True,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        tracing: bool = True,
        timeout: Duration | None = None,
    ) -> None:
        """
        Args:
            define: builds the states in the scope it is given (this construct), e.g.
                `lambda scope: backup_definition(scope, ...)`.
            state_machine_name: physical name; default generated by CloudFormation.
            log_level: execution events sent to the log group; default ERROR.
            include_execution_data: log states' input/output with the events; default true.
            log_retention: default one month.
            tracing: X-Ray tracing; default on.
            timeout: execution timeout; default none (Standard workflows may run up to a year).
        """
        super().__init__(scope, id)
        self.log_group = logs.LogGroup(self, "Logs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(define(self)),
            logs=sfn.LogOptions(
                destination=self.log_group, level=log_level, include_execution_data=include_execution_data
            ),
            tracing_enabled=tracing,
            timeout=timeout,
        )
