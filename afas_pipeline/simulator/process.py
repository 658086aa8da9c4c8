"""Run the simulator as a child process (`python -m afas_pipeline.simulator`), for tests."""

from __future__ import annotations

import os
import queue
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import IO

from afas_pipeline.simulator.__main__ import TOKEN_VARIABLE

READY_PREFIX = "AFAS simulator listening on "
_STOP_GRACE_SECONDS = 5.0


class SimulatorStartError(RuntimeError):
    """The child died or stayed silent before reporting its URL; carries its stderr."""


def _restore_default_signals() -> None:
    # Runs in the child before exec: a parent may run with SIGINT/SIGTERM ignored, and ignored
    # signals survive exec, which would make the simulator unkillable by SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class SimulatorProcess:
    """The simulator in a child process on a free port; stopped for sure on exit.

    >>> with SimulatorProcess(["--scale", "3000"]) as sim:
    ...     client = AfasClient(sim.base_url, sim.token_data)
    """

    def __init__(
        self,
        args: Sequence[str] = (),
        *,
        token_data: str | None = None,
        startup_timeout: float = 120.0,
    ) -> None:
        self.args = list(args)
        # The token is chosen here and handed to the child, so the parent knows it up front.
        self.token_data = token_data or _default_token()
        self.startup_timeout = startup_timeout
        self.base_url: str = ""
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()

    def start(self) -> SimulatorProcess:
        command = [
            sys.executable,
            "-m",
            "afas_pipeline.simulator",
            "--port",
            "0",
            *self.args,
        ]
        # The token travels in the environment: a command line is visible to all in `ps`.
        env = {**os.environ, TOKEN_VARIABLE: self.token_data}
        # stderr goes to a file: a pipe nobody reads would block a chatty child.
        self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            preexec_fn=_restore_default_signals,
        )
        threading.Thread(target=self._read_stdout, daemon=True).start()
        try:
            self.base_url = self._wait_for_url()
        except BaseException:
            self.stop()
            raise
        return self

    def _read_stdout(self) -> None:
        # Drains stdout for the child's whole life so its writes never block.
        stdout = self._process.stdout if self._process else None
        if stdout is None:
            return
        for line in stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _wait_for_url(self) -> str:
        try:
            while True:
                line = self._lines.get(timeout=self.startup_timeout)
                if line is None:
                    raise SimulatorStartError(
                        f"simulator exited before it was ready:\n{self.stderr_text()}"
                    )
                if line.startswith(READY_PREFIX):
                    return line[len(READY_PREFIX) :].strip()
        except queue.Empty:
            raise SimulatorStartError(
                f"simulator not ready within {self.startup_timeout} s:\n{self.stderr_text()}"
            ) from None

    def stderr_text(self) -> str:
        """What the child wrote on stderr so far."""
        if self._stderr is None:
            return ""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def stop(self) -> None:
        """SIGTERM, a grace period, then SIGKILL."""
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(_STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None and process.stdout is not None:
            process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _default_token() -> str:
    return secrets.token_hex(32).upper()
