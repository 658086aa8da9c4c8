"""The write-back engine against the simulator over a real socket: dry runs, approvals,
posting exactly once, rejections with AFAS's reasons, faults, ambiguous writes, the guard."""

from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest

from afas_pipeline.afas import AfasClient, AfasSettings
from afas_pipeline.extract.reference import RawReference
from afas_pipeline.extract.storage import RawStore
from afas_pipeline.writeback import Outbox, WritebackOptions, WritesNotAllowedError, run_writeback
from afas_pipeline.writeback.outbox import POSTED, REJECTED, SENT
from afas_pipeline.writeback.safety import guarded_http_client
from tests.writeback.conftest import (
    WritebackEnv,
    correction_rows,
    fast_retry,
    ledger_entries,
    posts,
    request_counts,
    set_faults,
    write_corrections,
)

IDS = [f"WB-{n:04d}" for n in range(1, 6)]


def _batch(ids: list[str] = IDS) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n, cid in enumerate(ids, start=1):
        rows += correction_rows(cid, amount=f"{n * 10}.25", administration_id=1 + n % 3)
    return rows


def _run(wb: WritebackEnv, client: AfasClient | None = None, **options: Any) -> Any:
    options.setdefault("settle_seconds", 0.2)
    options.setdefault("ambiguous_recheck_seconds", 0.1)
    with contextlib.ExitStack() as own:
        client = client or own.enter_context(wb.client(retry=fast_retry()))
        loaded = RawReference(wb.data_dir)
        return run_writeback(
            client, wb.data_dir, WritebackOptions(**options), loaded=loaded, run_id="test"
        )


def _send(wb: WritebackEnv, approve: list[str] | None = None, **options: Any) -> Any:
    return _run(wb, dry_run=False, approve=tuple(approve or ()), approved_by="tester", **options)


def _exactly_once(wb: WritebackEnv, ids: list[str]) -> None:
    counts = {cid: len(ledger_entries(wb.simulator, cid)) for cid in ids}
    assert counts == dict.fromkeys(ids, 1)


def test_a_dry_run_validates_and_shows_payloads_but_sends_nothing(wb: WritebackEnv) -> None:
    write_corrections(wb.data_dir, _batch())
    report = _run(wb, approve=tuple(IDS[:3]), approved_by="tester")  # dry run by default
    assert report.counts()["would_post"] == 3
    assert report.counts()["skipped"] == 2  # not approved: shown, not sent
    assert posts(wb.simulator) == 0
    assert not any(k.startswith(("POST", "PUT", "DELETE")) for k in request_counts(wb.simulator))
    assert all(not ledger_entries(wb.simulator, cid) for cid in IDS)
    payload = report.by_outcome("would_post")[0].payload
    assert (
        payload["FiEntryPar"]["Element"]["Objects"][0]["FiEntries"]["Element"][0]["Fields"]["BpNr"]
        == IDS[0]
    )
    # The approval is recorded with who and when, though nothing was sent.
    approvals = Outbox(wb.data_dir).table("approvals")
    assert {(a["correction_id"], a["approved_by"]) for a in approvals} == {
        (cid, "tester") for cid in IDS[:3]
    }
    assert all(a["approved_at"] is not None for a in approvals)


def test_an_approved_batch_is_posted_once_and_lands_in_the_ledger(wb: WritebackEnv) -> None:
    write_corrections(wb.data_dir, _batch())
    report = _send(wb, IDS)
    assert report.counts()["posted"] == 5
    _exactly_once(wb, IDS)
    outbox = {r["correction_id"]: r for r in Outbox(wb.data_dir).table()}
    for cid in IDS:
        row = outbox[cid]
        assert row["state"] == POSTED
        assert [int(row["en_no"])] == ledger_entries(wb.simulator, cid)
        assert row["attempts"] == 1
        assert f'"BpNr": "{cid}"' in row["request_body"]
        assert '"EnNo"' in row["response_body"]
        assert row["approved_by"] == "tester"
    # Running again posts nothing more.
    before = posts(wb.simulator)
    again = _send(wb)
    assert again.counts()["posted"] == 0
    assert again.counts()["skipped"] == 5
    assert posts(wb.simulator) == before
    _exactly_once(wb, IDS)


def test_nothing_unapproved_is_posted_and_a_change_voids_the_approval(wb: WritebackEnv) -> None:
    write_corrections(wb.data_dir, _batch(IDS[:2]))
    _run(wb, approve=(IDS[0],), approved_by="tester")  # approve in a dry run
    write_corrections(wb.data_dir, _batch(IDS[:1]) + correction_rows(IDS[1], amount="7.00"))
    report = _send(wb)
    assert [o.correction_id for o in report.by_outcome("posted")] == [IDS[0]]
    assert posts(wb.simulator) == 1
    # IDS[0] changes after approval: needs approving again.
    write_corrections(wb.data_dir, correction_rows(IDS[0], amount="1.00") + correction_rows(IDS[1]))
    report = _send(wb)
    skipped = {o.correction_id: o.detail for o in report.by_outcome("skipped")}
    assert "content changed afterwards" in skipped[IDS[0]]  # posted before; cannot change
    assert skipped[IDS[1]].startswith("awaiting approval")
    assert posts(wb.simulator) == 1


def _stale_open_periods(wb: WritebackEnv) -> None:
    """A raw snapshot that still shows every period open (as if loaded before a close)."""
    frame = wb.simulator.environment.rows("Profit_periods_per_administration")
    RawStore(wb.data_dir).write_snapshot(
        "Profit_periods_per_administration", frame.with_columns(pl.lit(False).alias("Blocked"))
    )


def test_a_rejection_carries_afas_reason_and_is_not_retried_until_changed(
    wb: WritebackEnv,
) -> None:
    _stale_open_periods(wb)
    # Administration 2 closed August 2026; the stale snapshot does not know, AFAS does.
    closed = correction_rows("REJ-1", administration_id=2, day=date(2026, 8, 14))
    write_corrections(wb.data_dir, _batch(IDS[:2]) + closed)
    report = _send(wb, [*IDS[:2], "REJ-1"])
    assert report.counts()["posted"] == 2  # the others in the batch go on
    (rejected,) = report.by_outcome("rejected")
    assert "period 8 of the year 2026 is blocked" in (rejected.detail or "")
    row = next(r for r in Outbox(wb.data_dir).table() if r["correction_id"] == "REJ-1")
    assert row["state"] == REJECTED
    assert row["rejected_by"] == "afas"
    assert "period 8 of the year 2026 is blocked" in row["external_message"]
    assert len(row["profit_log_reference"]) == 32
    assert row["error_number"] == -2147220469
    assert "externalMessage" in row["response_body"]
    # Not retried while unchanged.
    sent = posts(wb.simulator)
    again = _send(wb)
    skipped = {o.correction_id: o.detail for o in again.by_outcome("skipped")}
    assert "rejected by AFAS" in (skipped["REJ-1"] or "")
    assert posts(wb.simulator) == sent
    # Fixed (moved to an open period) and approved again: posted.
    fixed = correction_rows("REJ-1", administration_id=2, day=date(2026, 11, 2))
    write_corrections(wb.data_dir, _batch(IDS[:2]) + fixed)
    assert _send(wb).counts()["posted"] == 0  # the old approval named the old content
    assert _send(wb, ["REJ-1"]).counts()["posted"] == 1
    _exactly_once(wb, [*IDS[:2], "REJ-1"])


def test_a_503_is_looked_up_not_resent_and_a_locked_layout_is_retried(wb: WritebackEnv) -> None:
    """A 503 to a POST may come after AFAS booked it: the row stays `sent`, the batch stops
    (AFAS is in maintenance) and a later run looks it up before anything is sent again. A
    locked booking layout is AFAS refusing: retried at once."""
    write_corrections(wb.data_dir, _batch())
    set_faults(
        wb.simulator,
        error_503_rate=0.4,
        booking_layout_locked_rate=0.4,
        methods=["POST"],
        seed=3,
    )
    report = _send(wb, IDS)
    assert report.stopped is not None
    assert "503" in report.stopped
    assert Outbox(wb.data_dir).state_counts()[SENT] >= 1
    for _ in range(10):
        if report.state_counts[POSTED] == len(IDS):
            break
        report = _send(wb)
    assert report.state_counts[POSTED] == len(IDS)
    assert posts(wb.simulator) > len(IDS)  # faults really happened and were retried
    _exactly_once(wb, IDS)


def test_a_503_after_afas_booked_the_post_is_found_not_booked_again(wb: WritebackEnv) -> None:
    """The bad day: a 503 returned after AFAS applied the POST was retried inside the client,
    booking the entry twice while the outbox said once."""
    write_corrections(wb.data_dir, _batch())
    set_faults(wb.simulator, error_503_after_apply_rate=1.0, methods=["POST"])
    report = _send(wb, IDS)
    for _ in range(len(IDS)):  # each run books one: the 503 stops the batch
        if report.state_counts[POSTED] == len(IDS):
            break
        report = _send(wb)
    assert report.state_counts[POSTED] == len(IDS)
    assert posts(wb.simulator) == len(IDS)  # one POST each, never repeated
    _exactly_once(wb, IDS)
    events = Outbox(wb.data_dir).table("events")
    assert {e["correction_id"] for e in events if e["event"] == "ambiguous"} == set(IDS)


def test_a_dropped_connection_is_resolved_by_the_lookup(wb: WritebackEnv) -> None:
    write_corrections(wb.data_dir, _batch())
    set_faults(wb.simulator, drop_rate=1.0, methods=["POST"])
    report = _send(wb, IDS)
    # The simulator drops before booking: nothing is in AFAS, every row stays `sent`.
    assert report.counts()["unresolved"] == 5
    assert Outbox(wb.data_dir).state_counts()[SENT] == 5
    assert all(not ledger_entries(wb.simulator, cid) for cid in IDS)
    set_faults(wb.simulator)
    report = _send(wb)
    assert report.counts()["posted"] == 5
    _exactly_once(wb, IDS)


class _LoseAnswers(httpx.BaseTransport):
    """Delivers every FiEntries POST, then loses the answer (the worst ambiguous write)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST":
            response.read()
            self.lost += 1
            raise httpx.ReadError("connection reset after the request was sent", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


def test_a_booked_entry_whose_answer_was_lost_is_found_not_posted_again(
    wb: WritebackEnv,
) -> None:
    write_corrections(wb.data_dir, _batch())
    transport = _LoseAnswers()
    settings = AfasSettings.create(token=wb.simulator.token, base_url=wb.simulator.base_url)
    with (
        httpx.Client(transport=transport) as http,
        AfasClient(settings, http_client=http, retry=fast_retry()) as client,
    ):
        report = _send(wb, IDS, client=client)
    assert transport.lost == 5
    assert report.counts()["posted"] == 5  # found by the lookup in the same run
    assert all("ambiguous" in (o.detail or "") for o in report.by_outcome("posted"))
    _exactly_once(wb, IDS)
    rows = Outbox(wb.data_dir).table()
    assert all(r["attempts"] == 1 for r in rows)
    assert {r["en_no"] for r in rows} == {
        str(ledger_entries(wb.simulator, r["correction_id"])[0]) for r in rows
    }


def test_a_lost_outbox_does_not_post_twice(wb: WritebackEnv) -> None:
    write_corrections(wb.data_dir, _batch())
    _send(wb, IDS)
    Path(wb.data_dir / "writeback.duckdb").unlink()
    report = _send(wb, IDS)
    assert report.counts()["posted"] == 5
    assert all("before posting" in (o.detail or "") for o in report.by_outcome("posted"))
    assert posts(wb.simulator) == 5
    _exactly_once(wb, IDS)


class _ForwardTo(httpx.BaseTransport):
    """A transport for http://afas.invalid that records requests and serves them from the
    simulator (so a dry run against a "real" URL can read)."""

    def __init__(self, simulator_url: str, seen: list[httpx.Request]) -> None:
        self.root = simulator_url.split("/ProfitRestServices")[0]
        self.seen = seen
        self.real = httpx.Client()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        answer = self.real.request(
            request.method,
            self.root + request.url.raw_path.decode(),
            headers=request.headers,
            content=request.content,
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    def close(self) -> None:
        self.real.close()


def test_without_the_opt_in_nothing_is_written_to_a_real_afas_url(
    wb: WritebackEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AFAS_ALLOW_WRITES", raising=False)
    write_corrections(wb.data_dir, _batch())
    seen: list[httpx.Request] = []
    settings = AfasSettings.create(
        token=wb.simulator.token, base_url="http://afas.invalid/ProfitRestServices"
    )
    transport = _ForwardTo(wb.simulator.base_url, seen)
    with (
        guarded_http_client(transport=transport, environ={}) as http,
        AfasClient(settings, http_client=http, retry=fast_retry()) as client,
    ):
        dry = run_writeback(
            client,
            wb.data_dir,
            WritebackOptions(approve=tuple(IDS), approved_by="tester"),
            loaded=RawReference(wb.data_dir),
            run_id="dry",
        )
        assert dry.counts()["would_post"] == 5  # a dry run may read
        assert not dry.simulator
        reads = len(seen)
        with pytest.raises(WritesNotAllowedError, match="AFAS_ALLOW_WRITES=true"):
            run_writeback(
                client,
                wb.data_dir,
                WritebackOptions(dry_run=False),
                loaded=RawReference(wb.data_dir),
                run_id="send",
            )
    assert len(seen) == reads  # refused before any request
    assert {r.method for r in seen} == {"GET"}
    assert posts(wb.simulator) == 0
    assert Outbox(wb.data_dir).state_counts()[SENT] == 0


def test_with_the_opt_in_a_real_url_is_written_to(wb: WritebackEnv) -> None:
    write_corrections(wb.data_dir, _batch(IDS[:1]))
    seen: list[httpx.Request] = []
    settings = AfasSettings.create(
        token=wb.simulator.token, base_url="http://afas.invalid/ProfitRestServices"
    )
    optin = {"AFAS_ALLOW_WRITES": "true"}
    with (
        guarded_http_client(transport=_ForwardTo(wb.simulator.base_url, seen), environ=optin) as h,
        AfasClient(settings, http_client=h, retry=fast_retry()) as client,
    ):
        report = run_writeback(
            client,
            wb.data_dir,
            WritebackOptions(dry_run=False, approve=(IDS[0],), approved_by="t", settle_seconds=0),
            loaded=RawReference(wb.data_dir),
            run_id="send",
            environ=optin,
        )
    assert report.counts()["posted"] == 1
    assert [r.method for r in seen].count("POST") == 1
    _exactly_once(wb, IDS[:1])
