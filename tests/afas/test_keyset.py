"""Keyset paging: every page asks for the rows after the last key seen, so records deleted while
a connector is being read cannot shift rows past the reader (as they can with skip/take)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import polars as pl
import pytest
from starlette.testclient import TestClient

from afas_pipeline.afas import AfasClient, AfasSettings, F
from afas_pipeline.contract import order_keys
from afas_pipeline.simulator.app import create_app
from afas_pipeline.simulator.environment import Environment, SimulatorConfig

LINES = "DWH_Financiele_mutaties"
KEY = ["UnitId", "EntryNo", "SeqNo"]


@pytest.fixture
def environment() -> Environment:
    return Environment(SimulatorConfig(journal_lines=1500, now=datetime(2026, 11, 20, 14, 30)))


@pytest.fixture
def client(environment: Environment) -> Iterator[AfasClient]:
    http = TestClient(create_app(environment), base_url="http://testserver")
    settings = AfasSettings.create(
        token=environment.config.token_data, base_url="http://testserver/ProfitRestServices"
    )
    with AfasClient(settings, http_client=http, order_keys=order_keys()) as afas:
        yield afas


def test_keyset_pages_return_every_row_once_in_key_order(
    client: AfasClient, environment: Environment
) -> None:
    pages = list(client.iter_pages(LINES, page_size=97, keyset=True))

    loaded = pl.concat([page.frame for page in pages])
    assert loaded.equals(environment.rows(LINES).sort(KEY))
    assert all(page.skip == 0 for page in pages)  # never a large skip
    assert len(pages) == loaded.height // 97 + 1


@pytest.mark.parametrize("keyset", [True, False], ids=["keyset", "skip-take"])
def test_a_deletion_during_the_read(
    client: AfasClient, environment: Environment, keyset: bool
) -> None:
    """Keyset paging loses no row; skip/take (shown for contrast) skips as many rows as were
    deleted before its offset."""
    # Recent entries of one administration: their periods are open, so they can be deleted.
    recent = (F("UnitId") == 2) & (F("EntryDate") >= date(2026, 10, 1))
    pages = client.iter_pages(LINES, filter=recent, page_size=40, keyset=keyset)
    first = next(pages).frame
    entry = _deletable_entry(first)
    environment.delete_fi_entry(entry["UnitId"], entry["JournalId"], entry["EntryNo"])
    rest = pl.concat([page.frame for page in pages])

    now = environment.rows(LINES).filter(
        (pl.col("UnitId") == 2) & (pl.col("EntryDate") >= date(2026, 10, 1))
    )
    expected_rest = now.join(first.select(KEY), on=KEY, how="anti")
    missed = expected_rest.join(rest.select(KEY), on=KEY, how="anti").height
    deleted = first.filter(pl.col("EntryNo") == entry["EntryNo"]).height
    assert missed == (0 if keyset else deleted)


def _deletable_entry(frame: pl.DataFrame) -> dict:
    # A memorial entry on a debtor or creditor (a suspense clearing) is matched: not that one.
    matched = frame.filter(pl.col("DebtorId").is_not_null() | pl.col("CreditorId").is_not_null())
    memorial = frame.filter(pl.col("JournalId") == "80").join(
        matched.select("UnitId", "EntryNo"), on=["UnitId", "EntryNo"], how="anti"
    )
    assert memorial.height, "the first page should hold a memorial entry"
    return memorial.sort(KEY).row(0, named=True)
