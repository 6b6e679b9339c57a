"""Build the real Lambda bundle (pip --platform, no Docker) and check what is in it: our packages, the
runtime dependencies, and native modules built for the functions' architecture only."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.bundling import LAMBDA_ARCHITECTURE, LocalPythonBundling

ELF_MACHINE = {"x86_64": 0x3E, "arm64": 0xB7}


def elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", path
    return int.from_bytes(header[18:20], "little")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    assert LocalPythonBundling().try_bundle(str(out))
    return out


def test_bundle_holds_the_code_and_its_dependencies(bundle: Path) -> None:
    for name in ("s3db_backup/workflows/backup.asl.json", "functions/export_chunk.py", "obstore", "cryptography",
                 "aws_lambda_powertools", "boto3"):
        assert (bundle / name).exists(), name
    assert not (bundle / "moto").exists()  # the emulation is for local runs only


def test_every_native_module_matches_the_function_architecture(bundle: Path) -> None:
    modules = [p for p in bundle.rglob("*.so*") if p.is_file()]
    assert modules, "expected native modules (obstore, cryptography, zstandard, brotli)"
    wrong = [str(p.relative_to(bundle)) for p in modules if elf_machine(p) != ELF_MACHINE[LAMBDA_ARCHITECTURE.name]]
    assert wrong == []
