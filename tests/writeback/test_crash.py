"""Exactly once under crashes, for real: the write-back runs in a child process that is killed
with SIGKILL at random moments of a batch, then runs again to completion. The simulator lives in
this process; its ledger, not the outbox, is the ground truth."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from afas_pipeline.extract.reference import RawReference
from afas_pipeline.writeback import Outbox, WritebackOptions, run_writeback
from tests.conftest import Simulator
from tests.writeback.conftest import (
    WRITEBACK_LINES,
    correction_rows,
    ledger_entries,
    set_faults,
    write_corrections,
)

SEED = int(os.environ.get("WRITEBACK_CRASH_SEED", "20261120"))  # vary it to soak
CORRECTIONS = 15
KILL_ROUNDS = 5


class _Child:
    """`python -m afas_pipeline.writeback --send` with its progress lines collected."""

    def __init__(self, simulator: Simulator, data_dir: Path) -> None:
        # stderr to a file: a pipe nobody reads could block the child.
        self.stderr = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed in finish
        env = {
            **os.environ,
            "AFAS_BASE_URL": simulator.base_url,
            "AFAS_TOKEN": simulator.token,
            "AFAS_PIPELINE_DATA_DIR": str(data_dir),
        }
        env.pop("AFAS_ALLOW_WRITES", None)
        command = [sys.executable, "-m", "afas_pipeline.writeback", "--send"]
        self.process = subprocess.Popen(
            [*command, "--settle-seconds", "0.3"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.strip())

    def events(self) -> int:
        return sum(1 for line in self.lines if not line.startswith("{"))

    def kill_after(self, events: int, extra_s: float, timeout: float = 30.0) -> bool:
        """SIGKILL once `events` progress lines were seen plus `extra_s`; False if it ended."""
        deadline = time.monotonic() + timeout
        while self.events() < events and self.process.poll() is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.002)
        time.sleep(extra_s)
        alive = self.process.poll() is None
        if alive:
            self.process.send_signal(signal.SIGKILL)
        self.finish()
        return alive

    def finish(self) -> tuple[int, str]:
        code = self.process.wait(timeout=60)
        self._reader.join(timeout=5)  # it owns stdout: every line is in self.lines now
        assert self.process.stdout is not None
        self.process.stdout.close()
        self.stderr.seek(0)
        text = self.stderr.read()
        self.stderr.close()
        return code, text


def test_killed_runs_leave_every_correction_posted_exactly_once(
    start_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    simulator = start_simulator(journal_lines=WRITEBACK_LINES)
    data_dir = tmp_path / "data"
    ids = [f"CRASH-{n:03d}" for n in range(1, CORRECTIONS + 1)]
    rows: list[dict[str, Any]] = []
    for n, cid in enumerate(ids, start=1):
        rows += correction_rows(cid, amount=f"{n}.{n:02d}", administration_id=1 + n % 3)
    write_corrections(data_dir, rows)
    # The operator approves the whole batch once (a dry run, in this process).
    from afas_pipeline.afas import AfasClient, AfasSettings

    settings = AfasSettings.create(token=simulator.token, base_url=simulator.base_url)
    with AfasClient(settings) as client:
        options = WritebackOptions(approve=tuple(ids), approved_by="crash-test")
        run_writeback(client, data_dir, options, loaded=RawReference(data_dir), run_id="approve")
    # A little latency on POSTs widens the window in which a kill finds a request in flight.
    set_faults(simulator, latency_ms=20, methods=["POST"])

    rng = random.Random(SEED)
    kills, in_flight, posted_before_kill = 0, 0, []
    for _ in range(KILL_ROUNDS):
        child = _Child(simulator, data_dir)
        events = rng.randint(0, 8)
        # With no event to wait for, kill somewhere in start-up, sync or the first lookups.
        extra = rng.uniform(1.0, 2.0) if events == 0 else rng.uniform(0.0, 0.03)
        if child.kill_after(events, extra):
            kills += 1
            last = next((ln for ln in reversed(child.lines) if ln), "")
            in_flight += last.startswith("sent ")
        posted_before_kill.append(sum(ln.startswith("posted ") for ln in child.lines))

    # Run to completion; a run may leave a just-killed POST `sent` until it settles.
    for _ in range(3):
        child = _Child(simulator, data_dir)
        code, stderr = child.finish()
        assert code == 0, stderr
        summary = json.loads(child.lines[-1])  # the summary is the last line
        if summary["states"]["posted"] == CORRECTIONS:
            break

    ledger = {cid: ledger_entries(simulator, cid) for cid in ids}
    figures = (
        f"{KILL_ROUNDS} rounds, {kills} kills ({in_flight} with a POST in flight), "
        f"posted per round before the kill {posted_before_kill}"
    )
    print(figures)
    assert kills >= KILL_ROUNDS - 1, figures  # the kills really landed inside runs
    assert {cid: len(entries) for cid, entries in ledger.items()} == dict.fromkeys(ids, 1), figures
    lines = simulator.environment.rows("DWH_Financiele_mutaties")
    for cid in ids:
        assert lines.filter(lines["VoucherNo"] == cid).height == 2  # the whole entry, once
    outbox = {r["correction_id"]: r for r in Outbox(data_dir).table()}
    assert {r["state"] for r in outbox.values()} == {"posted"}
    assert {cid: [int(outbox[cid]["en_no"])] for cid in ids} == ledger
