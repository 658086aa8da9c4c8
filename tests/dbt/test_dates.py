"""The marts' "today" is Amsterdam's business date, passed to dbt by the pipeline, and an entry
dated after today (a pre-dated invoice) no longer stops the publication."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import polars as pl
import pytest

from afas_pipeline.extract.days import amsterdam_today
from tests.conftest import HISTORY_START, NOW, Pipeline
from tests.dbt.support import marts_connection, records

PRE_DATED = NOW.date() + timedelta(days=7)  # 2026-11-27: booked now, dated next week


def _sales_invoice(debtor: str, day: date) -> dict[str, Any]:
    """A sales invoice of 121.00 (100.00 + 21 % VAT) dated `day`, as FiEntries takes it."""
    line = {"EnDa": day.isoformat(), "BpDa": day.isoformat(), "InId": "PRE-0001"}
    lines = [
        {**line, "VaAs": "2", "AcNr": debtor, "AmDe": "121.00", "AmCr": "0.00"},
        {**line, "VaAs": "1", "AcNr": "8000", "AmDe": "0.00", "AmCr": "100.00", "VaId": "1"},
        {**line, "VaAs": "1", "AcNr": "1510", "AmDe": "0.00", "AmCr": "21.00", "VaId": "1"},
    ]
    header = {"Year": day.year, "Peri": day.month, "UnId": 1, "JoCo": "20"}
    return {
        "FiEntryPar": {
            "Element": {
                "Fields": header,
                "Objects": [{"FiEntries": {"Element": [{"Fields": f} for f in lines]}}],
            }
        }
    }


def test_a_pre_dated_invoice_is_published_and_aged_as_of_the_business_date(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """int_dates_as_of cut entries off at DuckDB's current_date (UTC) while the open items held
    every entry: a pre-dated invoice failed assert_aging_buckets_add_up, and nothing was
    published until its date passed."""
    environment = pipeline.simulator.environment
    debtors = environment.rows("DWH_Debiteuren").filter(~pl.col("Blocked"))
    debtor = debtors["DebtorId"][0]
    environment.post_fi_entry(_sales_invoice(debtor, PRE_DATED))
    business_day: Callable[[], date] = lambda: NOW.date()  # noqa: E731 - the pipeline's clock
    monkeypatch.setattr("afas_pipeline.defs.dbt.amsterdam_today", business_day)

    pipeline.run_ok(HISTORY_START, NOW.date())  # built, tested and published

    warehouse = pipeline.data_dir / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        today, data_as_of, as_of = con.execute(
            "select today, data_as_of_date, as_of_date from intermediate.int_dates_as_of"
        ).fetchone()
    assert today == NOW.date()  # what the pipeline passed, not DuckDB's clock
    assert data_as_of == PRE_DATED
    assert as_of <= NOW.date()
    with marts_connection(pipeline.data_dir) as marts:
        (item,) = records(marts, "select * from fct_ar_open_items where invoice_id = 'PRE-0001'")
        aged = records(
            marts,
            "select total_open, as_of_date from rpt_ar_aging "
            "where administration_id = 1 and debtor_id = ?",
            debtor,
        )
        (open_total,) = marts.execute(
            "select sum(open_amount) from fct_ar_open_items "
            "where administration_id = 1 and debtor_id = ?",
            [debtor],
        ).fetchone()
    assert item["open_amount"] == item["invoice_amount"] == 121
    assert item["invoice_date"] == PRE_DATED
    # Today's aging holds everything open but next week's invoice.
    assert sum(row["total_open"] for row in aged) == open_total - 121
    assert all(row["as_of_date"] == as_of for row in aged)


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2026, 11, 30, 23, 30, tzinfo=UTC), date(2026, 12, 1)),  # UTC is a day behind
        (datetime(2026, 6, 30, 22, 30, tzinfo=UTC), date(2026, 7, 1)),  # summer time: +2 h
        (datetime(2026, 11, 30, 22, 59, tzinfo=UTC), date(2026, 11, 30)),
    ],
)
def test_the_business_date_is_amsterdams(moment: datetime, day: date) -> None:
    assert amsterdam_today(moment) == day
