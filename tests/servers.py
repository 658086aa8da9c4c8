"""Servers a test starts as child processes (`dagster dev`, Dagster's daemon, S3, PostgreSQL):
free loopback ports, default signal handling in the child (this process may have inherited
SIGINT/SIGTERM as ignored), a sure stop, and waiting for a probe."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from afas_pipeline.extract.objectstore import ENDPOINT_VARIABLE, ObjectStoreSettings

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_ports(count: int) -> list[int]:
    """`count` different free ports (a port just closed may be handed out again)."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def default_signals() -> None:
    """preexec_fn: the child dies of SIGINT/SIGTERM even if this process ignores them."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def stop_group(process: subprocess.Popen, grace: float = 15) -> None:
    """SIGTERM the child's whole process group (started with `start_new_session=True`), then
    SIGKILL whatever is left after a grace period."""
    with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def until(probe: Callable[[], T | None], *, timeout: float, interval: float = 1) -> T:
    """`probe()`'s first truthy answer, asked every `interval` seconds for `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"gave up after {timeout} s")


# The S3 server's admin identity, and so the pipeline's credentials in tests.
S3_SECRET = "s3-secret-never-logged"
S3_KEYS = {"AWS_ACCESS_KEY_ID": "afas-test", "AWS_SECRET_ACCESS_KEY": S3_SECRET}


@dataclass(frozen=True)
class S3Server:
    """A running S3-compatible server: the variables that reach it, its filesystem."""

    endpoint_url: str

    def env(self) -> dict[str, str]:
        return {**S3_KEYS, "AWS_REGION": "us-east-1", ENDPOINT_VARIABLE: self.endpoint_url}

    def filesystem(self) -> Any:
        return ObjectStoreSettings.from_env(self.env()).filesystem()


@contextlib.contextmanager
def running_s3_server(folder: Path, bucket: str) -> Iterator[S3Server]:
    """`weed server -s3` (SeaweedFS from PyPI, the dev extra) on free loopback ports, its data
    in `folder`, with `bucket` made; stopped for sure."""
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = free_ports(8)
    command = [
        str(Path(sys.executable).parent / "weed"), "server", "-s3", f"-dir={folder}",
        "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}",
        "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.volumeSizeLimitMB=64",
    ]  # fmt: skip
    server = S3Server(f"http://127.0.0.1:{s3}")
    with (folder / "weed.log").open("w") as log:
        process = subprocess.Popen(
            command,
            env={**os.environ, **server.env()},  # the server's admin identity: these credentials
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=default_signals,
        )
        try:
            _until_bucket_made(server, bucket, process)
            yield server
        finally:
            stop_group(process, grace=3)  # it keeps nothing a test needs


def _until_bucket_made(
    server: S3Server, bucket: str, process: subprocess.Popen, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            server.filesystem().mkdir(bucket)
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.5)
