"""Servers a test starts as child processes (`dagster dev`, Dagster's daemon, S3, PostgreSQL):
free loopback ports, default signal handling in the child (this process may have inherited
SIGINT/SIGTERM as ignored), a sure stop, and waiting for a probe."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from typing import TypeVar

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
