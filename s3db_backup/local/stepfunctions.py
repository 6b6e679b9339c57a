"""Runs the packaged (CDK-synthesized) state machines on this machine: moto's Step Functions emulation
executes the ASL, and every Lambda invocation is dispatched in-process to the handler named in
`workflows/functions.json`. S3 is whatever endpoint the handlers' client points at (real AWS, or a local
server); S3 calls pass through the emulation untouched.

There is one workflow definition, the one CDK synthesizes; this module never edits its logic.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
REGION = "us-east-1"
ACCOUNT = "123456789012"

Handler = Callable[[dict[str, Any], Any], Any]
#: Called after every invocation with (function id, event, result or None, error or None).
Observer = Callable[[str, dict[str, Any], Any, BaseException | None], None]


@dataclass(frozen=True)
class FunctionSpec:
    id: str
    handler: str
    timeoutSeconds: int
    memoryMB: int


def function_specs() -> list[FunctionSpec]:
    return [FunctionSpec(**entry) for entry in json.loads((WORKFLOWS / "functions.json").read_text())]


def load_definition(name: str, function_arns: dict[str, str], *, region: str = REGION,
                    account: str = ACCOUNT, retry_interval_seconds: int | None = None) -> str:
    """A packaged ASL with its placeholders resolved. `retry_interval_seconds` replaces every retrier's
    interval (the emulation really sleeps them; tests keep them short)."""
    text = (WORKFLOWS / f"{name}.asl.json").read_text()
    if retry_interval_seconds is not None:
        definition = json.loads(text)
        for retrier in _retriers(definition):
            retrier["IntervalSeconds"] = retry_interval_seconds
        text = json.dumps(definition)
    for function_id, arn in function_arns.items():
        text = text.replace("${Function:" + function_id + "}", arn)
    for token, value in (("AWS::Partition", "aws"), ("AWS::Region", region), ("AWS::AccountId", account)):
        text = text.replace("${" + token + "}", value)
    if "${" in text:
        raise ValueError(f"unresolved placeholder in {name}.asl.json")
    return text


def _retriers(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield from node.get("Retry", [])
        for value in node.values():
            yield from _retriers(value)
    elif isinstance(node, list):
        for value in node:
            yield from _retriers(value)


class LambdaContext:
    """The parts of Lambda's context object the handlers use; the deadline is the function's timeout."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.function_name = spec.id
        self.memory_limit_in_mb = spec.memoryMB
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{spec.id}"
        self.aws_request_id = uuid.uuid4().hex
        self._deadline = time.monotonic() + spec.timeoutSeconds

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def resolve_handler(path: str) -> Handler:
    module, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module), attr)


@dataclass
class Execution:
    status: str  # SUCCEEDED, FAILED, TIMED_OUT, ABORTED
    output: Any
    error: str | None
    cause: str | None
    output_text: str | None = None


class LocalStepFunctions:
    """The packaged state machines created in an active moto emulation; `run()` executes one."""

    def __init__(self, handlers: dict[str, Handler], specs: dict[str, FunctionSpec], *,
                 observer: Observer | None = None, retry_interval_seconds: int | None = None) -> None:
        import boto3

        self.handlers = handlers
        self.specs = specs
        self.observer = observer
        self._lock = threading.Lock()
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        role = boto3.client("iam", region_name=REGION).create_role(
            RoleName="s3db-backup-local",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        lam = boto3.client("lambda", region_name=REGION)
        arns = {
            spec.id: lam.create_function(FunctionName=spec.id, Runtime="python3.12", Role=role,
                                         Handler=spec.handler, Code={"ZipFile": _placeholder_zip()},
                                         Timeout=spec.timeoutSeconds, MemorySize=spec.memoryMB)["FunctionArn"]
            for spec in specs.values()
        }
        self.state_machines = {
            name: self.sfn.create_state_machine(
                name=f"S3dbBackup-{name}",
                definition=load_definition(name, arns, retry_interval_seconds=retry_interval_seconds),
                roleArn=role,
            )["stateMachineArn"]
            for name in ("backup", "restore")
        }

    def invoke(self, function_name: str, body: Any, response_headers: dict[str, Any]) -> bytes:
        function_id = function_name.split(":")[-1]
        event = json.loads(body) if body else {}
        try:
            result = self.handlers[function_id](event, LambdaContext(self.specs[function_id]))
        except Exception as err:  # what the Lambda runtime reports for an unhandled error
            self._observe(function_id, event, None, err)
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(err).__name__, "errorMessage": str(err)}).encode()
        self._observe(function_id, event, result, None)
        return json.dumps(result).encode()

    def _observe(self, function_id: str, event: dict[str, Any], result: Any, err: BaseException | None) -> None:
        if self.observer is not None:
            with self._lock:
                self.observer(function_id, event, result, err)

    def run(self, name: str, execution_input: dict[str, Any], *, timeout: float | None = None) -> Execution:
        """Start an execution and wait for its final status (moto runs it in a background thread)."""
        arn = self.sfn.start_execution(
            stateMachineArn=self.state_machines[name],
            name=f"{name}-{uuid.uuid4().hex[:12]}",  # moto refuses a repeated or absent name
            input=json.dumps(execution_input),
        )["executionArn"]
        give_up = None if timeout is None else time.monotonic() + timeout
        while True:
            described = self.sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                break
            if give_up is not None and time.monotonic() > give_up:
                self.sfn.stop_execution(executionArn=arn, error="Timeout", cause=f"still running after {timeout} s")
                raise TimeoutError(f"execution {arn} still running after {timeout} s")
            time.sleep(0.05)
        text = described.get("output")
        return Execution(described["status"], json.loads(text) if text else None, described.get("error"),
                         described.get("cause"), text)


@contextmanager
def local_step_functions(
    handlers: dict[str, Handler] | None = None,
    *,
    observer: Observer | None = None,
    retry_interval_seconds: int | None = None,
) -> Iterator[LocalStepFunctions]:
    """moto's emulation with executing state machines and in-process Lambdas. Every execution must finish
    inside the block: the emulation's state is gone when it ends. `handlers` defaults to the real ones."""
    from moto import mock_aws
    from moto.awslambda_simple.models import LambdaSimpleBackend

    specs = {spec.id: spec for spec in function_specs()}
    chosen = handlers if handlers is not None else {s.id: resolve_handler(s.handler) for s in specs.values()}
    holder: dict[str, LocalStepFunctions] = {}

    def invoke(_backend: Any, function_name: str, _qualifier: Any, body: Any, _headers: Any,
               response_headers: Any) -> bytes:
        return holder["sfn"].invoke(function_name, body, response_headers)

    quiet = logging.getLogger("moto.stepfunctions.parser")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # it logs every task failure at ERROR, expected ones included
    # S3, KMS and Secrets Manager pass through: the handlers' clients (made from the user's session, see
    # s3db_backup.aws) talk to the endpoints the user configured; only Step Functions and Lambda are emulated.
    config: Any = {
        "stepfunctions": {"execute_state_machine": True},
        "lambda": {"use_docker": False},
        "core": {"passthrough": {"services": ["s3", "kms", "secretsmanager"], "urls": []}},
    }
    try:
        with mock_aws(config=config), mock.patch.object(LambdaSimpleBackend, "invoke", invoke):
            holder["sfn"] = LocalStepFunctions(chosen, specs, observer=observer,
                                               retry_interval_seconds=retry_interval_seconds)
            yield holder["sfn"]
    finally:
        quiet.setLevel(level)


def _placeholder_zip() -> bytes:
    """moto needs some code for each function; invocations never run it (they are dispatched above)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    raise RuntimeError('not dispatched')\n")
    return buffer.getvalue()
