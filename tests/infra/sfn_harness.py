"""Run the packaged state machines in moto's Step Functions with in-test fake Lambda handlers.

moto executes the ASL for real (Map, Choice loops, Retry, Catch, intrinsics); its simple Lambda backend is
patched so every invocation calls `handlers[<function id>](event)` in-process. A handler that raises makes
the task fail with Error = the exception's class name, as a Python Lambda does on AWS.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend

WORKFLOWS = Path(__file__).resolve().parents[2] / "s3db_backup" / "workflows"
REGION = "us-east-1"
ACCOUNT = "123456789012"

Handler = Callable[[dict[str, Any]], Any]


def lambda_error(error_type: str, message: str = "") -> Exception:
    """An exception whose class name is `error_type`, even one Python cannot spell (`Sandbox.Timedout`,
    what the Lambda runtime reports for a function that ran out of time)."""
    return type(error_type, (Exception,), {})(message)


@dataclass
class Call:
    seq: int
    function: str
    event: dict[str, Any]


@dataclass
class Recorder:
    """Every invocation, in order, thread-safe (Map iterations run concurrently)."""

    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, function: str, event: dict[str, Any]) -> None:
        with self._lock:
            self.calls.append(Call(len(self.calls), function, event))

    def of(self, function: str) -> list[Call]:
        return [call for call in self.calls if call.function == function]


def load_definition(name: str, function_arns: dict[str, str], retry_interval_seconds: int | None = None) -> str:
    """A packaged ASL with its placeholders replaced.

    retry_interval_seconds: replaces every Retry's IntervalSeconds (moto really sleeps them).
    """
    text = (WORKFLOWS / f"{name}.asl.json").read_text()
    if retry_interval_seconds is not None:
        definition = json.loads(text)
        for retrier in _retriers(definition):
            retrier["IntervalSeconds"] = retry_interval_seconds
        text = json.dumps(definition)
    for function_id, arn in function_arns.items():
        text = text.replace("${Function:" + function_id + "}", arn)
    for name_, value in (("AWS::Partition", "aws"), ("AWS::Region", REGION), ("AWS::AccountId", ACCOUNT)):
        text = text.replace("${" + name_ + "}", value)
    assert "${" not in text, "unresolved placeholder"
    return text


def _retriers(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield from node.get("Retry", [])
        for value in node.values():
            yield from _retriers(value)
    elif isinstance(node, list):
        for value in node:
            yield from _retriers(value)


def function_ids() -> list[str]:
    return [entry["id"] for entry in json.loads((WORKFLOWS / "functions.json").read_text())]


@dataclass
class Result:
    status: str
    output: Any
    error: str | None
    cause: str | None
    output_text: str | None
    history: list[dict[str, Any]]


class LocalStepFunctions:
    """The packaged state machines, created in an active moto mock, started with `run()`."""

    def __init__(
        self, handlers: dict[str, Handler], recorder: Recorder, retry_interval_seconds: int | None = None
    ) -> None:
        self.handlers = handlers
        self.recorder = recorder
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        role = boto3.client("iam", region_name=REGION).create_role(
            RoleName="s3db-backup-local",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        lam = boto3.client("lambda", region_name=REGION)
        arns = {}
        for function_id in function_ids():
            arns[function_id] = lam.create_function(
                FunctionName=function_id,
                Runtime="python3.12",
                Role=role,
                Handler="index.handler",
                Code={"ZipFile": _dummy_zip()},
            )["FunctionArn"]
        self.state_machines = {
            name: self.sfn.create_state_machine(
                name=f"S3dbBackup-{name}",
                definition=load_definition(name, arns, retry_interval_seconds),
                roleArn=role,
            )["stateMachineArn"]
            for name in ("backup", "restore")
        }

    def invoke(self, function_name: str, body: Any, response_headers: dict[str, Any]) -> bytes:
        function_id = function_name.split(":")[-1] if function_name.startswith("arn:") else function_name
        event = json.loads(body) if body else {}
        self.recorder.add(function_id, event)
        try:
            result = self.handlers[function_id](event)
        except Exception as err:  # the Lambda runtime's report of an unhandled error
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(err).__name__, "errorMessage": str(err)}).encode()
        return json.dumps(result).encode()

    def run(self, name: str, execution_input: dict[str, Any], timeout: float = 30.0) -> Result:
        """Start an execution and wait for its final status (it runs in a background thread)."""
        arn = self.sfn.start_execution(
            stateMachineArn=self.state_machines[name],
            name=f"{name}-{uuid.uuid4().hex[:12]}",  # unique: moto refuses a repeated (or absent) name
            input=json.dumps(execution_input),
        )["executionArn"]
        deadline = time.monotonic() + timeout
        while True:
            described = self.sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {arn} still running after {timeout} s")
            time.sleep(0.02)
        try:
            history = self.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        except TypeError as err:  # moto 5.2.5 cannot serialize the history of a retried Lambda task
            history = [{"historyUnavailable": repr(err)}]
        output_text = described.get("output")
        return Result(
            status=described["status"],
            output=json.loads(output_text) if output_text else None,
            error=described.get("error"),
            cause=described.get("cause"),
            output_text=output_text,
            history=history,
        )


@contextmanager
def local_step_functions(
    handlers: dict[str, Handler], *, retry_interval_seconds: int | None = 1
) -> Iterator[tuple[LocalStepFunctions, Recorder]]:
    """moto with executing state machines and in-process Lambdas; every run finishes inside it.

    retry_interval_seconds: short retries for tests (None = the packaged intervals).
    """
    recorder = Recorder()
    holder: dict[str, LocalStepFunctions] = {}

    def invoke(_backend, function_name, qualifier, body, headers, response_headers):
        return holder["sfn"].invoke(function_name, body, response_headers)

    quiet = logging.getLogger("moto.stepfunctions.parser")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # it logs every task failure at ERROR, expected ones included
    config = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    try:
        with (
            mock_aws(config=config),
            mock.patch.object(LambdaSimpleBackend, "invoke", invoke),
        ):
            holder["sfn"] = LocalStepFunctions(handlers, recorder, retry_interval_seconds)
            yield holder["sfn"], recorder
    finally:
        quiet.setLevel(level)


def _dummy_zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()
