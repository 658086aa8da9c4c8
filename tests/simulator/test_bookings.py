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


def test_services_from_abroad_are_reverse_charged(lines: pl.DataFrame) -> None:
    """Code 8: the cost line carries the code and its VAT; the VAT is booked both receivable
    (1500) and payable (1530), both with the code; the creditor is owed the net only."""
    entries = lines.filter(
        pl.struct("UnitId", "EntryNo").is_in(
            lines.filter(pl.col("VatCode") == "8")
            .select(pl.struct("UnitId", "EntryNo"))
            .to_series()
        )
    )
    assert entries.select("UnitId", "EntryNo").n_unique() >= 5
    per_entry = entries.group_by("UnitId", "EntryNo").agg(
        pl.col("AmtCredit").filter(pl.col("CreditorId").is_not_null()).sum().alias("owed"),
        pl.col("AccountNo").filter(pl.col("CreditorId").is_not_null()).first().alias("collect"),
        pl.col("AmtDebit").filter(pl.col("AccountNo") == "4320").sum().alias("net"),
        pl.col("VatAmt").filter(pl.col("AccountNo") == "4320").sum().alias("vat"),
        pl.col("AmtDebit").filter(pl.col("AccountNo") == "1500").sum().alias("receivable"),
        pl.col("AmtCredit").filter(pl.col("AccountNo") == "1530").sum().alias("payable"),
        pl.col("VatCode").filter(pl.col("AccountNo").is_in(["1500", "1530"])).unique(),
    )
    assert (per_entry["owed"] == per_entry["net"]).all()
    assert (per_entry["receivable"] == per_entry["vat"]).all()
    assert (per_entry["payable"] == per_entry["vat"]).all()
    assert (per_entry["vat"] > 0).all()
    assert set(per_entry["collect"]) == {"1610"}
    assert per_entry["VatCode"].to_list() == [["8"]] * per_entry.height


def test_exempt_sales_carry_the_code_and_no_vat(lines: pl.DataFrame) -> None:
    exempt = lines.filter(pl.col("VatCode") == "9")
    assert exempt.height >= 5
    assert set(exempt["AccountNo"]) == {"8030"}
    assert (exempt["VatAmt"] == 0).all()
