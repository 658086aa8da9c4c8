"""The awkward things real books contain, each present in the generated history and booked as
AFAS books it: collect accounts abroad, numbers that recur, credit notes, payments before their
invoices, migrated opening items, suspense cleared by hand, reverse charge and exempt VAT."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from afas_pipeline.simulator.environment import Environment, SimulatorConfig

# The size and clock of the pipeline tests (tests/conftest.py).
NOW = datetime(2026, 11, 20, 14, 30)


@pytest.fixture(scope="module")
def env() -> Environment:
    return Environment(SimulatorConfig(journal_lines=6_000, now=NOW))


@pytest.fixture(scope="module")
def lines(env: Environment) -> pl.DataFrame:
    return env.rows("DWH_Financiele_mutaties")


def test_a_supplier_invoice_number_recurs_at_other_creditors(lines: pl.DataFrame) -> None:
    """Two suppliers that number per year both send a "2026-0001": not a duplicate."""
    purchases = lines.filter((pl.col("JournalId") == "10") & pl.col("CreditorId").is_not_null())
    shared = purchases.group_by("UnitId", "InvoiceId").agg(pl.col("CreditorId").n_unique())
    assert shared.filter(pl.col("CreditorId") > 1).height >= 3
