"""What AFAS shows of the books: the connectors' frames, typed exactly as the contract says.

Amounts are integer cents in `Books` and exact Decimal(18,2) here; times become naive datetimes
(AFAS's Amsterdam wall clock).
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from afas_pipeline.contract import (
    CREDITOR_INVOICES,
    CREDITORS,
    DEBTOR_INVOICES,
    DEBTORS,
    FINANCIAL_MUTATIONS,
    PERIOD_BALANCE,
)
from afas_pipeline.simulator import chart as c
from afas_pipeline.simulator.books import NULL_CENTS, Books, LineStore

_CENT = pl.lit(Decimal("0.01"), pl.Decimal(3, 2))


def cents_to_decimal(expr: pl.Expr) -> pl.Expr:
    """Int64 cents to Decimal(18,2), exactly (a decimal division would truncate the scale)."""
    return (expr.cast(pl.Decimal(18, 0)) * _CENT).cast(pl.Decimal(18, 2))


def journal_lines_frame(store: LineStore, *, unsigned_vat: bool) -> pl.DataFrame:
    """DWH_Financiele_mutaties: the live lines, with every contract field (the optional DimAx2
    last). The store keeps VatAmt signed on the VAT code's own side; `unsigned_vat` shows its
    absolute value instead (both conventions exist)."""
    s = pl.Series
    raw = pl.DataFrame(
        [
            s("UnitId", store.unit, pl.Int32),
            s("EntryNo", store.entry_no, pl.Int64),
            s("SeqNo", store.seq_no, pl.Int32),
            s("Year", store.year, pl.Int32),
            s("Period", store.period, pl.Int32),
            s("JournalId", store.journal, pl.String),
            s("AccountNo", store.account, pl.String),
            s("DebtorId", store.debtor, pl.String),
            s("CreditorId", store.creditor, pl.String),
            s("EntryDate", store.entry_date, pl.Int32),
            s("VoucherDate", store.voucher_date, pl.Int32),
            s("VoucherNo", store.voucher_no, pl.String),
            s("InvoiceId", store.invoice, pl.String),
            s("AmtDebit", store.debit, pl.Int64),
            s("AmtCredit", store.credit, pl.Int64),
            s("VatCode", store.vat_code, pl.String),
            s("VatAmt", store.vat_amt, pl.Int64),
            s("Description", store.description, pl.String),
            s("DimAx1", store.dim, pl.String),
            s("DimAx2", store.dim2, pl.String),
            s("Created", store.created, pl.Int64),
            s("Mutatie_datum", store.modified, pl.Int64),
            s("_alive", store.alive, pl.UInt8),
        ]
    )
    col = pl.col
    vat_amt = pl.when(col("VatAmt") != NULL_CENTS).then(col("VatAmt"))
    return (
        raw.filter(col("_alive") == 1)
        .with_columns(
            col("UnitId", "SeqNo", "Year", "Period").cast(pl.Int64),
            col("EntryDate", "VoucherDate").cast(pl.Date),
            cents_to_decimal(col("AmtDebit")),
            cents_to_decimal(col("AmtCredit")),
            cents_to_decimal(vat_amt.abs() if unsigned_vat else vat_amt).alias("VatAmt"),
            (col("Created", "Mutatie_datum") * 1_000_000).cast(pl.Datetime("us")),
        )
        .select(f.id for f in FINANCIAL_MUTATIONS.all_fields)
    )


def parties_frame(books: Books, side: str) -> pl.DataFrame:
    """DWH_Debiteuren (side "D") or DWH_Crediteuren ("C")."""
    book = books.debtors if side == "D" else books.creditors
    parties = sorted(book.values(), key=lambda p: (len(p.id), p.id))
    spec = DEBTORS if side == "D" else CREDITORS
    data: dict[str, list] = {
        spec.field_ids[0]: [p.id for p in parties],
        spec.field_ids[1]: [p.name for p in parties],
        "BcCo": [p.bcco for p in parties],
        "SearchName": [p.search for p in parties],
        "Email": [p.email for p in parties],
        "IBAN": [p.iban for p in parties],
        "VatNr": [p.vat_nr for p in parties],
        "ChOfCommNr": [p.kvk for p in parties],
        "CollectAccount": [p.collect for p in parties],
        "PayCon" if side == "D" else "PaymentCondition": [p.term for p in parties],
        "CreditLimit": [p.credit_limit for p in parties],
        "Blocked": [p.blocked for p in parties],
        "CreateDate": [p.created for p in parties],
        "Mutatie_datum": [p.modified for p in parties],
    }
    if side == "D":
        data["CurrencyId"] = ["EUR"] * len(parties)
    col = pl.col
    return (
        pl.DataFrame(
            data,
            schema_overrides={
                "CreditLimit": pl.Int64,
                "CreateDate": pl.Int64,
                "Mutatie_datum": pl.Int64,
            },
        )
        .with_columns(
            cents_to_decimal(col("CreditLimit")),
            (col("CreateDate", "Mutatie_datum") * 1_000_000).cast(pl.Datetime("us")),
        )
        .select(spec.field_ids)
    )


def open_items_frame(lines: pl.DataFrame, books: Books, side: str) -> pl.DataFrame:
    """Profit_Debtor_Invoices (side "D") or Profit_Creditor_Invoices ("C") from the live lines.

    One item per (administration, party, invoice number) while its balance is not zero. Its
    dates, amount and description are those of its invoice: the earliest entry (entry date, then
    entry number) in a sales / purchase journal that books the invoice's side (a debtor debit, a
    creditor credit), however low the entry numbers of payments booked before it. An item
    without one (a prepayment not yet invoiced, a migrated opening item) takes them from its
    earliest entry. AmtInvoice is that entry's amount on the item: a credit note on the number
    lowers the balance, not the invoice amount. ExpDate is the due date given (DaEx) or the
    voucher date plus the party's payment term.
    """
    spec = DEBTOR_INVOICES if side == "D" else CREDITOR_INVOICES
    f = spec.field_ids
    col = pl.col
    party, own_side = ("DebtorId", "AmtDebit") if side == "D" else ("CreditorId", "AmtCredit")
    other_side = "AmtCredit" if side == "D" else "AmtDebit"
    key = ["UnitId", party, "InvoiceId"]
    journal_types = {j.id: j.type for j in c.JOURNAL_TABLE}
    party_lines = lines.filter(col(party).is_not_null()).select(
        *key,
        "EntryNo",
        "SeqNo",
        "EntryDate",
        "VoucherDate",
        "Description",
        (col(own_side) - col(other_side)).alias("amount"),
        (
            (col("JournalId").replace_strict(journal_types, default="")
             == ("V" if side == "D" else "I"))
            & (col(own_side) > 0)
        ).alias("is_invoice"),
    )  # fmt: skip
    balances = (
        party_lines.group_by(key)
        .agg(col("amount").sum().alias("Balance"))
        .filter(col("Balance") != 0)
    )
    entry_amounts = party_lines.group_by(*key, "EntryNo").agg(
        col("amount").sum().alias("AmtInvoice")
    )
    source = party_lines.sort(
        [*key, "is_invoice", "EntryDate", "EntryNo", "SeqNo"],
        descending=[False, False, False, True, False, False, False],
    ).unique(subset=key, keep="first", maintain_order=True)
    terms = {
        p.id: int(p.term) for p in (books.debtors if side == "D" else books.creditors).values()
    }
    due = _due_days_frame(books)
    dec = pl.Decimal(18, 2)
    return (
        balances.join(source, on=key)
        .join(entry_amounts, on=[*key, "EntryNo"])
        .join(due, on=["UnitId", "EntryNo", "SeqNo"], how="left")
        .with_columns(
            pl.coalesce(
                col("DueDate"),
                col("VoucherDate")
                + pl.duration(days=col(party).replace_strict(terms, return_dtype=pl.Int64)),
            ).alias(f[4]),
            pl.lit("EUR").alias(f[5]),
            col("AmtInvoice").cast(dec),
            col("Balance").cast(dec),
        )
        .sort("UnitId", col(party).str.len_chars(), party, "InvoiceId")
        .select(
            "UnitId",
            party,
            col("InvoiceId").alias(f[2]),
            col("VoucherDate").alias(f[3]),
            f[4],
            f[5],
            "AmtInvoice",
            "Balance",
            "Description",
        )
    )


def _due_days_frame(books: Books) -> pl.DataFrame:
    """The due dates given explicitly (FiEntries' DaEx), per line."""
    keys = list(books.due_days)
    return pl.DataFrame(
        {
            "UnitId": pl.Series([k[0] for k in keys], dtype=pl.Int64),
            "EntryNo": pl.Series([k[1] for k in keys], dtype=pl.Int64),
            "SeqNo": pl.Series([k[2] for k in keys], dtype=pl.Int64),
            "DueDate": pl.Series(list(books.due_days.values()), dtype=pl.Int32).cast(pl.Date),
        }
    )


def changed_days_frame(books: Books) -> pl.DataFrame:
    """Profit_Fin_ChangedEntrydate: every entry date whose lines changed, and when last."""
    days = sorted(books.changed_days)
    return pl.DataFrame(
        {
            "EntryDate": pl.Series(days, dtype=pl.Int32).cast(pl.Date),
            "Modified": (
                pl.Series([books.changed_days[d] for d in days], dtype=pl.Int64) * 1_000_000
            ).cast(pl.Datetime("us")),
        }
    )


def period_balance_frame(lines: pl.DataFrame, first_year: int, last_year: int) -> pl.DataFrame:
    """Profit_Period_balance: AFAS's movement per administration, period and account from the
    live lines, and period 0 of every later year as AFAS's year end (jaarafsluiting) computes it.

    The first year's period 0 is the sum of its lines (the opening balance), as any period is.
    Period 0 of a year Y after it has no lines: it holds, per balance-sheet account, the balance
    at the end of Y - 1 (all its lines up to then, from the first period 0 on), and the result
    account (`chart.RESULT`) also carries the results of every year up to Y - 1, as the P&L
    accounts start every year from zero. A debit balance shows as Debit, a credit balance as
    Credit; an account whose balance is zero has no row. Recomputed from the current lines, so
    a late change to an earlier year moves the periods 0 after it."""
    dec = pl.Decimal(18, 2)
    col = pl.col
    movements = lines.group_by("UnitId", "Year", "Period", col("AccountNo").alias("AccountNr")).agg(
        col("AmtDebit").sum().cast(dec).alias("Debit"),
        col("AmtCredit").sum().cast(dec).alias("Credit"),
    )
    accounts = pl.DataFrame(
        {"AccountNr": [a.number for a in c.CHART], "AccountDesc": [a.description for a in c.CHART]}
    )
    return (
        pl.concat([movements, _opening_balances(movements, first_year, last_year)])
        .with_columns((col("Debit") - col("Credit")).cast(dec).alias("Balance"))
        .join(accounts, on="AccountNr", how="left")
        .select(PERIOD_BALANCE.field_ids)
        .sort("UnitId", "Year", "Period", "AccountNr")
    )


def _opening_balances(movements: pl.DataFrame, first_year: int, last_year: int) -> pl.DataFrame:
    """Period 0 of the years first_year + 1 .. last_year, from the movements per period."""
    col, dec = pl.col, pl.Decimal(18, 2)
    profit_and_loss = [a.number for a in c.CHART if a.type == "W"]
    per_year = (
        movements.filter(col("Year") < last_year)
        .with_columns(
            pl.when(col("AccountNr").is_in(profit_and_loss))
            .then(pl.lit(c.RESULT))
            .otherwise(col("AccountNr"))
            .alias("AccountNr")
        )
        .group_by("UnitId", "Year", "AccountNr")
        .agg((col("Debit") - col("Credit")).sum().alias("net"))
    )
    closed = pl.DataFrame({"closed": pl.int_range(first_year, last_year, eager=True)})
    zero = pl.lit(0).cast(dec)
    return (
        per_year.join(closed.cast(pl.Int64), how="cross")
        .filter(col("Year") <= col("closed"))
        .group_by("UnitId", "closed", "AccountNr")
        .agg(col("net").sum().cast(dec))
        .filter(col("net") != 0)
        .select(
            "UnitId",
            (col("closed") + 1).alias("Year"),
            pl.lit(0, pl.Int64).alias("Period"),
            "AccountNr",
            pl.max_horizontal(col("net"), zero).alias("Debit"),
            pl.max_horizontal(-col("net"), zero).alias("Credit"),
        )
    )
