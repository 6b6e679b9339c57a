#!/usr/bin/env python3
"""CDK app: `cdk synth` / `cdk deploy`, or `python app.py` to synthesize into cdk.out/ without the CLI.

Settings come from the `context` of cdk.json (see infra/config.py); the stack is infra/stack.py.
"""

from infra.stack import build_app

if __name__ == "__main__":
    build_app()[0].synth()
