"""The packaged state machines with in-test fake Lambda handlers, on the production local runner
(s3db_backup/local/stepfunctions.py): moto executes the ASL for real (Map, Choice loops, Retry, Catch,
intrinsics) and each invocation calls `handlers[<function id>](event)`. A handler that raises fails the
task with Error = the exception's class name, as a Python Lambda does on AWS."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from s3db_backup.local.stepfunctions import LocalStepFunctions
from s3db_backup.local.stepfunctions import local_step_functions as _local_step_functions

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
    """Every invocation in the order it finished (the runner serializes its observer calls)."""

    calls: list[Call] = field(default_factory=list)

    def __call__(self, function: str, event: dict[str, Any], _result: Any, _error: BaseException | None) -> None:
        self.calls.append(Call(len(self.calls), function, event))

    def of(self, function: str) -> list[Call]:
        return [call for call in self.calls if call.function == function]


@contextmanager
def local_step_functions(
    handlers: dict[str, Handler], *, retry_interval_seconds: int | None = 1
) -> Iterator[tuple[LocalStepFunctions, Recorder]]:
    """retry_interval_seconds: short retries for tests (None = the packaged intervals)."""
    recorder = Recorder()
    adapted = {fid: (lambda event, _context, h=h: h(event)) for fid, h in handlers.items()}
    with _local_step_functions(adapted, observer=recorder, retry_interval_seconds=retry_interval_seconds) as sfn:
        yield sfn, recorder
