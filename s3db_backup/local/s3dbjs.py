"""Drive the real s3db.js 21.6.2 (the Node package in ``interop/``) from Python.

Why: the backup engine is Python, but the only authority on whether a database is readable after a
restore is s3db.js itself. The demo and the interop tests seed databases with it and compare what it
reads back (``snapshot``) before and after a backup/restore round trip.

The Node side lives in ``interop/`` at the repository root: ``seed.mjs`` and ``snapshot.mjs``
(see ``interop/README.md``). Node 20+ and npm must be on ``PATH``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

#: ``interop/`` at the repository root (this file is ``s3db_backup/local/s3dbjs.py``).
INTEROP_DIR = Path(__file__).resolve().parents[2] / "interop"

#: The npm flags the package-lock was produced with; every install uses the same omissions.
NPM_FLAGS = ("--no-audit", "--no-fund", "--omit=optional", "--omit=peer")

#: Written into node_modules after a successful install: the hash of package.json + package-lock.json
#: it was installed from. A different hash (or none) means node_modules is stale.
_STAMP_NAME = ".s3db-backup-install.sha256"

#: Node 20 makes the AWS SDK v3 print a "NodeVersionSupportWarning" on stderr; this variable (read by
#: @aws-sdk/core's emitWarningIfUnsupportedVersion) silences it so stderr holds only real problems.
_NODE_ENV = {"AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED": "true"}


class S3dbJsError(RuntimeError):
    """Node/npm is missing, ``npm`` failed, or a script exited non-zero (message carries its stderr)."""


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise S3dbJsError(
            f"`{name}` not found on PATH: the s3db.js interop harness needs Node.js 20+ and npm "
            "(e.g. `apt-get install nodejs npm`)"
        )
    return path


def _install_hash(interop_dir: Path) -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        path = interop_dir / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    return digest.hexdigest()


@contextlib.contextmanager
def _install_lock(interop_dir: Path) -> Iterator[None]:
    """Serialize installs across processes (pytest-xdist workers may all call ensure_installed)."""
    key = hashlib.sha256(str(interop_dir).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"s3db-backup-npm-{key}.lock"
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_installed(interop_dir: Path = INTEROP_DIR, *, timeout: float = 600.0) -> Path:
    """Make ``interop/node_modules`` match ``package-lock.json``; return the interop directory.

    Installs only when node_modules is missing or was installed from a different package.json /
    package-lock.json, so calling this before every test session costs one hash of two small files.

    Why ``npm install`` and not ``npm ci``: s3db.js 21.6.2 lists optional dependencies that are not
    published (``raffel@1.0.26``, ``reddb-cli``). ``npm install`` skips them and leaves them out of the
    lock file; ``npm ci`` then refuses that lock file as "out of sync". With an existing lock file
    ``npm install`` installs exactly what it pins; should an npm version rewrite it anyway, the
    committed bytes are put back so the checkout stays clean.
    """
    interop_dir = Path(interop_dir)
    _tool("node")
    npm = _tool("npm")
    if not (interop_dir / "package.json").exists():
        raise S3dbJsError(f"{interop_dir}/package.json not found")
    stamp = interop_dir / "node_modules" / _STAMP_NAME
    lock_file = interop_dir / "package-lock.json"
    with _install_lock(interop_dir):
        wanted = _install_hash(interop_dir)
        if stamp.exists() and stamp.read_text().strip() == wanted:
            return interop_dir
        committed_lock = lock_file.read_bytes() if lock_file.exists() else None
        command = [npm, "install", *NPM_FLAGS]
        try:
            result = subprocess.run(
                command, cwd=interop_dir, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as err:
            raise S3dbJsError(f"`npm install` in {interop_dir} timed out after {timeout:.0f} s") from err
        if committed_lock is not None and lock_file.read_bytes() != committed_lock:
            lock_file.write_bytes(committed_lock)
        if result.returncode != 0:
            raise S3dbJsError(
                f"`npm install` failed in {interop_dir} (exit {result.returncode}):\n"
                + _tail(result.stderr or result.stdout)
            )
        stamp.write_text(_install_hash(interop_dir) + "\n")
    return interop_dir


def connection_string(
    endpoint_url: str,
    bucket: str,
    prefix: str,
    key: str,
    secret: str,
    *,
    region: str = "us-east-1",
) -> str:
    """The s3db.js connection string for ``bucket``/``prefix`` on a path-style endpoint.

    ``http://KEY:SECRET@127.0.0.1:PORT/BUCKET/PREFIX?forcePathStyle=true&region=us-east-1``. s3db.js
    percent-decodes the credentials and the bucket but takes the prefix path verbatim, so a prefix
    with characters that need escaping is refused rather than silently changed.
    """
    parts = urlsplit(endpoint_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"endpoint_url must be http(s)://host[:port], got {endpoint_url!r}")
    clean_prefix = prefix.strip("/")
    if quote(clean_prefix, safe="/-_.~=") != clean_prefix:
        raise ValueError(f"prefix {prefix!r} needs URL escaping, which s3db.js does not undo")
    if not bucket or quote(bucket, safe="-_.") != bucket:
        raise ValueError(f"invalid bucket name {bucket!r}")
    host = parts.netloc.rsplit("@", 1)[-1]
    path = f"/{bucket}/{clean_prefix}" if clean_prefix else f"/{bucket}"
    userinfo = f"{quote(key, safe='')}:{quote(secret, safe='')}"
    return f"{parts.scheme}://{userinfo}@{host}{path}?forcePathStyle=true&region={quote(region, safe='')}"


def _tail(text: str, limit: int = 6000) -> str:
    text = text.strip()
    return text if len(text) <= limit else "...\n" + text[-limit:]


def run_script(
    script: str,
    args: Sequence[str],
    *,
    interop_dir: Path = INTEROP_DIR,
    timeout: float = 600.0,
) -> str:
    """Run ``node <script> <args>`` in ``interop/`` and return its stdout.

    Raises ``S3dbJsError`` with the script's stderr when it exits non-zero or times out.
    """
    node = _tool("node")
    command = [node, script, *args]
    try:
        result = subprocess.run(
            command,
            cwd=interop_dir,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **_NODE_ENV},
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        stderr = err.stderr.decode(errors="replace") if isinstance(err.stderr, bytes) else (err.stderr or "")
        raise S3dbJsError(f"node {script} timed out after {timeout:.0f} s:\n{_tail(stderr)}") from err
    if result.returncode != 0:
        raise S3dbJsError(f"node {script} failed (exit {result.returncode}):\n{_tail(result.stderr)}")
    return result.stdout


def _last_json_line(stdout: str, script: str) -> Any:
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        raise S3dbJsError(f"node {script} printed nothing on stdout")
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError as err:
        raise S3dbJsError(f"node {script} printed no JSON: {lines[-1][:500]!r}") from err


def seed(
    connection: str,
    profile: str = "demo",
    records: int = 100,
    seed: int = 1,
    *,
    timeout: float = 600.0,
) -> dict[str, Any]:
    """Write a sample database with s3db.js; return its summary ``{"resources": {name: count}}``.

    The bucket must exist. Content depends only on ``profile``, ``records`` and ``seed`` (plus the
    wall-clock ``createdAt``/``updatedAt`` that s3db.js adds to resources with timestamps).
    """
    ensure_installed()
    stdout = run_script(
        "seed.mjs",
        ["--connection", connection, "--profile", profile, "--records", str(records), "--seed", str(seed)],
        timeout=timeout,
    )
    summary = _last_json_line(stdout, "seed.mjs")
    if not isinstance(summary, dict) or not isinstance(summary.get("resources"), dict):
        raise S3dbJsError(f"seed.mjs printed an unexpected summary: {summary!r}")
    return summary


def snapshot(connection: str, *, timeout: float = 600.0) -> dict[str, Any]:
    """Everything s3db.js reads from the database at ``connection``, as canonical JSON (see snapshot.mjs).

    Two databases that s3db.js reads identically give equal snapshots.
    """
    ensure_installed()
    result = _last_json_line(run_script("snapshot.mjs", ["--connection", connection], timeout=timeout), "snapshot.mjs")
    if not isinstance(result, dict):
        raise S3dbJsError("snapshot.mjs printed something other than a JSON object")
    return result
