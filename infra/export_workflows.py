"""Package the synthesized state machines for the local runner: `python -m infra.export_workflows [--check]`.

Synthesizes the stack in-process (no CDK CLI, bundling skipped) and writes into s3db_backup/workflows/:
- backup.asl.json, restore.asl.json: each state machine's DefinitionString, with its CloudFormation tokens
  replaced by placeholders: `${Function:<construct id>}` (function ARN), `${AWS::Partition}`,
  `${AWS::Region}`, `${AWS::AccountId}`;
- functions.json: the function table (id, handler, timeoutSeconds, memoryMB).
`--check` writes nothing and exits 1 if the packaged files differ from what synth produces now.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # before jsii loads

import aws_cdk as cdk
from aws_cdk.assertions import Template

from infra.bundling import SKIP_BUNDLING
from infra.config import PROJECT_ROOT
from infra.stack import S3dbBackupStack, build_app

WORKFLOWS_DIR = PROJECT_ROOT / "s3db_backup" / "workflows"
PSEUDO_PARAMETERS = ("AWS::Partition", "AWS::Region", "AWS::AccountId")


class UnknownTokenError(ValueError):
    """A definition references a resource the placeholders cannot express."""


def synth_stack() -> S3dbBackupStack:
    """The app's stack, built from cdk.json's context with bundling skipped (never runs pip)."""
    app = cdk.App(context=dict(SKIP_BUNDLING))
    return build_app(app)[1]


def function_logical_ids(stack: S3dbBackupStack) -> dict[str, str]:
    """Logical id of each function's AWS::Lambda::Function -> its construct id."""
    return {
        stack.get_logical_id(function.node.default_child): function_id
        for function_id, function in stack.backup.functions.items()
    }


def definition_to_asl(definition: Any, functions: Mapping[str, str]) -> dict[str, Any]:
    """A DefinitionString (a string or an Fn::Join of strings and tokens) as ASL with placeholders."""
    if isinstance(definition, str):
        return json.loads(definition)
    separator, parts = definition["Fn::Join"]
    return json.loads(separator.join(_placeholder(part, functions) for part in parts))


def _placeholder(part: Any, functions: Mapping[str, str]) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, dict) and part.get("Ref") in PSEUDO_PARAMETERS:
        return "${" + part["Ref"] + "}"
    if isinstance(part, dict) and "Fn::GetAtt" in part:
        logical_id, attribute = part["Fn::GetAtt"]
        if attribute == "Arn" and logical_id in functions:
            return "${Function:" + functions[logical_id] + "}"
    raise UnknownTokenError(f"no placeholder for {part!r} in a state machine definition")


def render(stack: S3dbBackupStack | None = None) -> dict[Path, str]:
    """The packaged files' content as synth produces it now: path -> text."""
    stack = stack or synth_stack()
    template = Template.from_stack(stack).to_json()
    functions = function_logical_ids(stack)
    files: dict[Path, str] = {}
    for name, workflow in (("backup", stack.backup.backup), ("restore", stack.backup.restore)):
        logical_id = stack.get_logical_id(workflow.state_machine.node.default_child)
        definition = template["Resources"][logical_id]["Properties"]["DefinitionString"]
        files[WORKFLOWS_DIR / f"{name}.asl.json"] = _dump(definition_to_asl(definition, functions))
    specs = stack.backup.functions.specs.values()
    files[WORKFLOWS_DIR / "functions.json"] = _dump([spec.as_json() for spec in specs])
    return files


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2) + "\n"


def stale_files(stack: S3dbBackupStack | None = None) -> list[Path]:
    """Packaged files that are missing or differ from what synth produces now ([] = up to date)."""
    return [path for path, text in render(stack).items() if not path.exists() or path.read_text() != text]


def write(stack: S3dbBackupStack | None = None) -> list[Path]:
    """Write the packaged files; returns those that changed."""
    changed = []
    for path, text in render(stack).items():
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.export_workflows", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the packaged files are stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"stale: {path.relative_to(PROJECT_ROOT)} (run `python -m infra.export_workflows`)")
        return 1 if stale else 0
    for path in write():
        print(f"wrote {path.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
