"""Synth assertions on the app's stack (one synth per session, bundling skipped) and on one variant."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import load_config
from infra.functions import FUNCTIONS

S3_WRITE_ACTIONS = ("s3:PutObject", "s3:DeleteObject*", "s3:Abort*")


def resources(template: dict, type_: str) -> dict[str, dict[str, Any]]:
    return {key: value for key, value in template["Resources"].items() if value["Type"] == type_}


def join_to_text(value: Any, refs: dict[str, str]) -> str:
    """An Fn::Join of strings and Refs as text, each Ref replaced by refs[<logical id>]."""
    if isinstance(value, str):
        return value
    separator, parts = value["Fn::Join"]
    return separator.join(part if isinstance(part, str) else refs[part["Ref"]] for part in parts)


@pytest.fixture(scope="module")
def config():
    return load_config()


@pytest.fixture(scope="module")
def store_id(app_stack) -> str:
    return app_stack.get_logical_id(app_stack.backup.store_bucket.node.default_child)


def test_two_standard_state_machines_with_logs_and_tracing(app_template, config):
    machines = resources(app_template, "AWS::StepFunctions::StateMachine")
    assert sorted(m["Properties"]["StateMachineName"] for m in machines.values()) == [
        f"{config.stack_name}-backup",
        f"{config.stack_name}-restore",
    ]
    for machine in machines.values():
        props = machine["Properties"]
        assert props["StateMachineType"] == "STANDARD"
        assert props["TracingConfiguration"] == {"Enabled": True}
        assert props["LoggingConfiguration"]["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]


def test_eleven_functions_on_x86_64_python312(app_template):
    functions = resources(app_template, "AWS::Lambda::Function")
    assert len(functions) == 11
    by_handler = {f["Properties"]["Handler"]: f["Properties"] for f in functions.values()}
    assert sorted(by_handler) == sorted(spec.handler for spec in FUNCTIONS)
    for spec in FUNCTIONS:
        props = by_handler[spec.handler]
        assert props["Architectures"] == ["x86_64"]  # obstore wheels (infra/bundling.py)
        assert props["Runtime"] == "python3.12"
        assert (props["MemorySize"], props["Timeout"]) == (spec.memory_mb, spec.timeout_seconds)
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "s3db-backup"
    chunks = {spec.id for spec in FUNCTIONS if spec.timeout_seconds == 900}
    assert chunks == {"SplitUnit", "ExportChunk", "VerifyChunk", "ImportChunk"}
    # one shared code asset
    assert len({json.dumps(f["Properties"]["Code"], sort_keys=True) for f in functions.values()}) == 1


def test_schedule_starts_a_full_backup(app_template, config, store_id):
    (schedule,) = resources(app_template, "AWS::Scheduler::Schedule").values()
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == config.schedule
    assert props["ScheduleExpressionTimezone"] == config.timezone
    assert props["State"] == "ENABLED"
    target = props["Target"]
    backup_id = next(
        key
        for key, m in resources(app_template, "AWS::StepFunctions::StateMachine").items()
        if m["Properties"]["StateMachineName"].endswith("-backup")
    )
    assert target["Arn"] == {"Ref": backup_id}
    schedule_input = json.loads(join_to_text(target["Input"], {store_id: "STORE-BUCKET"}))
    assert schedule_input == {
        "source": f"s3://{config.source_bucket}/{config.source_prefix}",
        "store": f"s3://STORE-BUCKET/{config.store_prefix}",
        "type": "full",
        "options": {"retentionCount": config.retention_count, **config.backup_options},
    }


def test_created_store_bucket_is_locked_down(app_template, store_id):
    bucket = app_template["Resources"][store_id]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    rules = props["LifecycleConfiguration"]["Rules"]
    assert {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}.items() <= next(
        rule for rule in rules if "AbortIncompleteMultipartUpload" in rule
    ).items()
    (policy,) = [
        p
        for p in resources(app_template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": store_id}
    ]
    (deny_http,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny_http["Effect"] == "Deny"
    assert deny_http["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def _s3_statements(template: dict) -> list[tuple[str, dict[str, Any]]]:
    """(role logical id, statement) of every IAM statement granting s3: actions."""
    found = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(action.startswith("s3:") for action in actions):
                for role in policy["Properties"]["Roles"]:
                    found.append((role["Ref"], {**statement, "Action": actions}))
    return found


def _resource_texts(statement: dict[str, Any], store_id: str) -> list[str]:
    resources_ = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    texts = []
    for resource in resources_:
        if isinstance(resource, dict) and "Fn::GetAtt" in resource:
            texts.append(f"<{resource['Fn::GetAtt'][0]}>")
        elif isinstance(resource, dict):
            texts.append(json.dumps(resource))  # Fn::Join with the partition / store ARN
        else:
            texts.append(resource)
    return texts


def test_s3_grants_name_the_buckets_never_star(app_template, app_stack, config, store_id):
    statements = _s3_statements(app_template)
    assert statements
    for _role, statement in statements:
        for text in _resource_texts(statement, store_id):
            assert text != "*"
            assert store_id in text or f":s3:::{config.source_bucket}" in text, text


def test_only_restore_writers_may_write_the_source(app_template, app_stack, config):
    roles = {
        app_stack.get_logical_id(function.role.node.default_child): function_id
        for function_id, function in app_stack.backup.functions.items()
    }
    writers = set()
    for role, statement in _s3_statements(app_template):
        on_source = any(f":s3:::{config.source_bucket}" in t for t in _resource_texts(statement, ""))
        if on_source and any(a.startswith(S3_WRITE_ACTIONS) for a in statement["Action"]):
            writers.add(roles[role])
    assert writers == {"ImportChunk", "FinalizeRestore"}  # the restore target defaults to the source bucket


def _tasks(definition: dict[str, Any]):
    for name, state in definition["States"].items():
        if state["Type"] == "Task":
            yield name, state
        for branch in state.get("Branches", []):
            yield from _tasks(branch)
        if "ItemProcessor" in state:
            yield from _tasks(state["ItemProcessor"])


def test_retries_cover_lambda_and_timeouts_but_never_handler_errors(app_stack):
    from infra.export_workflows import render

    for path, text in render(app_stack).items():
        if not path.name.endswith(".asl.json"):
            continue
        for name, task in _tasks(json.loads(text)):
            retried = [error for retrier in task["Retry"] for error in retrier["ErrorEquals"]]
            assert "Lambda.ServiceException" in retried and "States.Timeout" in retried, name
            assert not {"BackupError", "States.ALL", "States.TaskFailed"} & set(retried), name
            assert task["Resource"].startswith("${Function:"), name


def test_packaged_workflows_are_current(app_stack):
    from infra.export_workflows import stale_files

    assert stale_files(app_stack) == [], "run `python -m infra.export_workflows`"


def test_existing_store_and_no_schedule():
    """A variant: store and restore target given by name, unscheduled (inline code: no asset)."""
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk.assertions import Template

    from infra.construct import S3dbBackup

    app = cdk.App()
    stack = cdk.Stack(app, "Variant")
    S3dbBackup(
        stack,
        "Backup",
        source_bucket_name="src-bucket",
        store_bucket_name="existing-store",
        restore_target_bucket_name="restore-here",
        schedule=None,
        map_concurrency=3,
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
    )
    template = Template.from_stack(stack).to_json()
    assert resources(template, "AWS::S3::Bucket") == {}
    assert resources(template, "AWS::Scheduler::Schedule") == {}
    texts = [t for _role, s in _s3_statements(template) for t in _resource_texts(s, "")]
    assert any(":s3:::existing-store" in t for t in texts)
    assert any(":s3:::restore-here" in t for t in texts)
    assert all(t != "*" for t in texts)
    definitions = [
        m["Properties"]["DefinitionString"] for m in resources(template, "AWS::StepFunctions::StateMachine").values()
    ]
    assert all('\\"MaxConcurrency\\":3' in json.dumps(d) for d in definitions)


def test_encryption_grants_name_the_keys_and_secrets_only():
    """KMS use is limited to the configured keys and our encryption context; secrets to the configured ARNs."""
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk.assertions import Template

    from infra.construct import KEY_CREATORS, KEY_USERS, S3dbBackup

    key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    secret = "arn:aws:secretsmanager:us-east-1:111122223333:secret:backup-passphrase-AbCdEf"
    app = cdk.App()
    stack = cdk.Stack(app, "Encrypted")
    S3dbBackup(stack, "Backup", source_bucket_name="src-bucket", schedule=None, kms_key_arns=[key],
               passphrase_secret_arns=[secret],
               code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"))
    template = Template.from_stack(stack).to_json()
    statements = [st for policy in resources(template, "AWS::IAM::Policy").values()
                  for st in policy["Properties"]["PolicyDocument"]["Statement"]]
    kms = [st for st in statements if str(st["Action"]).startswith("kms:")]
    assert {st["Action"] for st in kms} == {"kms:GenerateDataKey", "kms:Decrypt"}
    assert all(st["Resource"] == key for st in kms)
    assert all(st["Condition"] == {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["s3db-backup:backupId"]}}
               for st in kms)
    assert len([st for st in kms if st["Action"] == "kms:Decrypt"]) == len(KEY_USERS)
    secrets = [st for st in statements if st["Action"] == "secretsmanager:GetSecretValue"]
    assert len(secrets) == len(KEY_CREATORS + KEY_USERS) and all(st["Resource"] == secret for st in secrets)
