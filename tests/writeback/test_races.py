"""Exactly once beyond one outbox: two outboxes racing (a restored backup beside the live
deployment), and a loopback URL that is not the simulator (a sidecar or tunnel to real AFAS)
whose POST completes after the client gave up."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import polars as pl
import pytest

from afas_pipeline.afas import AfasClient, AfasSettings
from afas_pipeline.defs.resources import StorageResource
from afas_pipeline.defs.writeback import no_duplicate_postings
from afas_pipeline.extract.reference import RawReference
from afas_pipeline.writeback import Outbox, WritebackOptions, WritesNotAllowedError, run_writeback
from afas_pipeline.writeback.outbox import SENT
from afas_pipeline.writeback.posting import UNRESOLVED
from afas_pipeline.writeback.safety import guarded_http_client
from tests.conftest import Simulator
from tests.writeback.conftest import (
    WRITEBACK_LINES,
    LoopbackProxy,
    correction_rows,
    fast_retry,
    ledger_entries,
    posts,
    set_faults,
    write_corrections,
)

RACING = [f"RACE-{n:02d}" for n in range(1, 13)]


def _corrections(ids: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n, cid in enumerate(ids, start=1):
        rows += correction_rows(cid, amount=f"{n}.{n:02d}", administration_id=1 + n % 3)
    return rows


def _run(simulator: Simulator, data_dir: Path, run_id: str, **options: Any) -> Any:
    settings = AfasSettings.create(token=simulator.token, base_url=simulator.base_url)
    options.setdefault("settle_seconds", 0.2)
    options.setdefault("ambiguous_recheck_seconds", 0.1)
    with AfasClient(settings, retry=fast_retry()) as client:
        return run_writeback(
            client,
            data_dir,
            WritebackOptions(**options),
            loaded=RawReference(data_dir),
            run_id=run_id,
        )


def _duplicates_check(data_dir: Path) -> dg.AssetCheckResult:
    return no_duplicate_postings(StorageResource(data_dir=str(data_dir)))


def test_two_outboxes_racing_are_caught_by_the_read_back_and_reversed_once_approved(
    start_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    """Two deployments post the same approved batch at the same moment, in the same order
    (the worst case: each looks every correction up before the other's POST is booked)."""
    simulator = start_simulator(journal_lines=WRITEBACK_LINES)
    outboxes = [tmp_path / "live", tmp_path / "restored"]
    for data_dir in outboxes:
        write_corrections(data_dir, _corrections(RACING))
        _run(simulator, data_dir, "approve", approve=tuple(RACING), approved_by="race")
    set_faults(simulator, slow_apply_ms=300, methods=["POST"])  # each POST takes a while
    start, reports = threading.Barrier(2), {}

    def post(data_dir: Path) -> None:
        start.wait()
        reports[data_dir] = _run(simulator, data_dir, "same-order", dry_run=False)

    threads = [threading.Thread(target=post, args=(d,)) for d in outboxes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    set_faults(simulator)

    booked = {cid: ledger_entries(simulator, cid) for cid in RACING}
    twice = {cid: entries for cid, entries in booked.items() if len(entries) > 1}
    assert twice, "the race really booked corrections twice"
    # The read-back of the run that finished last sees every extra booking.
    found = {d["correction_id"]: d for r in reports.values() for d in r.duplicates}
    assert set(found) == set(twice)
    assert all(found[cid]["entries"] == entries for cid, entries in twice.items())
    later = max(outboxes, key=lambda d: len(reports[d].duplicates))
    check = _duplicates_check(later)
    assert not check.passed  # the alert stays on until the extra entries are reversed
    assert check.metadata["extra_bookings"].value == len(twice)

    # The reversals are proposed like any correction: nothing is posted unapproved.
    waiting = Outbox(later).unreversed_duplicates()
    reversals = [row["reversal_id"] for row in waiting]
    dry = _run(simulator, later, "review")
    assert {o.correction_id for o in dry.by_outcome("skipped")} >= set(reversals)
    assert all(not ledger_entries(simulator, rid) for rid in reversals)
    approved = {"approve": tuple(reversals), "approved_by": "controller"}
    sent = _run(simulator, later, "reverse", dry_run=False, **approved)
    assert sent.count("posted") == len(reversals)
    assert _duplicates_check(later).passed
    # Per correction, the ledger now nets to one booking: two bookings and one reversal.
    lines = simulator.environment.rows("DWH_Financiele_mutaties")
    for cid in twice:
        reversal = next(row["reversal_id"] for row in waiting if row["correction_id"] == cid)
        mine = lines.filter(pl.col("VoucherNo").is_in([cid, reversal]))
        net = mine.group_by("AccountNo").agg((pl.col("AmtDebit") - pl.col("AmtCredit")).sum())
        once = lines.filter(pl.col("EntryNo") == twice[cid][0], pl.col("VoucherNo") == cid)
        expected = once.group_by("AccountNo").agg((pl.col("AmtDebit") - pl.col("AmtCredit")).sum())
        assert net.sort("AccountNo").equals(expected.sort("AccountNo")), cid
    # The other outbox proposed the same reversals for what it saw (the first booking stays,
    # whoever made it); approved there too, each is found in AFAS, not booked again.
    other = next(d for d in outboxes if d != later)
    own = [row["reversal_id"] for row in Outbox(other).unreversed_duplicates()]
    assert set(own) <= set(reversals)
    _run(simulator, other, "other", dry_run=False, approve=tuple(own), approved_by="controller")
    assert all(len(ledger_entries(simulator, rid)) == 1 for rid in reversals)
    assert _duplicates_check(other).passed


def test_a_loopback_proxy_to_real_afas_gets_no_writes_and_afas_full_settle_time(
    start_simulator: Callable[..., Simulator], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loopback URL used to count as the simulator: writes without the opt-in, and 1 s to
    settle, so a POST the proxy completed after the client gave up was posted again."""
    simulator = start_simulator(journal_lines=WRITEBACK_LINES)
    monkeypatch.delenv("AFAS_ALLOW_WRITES", raising=False)
    data_dir = tmp_path / "data"
    write_corrections(data_dir, _corrections(RACING[:1]))
    with LoopbackProxy(simulator.base_url) as proxy:
        settings = AfasSettings.create(token=simulator.token, base_url=proxy.base_url)
        options = WritebackOptions(
            dry_run=False, approve=(RACING[0],), approved_by="ops", ambiguous_recheck_seconds=0.1
        )
        with (
            guarded_http_client(environ={}) as http,
            AfasClient(settings, http_client=http) as client,
            pytest.raises(WritesNotAllowedError, match="loopback address is not enough"),
        ):
            run_writeback(
                client, data_dir, options, loaded=RawReference(data_dir), run_id="refused"
            )
        assert posts(simulator) == 0

        # Opted in, the POST is slow; the client gives up after 0.5 s, AFAS books it at 2 s.
        set_faults(simulator, slow_apply_ms=2000, methods=["POST"])
        optin = {"AFAS_ALLOW_WRITES": "true"}
        impatient = httpx.Timeout(10.0, read=0.5)
        with (
            guarded_http_client(environ=optin, timeout=impatient) as http,
            AfasClient(settings, http_client=http, retry=fast_retry()) as client,
        ):
            first = run_writeback(
                client,
                data_dir,
                options,
                loaded=RawReference(data_dir),
                run_id="gave-up",
                environ=optin,
            )
            assert first.count(UNRESOLVED) == 1
            assert not first.simulator
            set_faults(simulator)
            # A run soon after: AFAS may still be working on it for 900 s. Nothing is sent.
            soon = run_writeback(
                client,
                data_dir,
                options,
                loaded=RawReference(data_dir),
                run_id="soon",
                environ=optin,
            )
    assert soon.count(UNRESOLVED) == 1
    assert Outbox(data_dir).state_counts()[SENT] == 1
    assert posts(simulator) == 1
    assert len(ledger_entries(simulator, RACING[0])) == 1  # booked once, after the client left
    # Once AFAS's 900 s have passed (here: said so), the lookup finds it.
    settled = _run(simulator, data_dir, "settled", dry_run=False, settle_seconds=0)
    assert settled.count("posted") == 1
    assert posts(simulator) == 1
    assert _duplicates_check(data_dir).passed
