"""The local bundler builds the asset with the right pip command (pip itself is faked: tests never run it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.bundling import LocalPythonBundling, pip_install_command


def make_project(root: Path, *, requirements: bool = True) -> Path:
    for package in ("s3db_backup", "functions"):
        (root / package / "__pycache__").mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
        (root / package / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"")
    (root / "s3db_backup" / "workflows").mkdir()
    (root / "s3db_backup" / "workflows" / "backup.asl.json").write_text("{}")
    (root / "tests").mkdir()
    (root / "tests" / "test_x.py").write_text("")
    if requirements:
        (root / "requirements.txt").write_text("aws-lambda-powertools>=3\n")
    return root


def test_pip_command_targets_the_functions_architecture(tmp_path):
    command = pip_install_command(tmp_path / "requirements.txt", tmp_path / "out", python="python3")
    assert command[:4] == ["python3", "-m", "pip", "install"]
    text = " ".join(command)
    assert f"--target {tmp_path / 'out'}" in text
    assert "--only-binary=:all:" in command
    assert "--implementation cp --python-version 3.12" in text
    assert "--platform manylinux2014_x86_64" in text and "aarch64" not in text
    assert command[-2:] == ["-r", str(tmp_path / "requirements.txt")]


def test_try_bundle_copies_code_and_installs_requirements(tmp_path):
    project = make_project(tmp_path / "project")
    out = tmp_path / "out"
    out.mkdir()
    commands = []
    bundler = LocalPythonBundling(project_root=project, run=lambda cmd, **kw: commands.append((cmd, kw)))

    assert bundler.try_bundle(str(out)) is True

    assert sorted(p.name for p in out.iterdir()) == ["functions", "s3db_backup"]
    assert (out / "s3db_backup" / "workflows" / "backup.asl.json").exists()
    assert not list(out.rglob("__pycache__"))
    ((command, options),) = commands
    assert command == pip_install_command(project / "requirements.txt", out)
    assert options["check"] is True


def test_try_bundle_refuses_without_requirements(tmp_path):
    project = make_project(tmp_path / "project", requirements=False)
    bundler = LocalPythonBundling(project_root=project, run=lambda *a, **k: pytest.fail("pip ran"))
    with pytest.raises(FileNotFoundError, match=r"requirements\.txt"):
        bundler.try_bundle(str(tmp_path))
