"""Peak memory of a process and all its descendants, sampled from /proc (Linux, no psutil).

`measure(command)` runs a command, samples the summed RSS of its whole process tree every
`interval` seconds, and returns wall time, peak tree RSS, peak single-process RSS, the exit
code and the output. Summing RSS counts pages shared between processes (libraries, a forked
child's untouched pages) more than once, so the tree figure is an upper bound.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
PROC = Path("/proc")


@dataclass
class Measured:
    """One measured command."""

    command: list[str]
    returncode: int
    wall_s: float
    peak_tree_rss: int  # bytes, summed over the tree at the worst sample
    peak_process_rss: int  # bytes, the largest single process seen
    peak_processes: int
    peak_by_command: dict[str, int]  # bytes, the largest RSS seen per command (`python -m x`)
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def _children_map() -> dict[int, list[int]]:
    """ppid -> pids, from /proc/*/stat (field 4)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir(PROC):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # The command name (field 2) may hold spaces and parentheses: split after the last ")".
        rest = stat[stat.rfind(b")") + 2 :].split()
        children.setdefault(int(rest[1]), []).append(int(entry.name))
    return children


def tree_pids(root: int) -> list[int]:
    """`root` and all its descendants alive now."""
    children = _children_map()
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, ()))
    return pids


def rss_bytes(pid: int) -> int:
    """Resident set size of one process (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def command_name(pid: int) -> str:
    """A short name for a process: its program and first meaningful argument."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = handle.read().split(b"\0")
    except OSError:
        return "?"
    words = [a.decode(errors="replace") for a in argv if a]
    if not words:
        return "?"
    program = Path(words[0]).name
    rest = [w for w in words[1:] if not w.startswith("-")][:2]
    if len(words) > 2 and words[1] == "-m":
        rest = [words[2], *[w for w in words[3:] if not w.startswith("-")][:1]]
    return " ".join([program, *rest])[:60]


class TreeSampler:
    """Samples the RSS of a process tree in a background thread until stopped."""

    def __init__(self, root: int, interval: float = 0.1) -> None:
        self.root = root
        self.interval = interval
        self.peak_tree = 0
        self.peak_process = 0
        self.peak_processes = 0
        self.peak_by_command: dict[str, int] = {}
        self._names: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def sample(self) -> None:
        pids = tree_pids(self.root)
        sizes = [rss_bytes(pid) for pid in pids]
        for pid, size in zip(pids, sizes, strict=True):
            name = self._names.get(pid) or self._names.setdefault(pid, command_name(pid))
            self.peak_by_command[name] = max(self.peak_by_command.get(name, 0), size)
        self.peak_tree = max(self.peak_tree, sum(sizes))
        self.peak_process = max(self.peak_process, max(sizes, default=0))
        self.peak_processes = max(self.peak_processes, len(sizes))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def measure(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    interval: float = 0.1,
    timeout: float | None = None,
) -> Measured:
    """Run `command` to completion, sampling its process tree's memory."""
    started = time.perf_counter()
    process = subprocess.Popen(
        list(command),
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    with TreeSampler(process.pid, interval) as sampler:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
    wall = time.perf_counter() - started
    return Measured(
        list(command),
        process.returncode,
        wall,
        sampler.peak_tree,
        sampler.peak_process,
        sampler.peak_processes,
        sampler.peak_by_command,
        stdout,
        stderr,
    )
