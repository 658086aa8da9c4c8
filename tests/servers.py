"""Helpers for tests that start servers in subprocesses (`dagster dev`, Dagster's daemon): free
ports, default signal handling in the child, a stop that is sure, and waiting for a probe."""

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


def default_signals() -> None:
    """For `preexec_fn`: processes here may inherit SIGINT/SIGTERM as ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def stop_group(process: subprocess.Popen, grace: float = 15) -> None:
    """SIGTERM the whole process group, then SIGKILL whatever is left after a grace period."""
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
