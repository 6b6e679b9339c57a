"""Shared fixtures of the infra tests: one synth of the app's stack for the whole session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session")
def app_stack():
    """The stack `python app.py` builds (cdk.json's context), synthesized with bundling skipped."""
    from infra.export_workflows import synth_stack

    return synth_stack()


@pytest.fixture(scope="session")
def app_template(app_stack) -> dict:
    from aws_cdk.assertions import Template

    return Template.from_stack(app_stack).to_json()
