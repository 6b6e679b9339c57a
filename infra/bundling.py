"""The shared Lambda code asset, built on the host without Docker.

The asset holds `s3db_backup/` and `functions/` plus the runtime dependencies of requirements.txt, installed
by pip as prebuilt wheels for the functions' platform (manylinux x86_64, CPython 3.12) whatever the host is.
Synth in tests skips bundling with the context `aws:cdk:bundling-stacks` = [] (see `SKIP_BUNDLING`), so
tests never run pip.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, IgnoreMode, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra.config import PROJECT_ROOT

SKIP_BUNDLING: dict[str, Any] = {"aws:cdk:bundling-stacks": []}
"""App context that makes synth skip every bundling step (the asset then points at the unbundled source)."""

CODE_PACKAGES: tuple[str, ...] = ("s3db_backup", "functions")
REQUIREMENTS = "requirements.txt"
PYTHON_VERSION = "3.12"

LAMBDA_ARCHITECTURE = lambda_.Architecture.X86_64
"""x86_64, not arm64: obstore (4x less client CPU per GET than boto3) has recent wheels only for x86_64 on
the registry we build from (0.12.1; aarch64 stops at 0.3.0). See docs/performance.md for the cost model."""

PLATFORMS: dict[str, tuple[str, ...]] = {
    "x86_64": ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64"),
    "arm64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64"),
}
"""Wheel platform tags pip may pick, by Lambda architecture name."""
DEFAULT_PLATFORMS = PLATFORMS[LAMBDA_ARCHITECTURE.name]

# The asset's source is the project root, narrowed to what goes into the bundle: the asset hash (and so the
# decision to rebuild) follows only these files, and synth never walks .venv/ or cdk.out/.
_ASSET_EXCLUDES: tuple[str, ...] = (
    "*",
    *(f"!{package}" for package in CODE_PACKAGES),
    *(f"!{package}/**" for package in CODE_PACKAGES),
    f"!{REQUIREMENTS}",
    "**/__pycache__",
    "**/*.pyc",
)
_COPY_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")


def pip_install_command(
    requirements: Path,
    target: Path,
    *,
    python_version: str = PYTHON_VERSION,
    platforms: Sequence[str] = DEFAULT_PLATFORMS,
    python: str = sys.executable,
) -> list[str]:
    """The pip command that installs `requirements` into `target` as wheels for the Lambda platform."""
    command = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
    command += ["--target", str(target), "--only-binary=:all:", "--implementation", "cp"]
    command += ["--python-version", python_version]
    for platform in platforms:
        command += ["--platform", platform]
    return [*command, "-r", str(requirements)]


@jsii.implements(ILocalBundling)
class LocalPythonBundling:
    """Builds the code asset with the host's pip; CDK calls `try_bundle` before it would try Docker."""

    def __init__(
        self,
        *,
        project_root: Path = PROJECT_ROOT,
        packages: Sequence[str] = CODE_PACKAGES,
        requirements: str = REQUIREMENTS,
        python_version: str = PYTHON_VERSION,
        platforms: Sequence[str] = DEFAULT_PLATFORMS,
        run: Callable[..., Any] = subprocess.run,
    ) -> None:
        """
        Args:
            project_root: folder holding the packages and requirements; default the repository root.
            packages: folders copied into the bundle; default `s3db_backup` and `functions`.
            requirements: requirements file relative to project_root; default requirements.txt.
            python_version: the Lambda runtime's Python; default 3.12.
            platforms: wheel platform tags pip may pick; default those of LAMBDA_ARCHITECTURE.
            run: runs the pip command (subprocess.run signature); replaceable in tests.
        """
        self.project_root = Path(project_root)
        self.packages = tuple(packages)
        self.requirements = self.project_root / requirements
        self.python_version = python_version
        self.platforms = tuple(platforms)
        self._run = run

    def try_bundle(self, output_dir: str, *_args: Any, **_options: Any) -> bool:
        """Copy the packages and install the requirements into `output_dir`.

        Raises instead of returning False on failure: the fallback would be Docker, which a build without
        Docker cannot use, and its error would hide pip's.
        """
        out = Path(output_dir)
        if not self.requirements.exists():
            raise FileNotFoundError(f"bundling needs {self.requirements} (the Lambda runtime dependencies)")
        for package in self.packages:
            shutil.copytree(self.project_root / package, out / package, ignore=_COPY_IGNORE, dirs_exist_ok=True)
        command = pip_install_command(
            self.requirements, out, python_version=self.python_version, platforms=self.platforms
        )
        self._run(command, check=True, cwd=self.project_root)
        return True


def project_code(
    *,
    project_root: Path = PROJECT_ROOT,
    architecture: lambda_.Architecture = LAMBDA_ARCHITECTURE,
    local: ILocalBundling | None = None,
) -> lambda_.Code:
    """The one code asset every function uses.

    Args:
        project_root: default the repository root.
        architecture: the functions' architecture; picks the wheels and the Docker fallback's platform.
        local: the local bundler; default `LocalPythonBundling(project_root=project_root)`.
    """
    docker_command = [
        "bash",
        "-c",
        " && ".join(
            [f"cp -r {package} /asset-output/" for package in CODE_PACKAGES]
            + [f"pip install --no-compile -r {REQUIREMENTS} -t /asset-output"]
        ),
    ]
    return lambda_.Code.from_asset(
        str(project_root),
        exclude=list(_ASSET_EXCLUDES),
        ignore_mode=IgnoreMode.GLOB,
        bundling=BundlingOptions(
            image=lambda_.Runtime.PYTHON_3_12.bundling_image,
            platform=architecture.docker_platform,
            command=docker_command,
            local=local or LocalPythonBundling(project_root=project_root,
                                               platforms=PLATFORMS[architecture.name]),
        ),
    )
