"""A throwaway S3 endpoint: ``moto_server`` run as a child process on a free loopback port.

Why a child process and not moto's in-process ``ThreadedMotoServer``: the S3 clients that matter to us
(s3db.js in Node, and our own code in worker threads or subprocesses) must reach the server over real
HTTP, and a separate process keeps moto's global state and its GIL-bound request handling out of the
process that runs the tests or the demo. Stopping the process also frees everything it held.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

#: Fake credentials: moto accepts any, s3db.js and boto3 insist on having some.
DEFAULT_ACCESS_KEY = "testing"
DEFAULT_SECRET_KEY = "testing"
DEFAULT_REGION = "us-east-1"


class MotoServerError(RuntimeError):
    """moto_server could not be found, did not start, or died; the message carries its log tail."""


def find_moto_server() -> Path:
    """Locate the ``moto_server`` script installed beside the running interpreter.

    Why next to ``sys.executable``: the server must come from the same virtualenv as the moto we pin
    (``moto==5.2.5``), not whatever ``moto_server`` happens to be first on ``PATH``.
    """
    bindir = Path(sys.executable).parent
    for name in ("moto_server", "moto_server.exe"):
        candidate = bindir / name
        if candidate.exists():
            return candidate
    raise MotoServerError(f"moto_server not found next to {sys.executable}; install moto[server] into this environment")


def _free_port(host: str) -> int:
    """Ask the OS for a port that is free right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class MotoServer:
    """Run ``moto_server`` on ``127.0.0.1:<free port>`` for the lifetime of a ``with`` block.

    Usage::

        with MotoServer() as server:
            server.create_bucket("demo")
            ... use server.endpoint_url ...

    The server's output goes to ``log_path`` (a temporary file unless given) so that it never
    interleaves with test or demo output; on a failed start its tail is put in the exception.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_path: str | os.PathLike[str] | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.port: int | None = None
        self.start_timeout = start_timeout
        self._log_path_given = Path(log_path) if log_path is not None else None
        self.log_path: Path | None = None
        self._log_file: IO[bytes] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:<port>``: the value for boto3's ``endpoint_url`` and s3db.js connection strings."""
        if self.port is None:
            raise MotoServerError("MotoServer is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The child process's id while it runs (benchmarks read its CPU time and pin it to a CPU)."""
        return self._process.pid if self.running and self._process is not None else None

    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        """Start the child process and return once it answers HTTP (or raise ``MotoServerError``).

        A port picked by :func:`_free_port` can be taken by someone else before moto binds it; when
        no port was requested we therefore retry a few times with a new one.
        """
        if self._process is not None:
            raise MotoServerError("MotoServer already started")
        executable = find_moto_server()
        attempts = 1 if self._requested_port is not None else 3
        last_error: MotoServerError | None = None
        for _ in range(attempts):
            port = self._requested_port if self._requested_port is not None else _free_port(self.host)
            try:
                self._launch(executable, port)
                return self
            except MotoServerError as err:
                last_error = err
                self.stop()
        assert last_error is not None
        raise last_error

    def _launch(self, executable: Path, port: int) -> None:
        if self._log_path_given is not None:
            self.log_path = self._log_path_given
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
        else:
            fd, name = tempfile.mkstemp(prefix="moto_server-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        env = dict(os.environ)
        # moto_server must not pick up real credentials or a proxy from the caller's environment.
        env.update(
            AWS_ACCESS_KEY_ID=DEFAULT_ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=DEFAULT_SECRET_KEY,
            AWS_DEFAULT_REGION=DEFAULT_REGION,
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        self.port = port
        self._process = subprocess.Popen(
            [str(executable), "-H", self.host, "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # a Ctrl-C in the terminal reaches us, and we stop it ourselves
        )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        """Poll the endpoint every 50 ms until it answers, the process dies, or the deadline passes."""
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while True:
            if self._process.poll() is not None:
                raise MotoServerError(
                    f"moto_server exited with code {self._process.returncode} during start-up\n" + self.log_tail()
                )
            try:
                with opener.open(f"{self.endpoint_url}/moto-api/", timeout=1.0) as response:
                    response.read()
                return
            except urllib.error.HTTPError:
                return  # any HTTP answer means the server is up
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                raise MotoServerError(
                    f"moto_server did not answer on {self.endpoint_url} within {self.start_timeout:.0f} s\n"
                    + self.log_tail()
                )
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the child (SIGTERM), kill it if it lingers, and close the log file."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- helpers ---------------------------------------------------------------------------------------

    def log_tail(self, max_bytes: int = 4000) -> str:
        """The last bytes of the server log, for error messages."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        data = self.log_path.read_bytes()[-max_bytes:]
        return data.decode("utf-8", errors="replace")

    def client(self, service: str = "s3", **kwargs: Any) -> Any:
        """A boto3 client bound to this server with fake credentials (region us-east-1)."""
        import boto3  # imported lazily: starting the server itself needs no AWS SDK

        params: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "aws_access_key_id": DEFAULT_ACCESS_KEY,
            "aws_secret_access_key": DEFAULT_SECRET_KEY,
            "region_name": DEFAULT_REGION,
        }
        params.update(kwargs)
        return boto3.client(service, **params)

    def create_bucket(self, name: str) -> str:
        """Create bucket ``name`` (no error if it exists already) and return the name.

        s3db.js does not create buckets: its connection string names one that must exist.
        """
        s3 = self.client("s3")
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=name)
        return name
