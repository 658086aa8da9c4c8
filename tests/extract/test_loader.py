"""Extraction against the simulator: partitions equal AFAS's ground truth, re-runs change nothing,
the clock moving forward is reflected, and failures leave partitions as they were."""

from __future__ import annotations

import errno
import random
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import httpx
import polars as pl
import pytest

from afas_pipeline.afas import RetryPolicy
from afas_pipeline.extract.days import DayRange
from afas_pipeline.extract.deletions import (
    detect_deleted_by_key_scan,
    detect_deleted_journal_lines,
    live_versions,
)
from afas_pipeline.extract.loader import ExtractError, load_days, load_snapshot
from afas_pipeline.extract.specs import spec_by_name
from afas_pipeline.extract.storage import RawStore
from tests.conftest import HISTORY_START, NOW, Simulator
from tests.extract.support import (
    client_for,
    file_contents,
    load_range,
    load_whole,
    raw_days,
    truth_by_day,
    without_load_columns,
)

LINES = spec_by_name("DWH_Financiele_mutaties")
DEBTORS = spec_by_name("DWH_Debiteuren")
CREDITORS = spec_by_name("DWH_Crediteuren")
CHANGED = spec_by_name("Profit_Fin_ChangedEntrydate")
TODAY = NOW.date()
FIRST_DAYS = date(2026, 10, 1)

DWH = "/connectors/DWH_"  # faults only for the change-tracked connectors


@pytest.fixture
def simulator(start_simulator: Callable[..., Simulator]) -> Simulator:
    return start_simulator()


@pytest.fixture
def store(tmp_path: Path) -> RawStore:
    return RawStore(tmp_path / "data")


def _load_everything(simulator: Simulator, store: RawStore, run_id: str = "full") -> None:
    for spec in (LINES, DEBTORS, CREDITORS):
        load_range(simulator, store, spec, HISTORY_START, TODAY, run_id)


@pytest.mark.parametrize("spec", [LINES, DEBTORS, CREDITORS], ids=lambda s: s.name)
def test_each_partition_and_administration_equals_afas(
    simulator: Simulator, store: RawStore, spec
) -> None:
    load_range(simulator, store, spec, HISTORY_START, TODAY, "run-1")

    loaded = raw_days(store, spec)
    truth = truth_by_day(simulator.environment.rows(spec.name), spec.modification_field)
    assert loaded.height == truth.height > 0
    # Every row sits in the file of its own Amsterdam wall-clock day (or the first day) ...
    loaded = loaded.rename({"_partition": "_day"})
    assert loaded["_day"].equals(truth.sort(spec.key)["_day"])
    # ... and each day (per administration) holds exactly AFAS's rows, to the cent.
    admin = spec.contract.administration_field
    group = ["_day", *([admin] if admin else [])]
    amounts = [pl.col(c).sum() for c in spec.contract.amount_fields]
    expected = truth.group_by(group).agg(pl.len(), *amounts).sort(group)
    assert loaded.group_by(group).agg(pl.len(), *amounts).sort(group).equals(expected)
    assert without_load_columns(loaded).equals(without_load_columns(truth).sort(spec.key))


def test_amounts_are_exact_decimals(simulator: Simulator, store: RawStore) -> None:
    load_range(simulator, store, LINES, HISTORY_START, TODAY, "run-1")
    loaded = raw_days(store, LINES)
    for column in ("AmtDebit", "AmtCredit", "VatAmt"):
        assert loaded.schema[column] == pl.Decimal(18, 2)
    truth = simulator.environment.rows(LINES.name)
    assert loaded["AmtDebit"].sum() == truth["AmtDebit"].sum()
    assert loaded["AmtDebit"].sum() == loaded["AmtCredit"].sum()  # the ledger balances


def test_late_evening_and_daylight_saving_changes_land_on_their_wall_clock_day(
    simulator: Simulator, store: RawStore
) -> None:
    load_range(simulator, store, LINES, HISTORY_START, TODAY, "run-1")
    truth = simulator.environment.rows(LINES.name)
    moment = pl.col("Mutatie_datum")
    late = truth.filter((moment.dt.hour() == 23) & (moment.dt.minute() == 59))
    dst_days = [date(2025, 10, 26), date(2026, 3, 29)]
    dst = truth.filter(moment.dt.date().is_in(dst_days) & (moment.dt.hour() == 2))
    assert late.height, "the simulator must produce late-evening changes"
    assert dst.height, "the simulator must produce changes in the DST night"
    for row in pl.concat([late, dst]).iter_rows(named=True):
        day_file = store.day_path(LINES.name, row["Mutatie_datum"].date())
        keys = pl.read_parquet(day_file).select(LINES.key)
        assert (
            keys.filter(
                (pl.col("UnitId") == row["UnitId"])
                & (pl.col("EntryNo") == row["EntryNo"])
                & (pl.col("SeqNo") == row["SeqNo"])
            ).height
            == 1
        ), row


def test_rerunning_partitions_in_any_order_changes_nothing(
    simulator: Simulator, store: RawStore
) -> None:
    _load_everything(simulator, store)
    before = file_contents(store.raw_dir)
    before_bytes = _file_bytes(store.raw_dir)
    ranges = [
        (date(2026, 3, 1), date(2026, 3, 31)),
        (date(2025, 10, 26), date(2025, 10, 26)),
        (TODAY, TODAY),
        (date(2026, 2, 15), date(2026, 3, 15)),
        (HISTORY_START, TODAY),
        (date(2025, 12, 31), date(2026, 1, 1)),
    ]
    random.Random(3).shuffle(ranges)
    for number, (first, last) in enumerate(ranges):
        for spec in (LINES, DEBTORS, CREDITORS):
            load_range(simulator, store, spec, first, last, f"rerun-{number}")
    assert file_contents(store.raw_dir) == before
    # Unchanged files are left alone (not rewritten with a new _loaded_at): dbt builds over
    # an unchanged raw layer are skipped on that basis.
    assert _file_bytes(store.raw_dir) == before_bytes


def test_reloading_an_unchanged_snapshot_leaves_its_file_alone(
    simulator: Simulator, store: RawStore
) -> None:
    invoices = spec_by_name("Profit_Debtor_Invoices")  # several pages
    load_whole(simulator, store, invoices, "first")
    path = store.snapshot_path(invoices.name)
    before = path.read_bytes()
    load_whole(simulator, store, invoices, "again")
    assert path.read_bytes() == before
    simulator.environment.advance(days=2)
    load_whole(simulator, store, invoices, "later")
    assert without_load_columns(pl.read_parquet(path)).height != 0
    assert path.read_bytes() != before


def test_only_the_configured_administrations_are_read(
    simulator: Simulator, store: RawStore
) -> None:
    invoices = spec_by_name("Profit_Debtor_Invoices")
    days = DayRange.inclusive(HISTORY_START, TODAY)
    with client_for(simulator) as client:
        load_snapshot(client, store, invoices, administrations=[1, 3], run_id="some")
        load_days(client, store, LINES, days, administrations=[2], run_id="some")

    admin = pl.col(invoices.contract.administration_field)
    truth = simulator.environment.rows(invoices.name)
    expected = truth.filter(admin.is_in([1, 3])).sort(invoices.key)
    assert 0 < expected.height < truth.height
    loaded = without_load_columns(pl.read_parquet(store.snapshot_path(invoices.name)))
    assert loaded.sort(invoices.key).equals(expected)
    lines = without_load_columns(raw_days(store, LINES))
    assert lines.equals(simulator.environment.rows(LINES.name).filter(pl.col("UnitId") == 2))


def _file_bytes(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*.parquet"))}


def test_clock_moving_reflects_new_edited_and_deleted_records(
    start_simulator: Callable[..., Simulator], store: RawStore
) -> None:
    # Seed 21 has, within 20 days, new, edited and deleted entries and debtors.
    simulator = start_simulator(seed=21)
    env = simulator.environment
    _load_everything(simulator, store)
    load_whole(simulator, store, CHANGED, "full")
    with client_for(simulator) as client:  # the first check only records what it saw
        detect_deleted_journal_lines(
            client, store, LINES, _changed(store), administrations=[1, 2, 3], run_id="full"
        )
    before = {spec.name: env.rows(spec.name).select(spec.key) for spec in (LINES, DEBTORS)}

    happened = env.advance(days=20)
    for kind in ("entries_added", "entries_edited", "entries_deleted"):
        assert happened[kind], kind
    for kind in ("debtors_added", "debtors_changed", "debtors_deleted"):
        assert happened[kind], kind

    # What the schedules do: re-read the days since the last load, then the deletion checks.
    for spec in (LINES, DEBTORS, CREDITORS):
        load_range(simulator, store, spec, TODAY, env.now().date(), "after")
    load_whole(simulator, store, CHANGED, "after")
    with client_for(simulator) as client:
        report = detect_deleted_journal_lines(
            client, store, LINES, _changed(store), administrations=[1, 2, 3], run_id="after"
        )
        for spec in (DEBTORS, CREDITORS):
            detect_deleted_by_key_scan(client, store, spec, run_id="after")

    for spec in (LINES, DEBTORS, CREDITORS):
        live = without_load_columns(live_versions(store, spec)).sort(spec.key)
        assert live.equals(env.rows(spec.name).sort(spec.key)), spec.name

    for spec in (LINES, DEBTORS):
        gone = before[spec.name].join(env.rows(spec.name).select(spec.key), on=spec.key, how="anti")
        flagged = pl.read_parquet(store.history_files(spec.name, "deleted"))
        assert gone.height > 0
        if spec is LINES:
            assert report.deleted == gone.height  # the check reports what it flagged
        assert flagged.select(spec.key).sort(spec.key).equals(gone.sort(spec.key)), spec.name
        # The last known version stays visible, with when the deletion was seen.
        assert flagged["_deleted_seen_at"].null_count() == 0


def test_a_failed_load_leaves_every_partition_as_it_was(
    simulator: Simulator, store: RawStore
) -> None:
    load_range(simulator, store, LINES, HISTORY_START, TODAY, "good")
    before = file_contents(store.raw_dir)
    simulator.environment.advance(days=1)  # there is something new to read
    simulator.set_faults(
        only_paths=["/connectors/DWH_"], error_500_rate=0.3, burst_length=50, seed=11
    )

    with pytest.raises(ExtractError) as failure:
        load_range(
            simulator,
            store,
            LINES,
            HISTORY_START,
            TODAY + timedelta(days=1),
            "bad",
            administrations=[1, 2, 3],
        )

    message = str(failure.value)
    assert "DWH_Financiele_mutaties" in message
    assert "administration " in message
    assert "partition " in message
    assert "An unexpected error has occurred" in message
    assert "profitLogReference" in message or "log reference" in message.lower()
    assert file_contents(store.raw_dir) == before
    assert not list((store.data_dir / "tmp").glob("*/*")), "scratch files are cleaned up"


def test_a_disk_full_while_writing_day_files_replaces_no_day(
    start_simulator: Callable[..., Simulator], store: RawStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another ledger loaded over the first differs on every day; the disk fills up while its
    day files are written: no day is replaced (it was 6 of 59), nothing temporary is left."""
    load_range(start_simulator(journal_lines=1_500, seed=3), store, LINES, FIRST_DAYS, TODAY, "a")
    before = _file_bytes(store.raw_dir)
    other = start_simulator(journal_lines=1_500, seed=4)
    written = pl.DataFrame.write_parquet

    def fill_up(frame: pl.DataFrame, file: Path, *args: object, **kwargs: object) -> None:
        if str(file).endswith(".tmp") and fill_up.days >= 6:
            raise OSError(errno.ENOSPC, "No space left on device", str(file))
        fill_up.days += str(file).endswith(".tmp")
        written(frame, file, *args, **kwargs)  # type: ignore[arg-type]

    fill_up.days = 0  # type: ignore[attr-defined]
    monkeypatch.setattr(pl.DataFrame, "write_parquet", fill_up)
    with pytest.raises(OSError, match="No space left"):
        load_range(other, store, LINES, FIRST_DAYS, TODAY, "b")

    assert fill_up.days == 6  # type: ignore[attr-defined]  # the disk filled mid-way
    assert _file_bytes(store.raw_dir) == before
    assert not [p for p in store.raw_dir.rglob("*") if p.name.endswith(".tmp")]
    monkeypatch.undo()  # room again: the same load replaces every day
    load_range(other, store, LINES, FIRST_DAYS, TODAY, "c")
    truth = truth_by_day(other.environment.rows(LINES.name), "Mutatie_datum")
    assert raw_days(store, LINES).height == truth.filter(pl.col("_day") >= "2026-10-01").height


def test_dropped_connections_and_500s_mid_partition_are_retried(
    simulator: Simulator, store: RawStore
) -> None:
    simulator.set_faults(
        only_paths=["/connectors/DWH_"], error_500_rate=0.15, drop_rate=0.1, seed=5
    )
    # A quarter of all requests fail: with 10 attempts a request gives up once in ~10^6, so
    # the test is about retrying, not about luck (the production default is 6 attempts, 300 s).
    patient = RetryPolicy(max_attempts=10, initial_backoff=0.01, max_backoff=0.05, total_timeout=30)
    with client_for(simulator, retry=patient, max_concurrency=4) as client:
        report = load_days(
            client,
            store,
            LINES,
            DayRange.inclusive(HISTORY_START, TODAY),
            administrations=[1, 2, 3],
            run_id="faulty",
        )
    assert report.retries > 0
    truth = simulator.environment.rows(LINES.name)
    assert without_load_columns(raw_days(store, LINES)).equals(truth.sort(LINES.key))


def test_a_row_that_does_not_match_metainfo_is_reported_not_loaded(
    simulator: Simulator, store: RawStore
) -> None:
    class ExtraField(httpx.BaseTransport):
        """Adds a field AFAS's metainfo does not describe to the first row of a page."""

        def __init__(self) -> None:
            self.inner = httpx.HTTPTransport()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = self.inner.handle_request(request)
            if "/connectors/DWH_Financiele_mutaties" not in request.url.path:
                return response
            body = response.read()
            patched = body.replace(b'"UnitId":', b'"NewField":1,"UnitId":', 1)
            return httpx.Response(response.status_code, headers=response.headers, content=patched)

        def close(self) -> None:
            self.inner.close()

    client = client_for(simulator, http_client=httpx.Client(transport=ExtraField()))
    days = DayRange.inclusive(HISTORY_START, TODAY)
    with client, pytest.raises(ExtractError) as failure:
        load_days(client, store, LINES, days, administrations=[1], run_id="x")
    assert "NewField" in str(failure.value)
    assert not store.day_files(LINES.name)


def _changed(store: RawStore) -> pl.DataFrame:
    return pl.read_parquet(store.snapshot_path(CHANGED.name))
