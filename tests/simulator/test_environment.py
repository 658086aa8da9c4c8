"""The environment as the HTTP layer and the pipeline see it: types, determinism, the clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import polars as pl
import pytest

from afas_pipeline.contract import CONNECTORS
from afas_pipeline.simulator import chart
from afas_pipeline.simulator.environment import (
    Environment,
    SimulatorConfig,
    UnknownConnectorError,
)

NOW = datetime(2026, 3, 10, 14, 30)
SMALL = SimulatorConfig(journal_lines=3000, now=NOW)
# Enough daily activity that a few weeks certainly contain edits and deletions.
BUSY = SimulatorConfig(journal_lines=20_000, now=NOW, history_days=120)


@pytest.fixture(scope="module")
def env() -> Environment:
    return Environment(SMALL)


def _all_rows(env: Environment) -> dict[str, pl.DataFrame]:
    return {cid: env.rows(cid) for cid in CONNECTORS}


@pytest.mark.parametrize("connector_id", list(CONNECTORS))
def test_columns_and_dtypes_follow_the_contract(env: Environment, connector_id: str) -> None:
    spec = env.served_spec(connector_id)
    frame = env.rows(connector_id)
    assert frame.columns == list(spec.field_ids)
    # The contract's fields, and its optional ones (DimAx2) last, as this environment has them.
    contract = CONNECTORS[connector_id]
    assert spec.fields == contract.fields + contract.optional_fields
    for f in spec.fields:
        dtype = frame.schema[f.id]
        if f.data_type == "decimal":
            assert dtype == pl.Decimal(18, 2) or (f.id == "VatPerc" and dtype == pl.Decimal(5, 2))
        else:
            assert dtype == chart.polars_type(f.data_type), f.id
    assert frame.height > 0
    assert frame.select(spec.key).is_duplicated().sum() == 0


def test_an_environment_without_the_cost_carrier_field() -> None:
    """`cost_carrier_field=False`: DWH_Financiele_mutaties lacks the optional DimAx2, as a
    connector set up without it; the rest of the rows is the same."""
    with_it = Environment(SMALL).rows("DWH_Financiele_mutaties")
    without = Environment(replace(SMALL, cost_carrier_field=False))
    served = without.served_spec("DWH_Financiele_mutaties")
    assert served.field_ids == CONNECTORS["DWH_Financiele_mutaties"].field_ids
    rows = without.rows("DWH_Financiele_mutaties")
    assert rows.columns == list(CONNECTORS["DWH_Financiele_mutaties"].field_ids)
    assert rows.equals(with_it.drop("DimAx2"))
    assert with_it["DimAx2"].drop_nulls().len() > 0


def test_unknown_connector(env: Environment) -> None:
    with pytest.raises(UnknownConnectorError):
        env.rows("Profit_Nonexistent")


def test_rows_are_cached_until_something_changes(env: Environment) -> None:
    assert env.rows("DWH_Financiele_mutaties") is env.rows("DWH_Financiele_mutaties")


def test_same_seed_same_data_other_seed_other_data() -> None:
    a, b = _all_rows(Environment(SMALL)), _all_rows(Environment(SMALL))
    assert all(a[k].equals(b[k]) for k in a)
    other = Environment(SimulatorConfig(journal_lines=3000, now=NOW, seed=7))
    assert not other.rows("DWH_Financiele_mutaties").equals(a["DWH_Financiele_mutaties"])


def test_advance_granularity_does_not_matter() -> None:
    one, many = Environment(SMALL), Environment(SMALL)
    one.advance(days=3)
    for _ in range(7):
        many.advance(days=3 / 7)
    many.advance(to=NOW + timedelta(days=3))
    a, b = _all_rows(one), _all_rows(many)
    assert all(a[k].equals(b[k]) for k in a), [k for k in a if not a[k].equals(b[k])]
    # Generating the longer history at once gives the same activity in the last three days.
    assert one.now() == NOW + timedelta(days=3)


def test_advance_adds_edits_and_deletes() -> None:
    env = Environment(BUSY)
    before = env.rows("DWH_Financiele_mutaties")
    debtors_before = env.rows("DWH_Debiteuren")
    counts = env.advance(days=60)
    assert counts["entries_added"] > 50
    assert counts["entries_edited"] > 0
    assert counts["entries_deleted"] > 0
    assert counts["debtors_added"] + counts["debtors_changed"] > 0
    after = env.rows("DWH_Financiele_mutaties")
    assert after.height > before.height
    new = after.filter(pl.col("Mutatie_datum") > NOW)
    assert new["Mutatie_datum"].max() <= env.now()
    edited = new.filter(pl.col("Created") <= NOW)
    assert edited.height > 0  # old lines that were changed moved to a later Mutatie_datum
    moved = env.rows("DWH_Debiteuren").filter(pl.col("Mutatie_datum") > NOW)
    assert moved.height > 0
    assert not env.rows("DWH_Debiteuren").equals(debtors_before)


def test_mutatie_datum_never_before_created(env: Environment) -> None:
    for cid, created in (("DWH_Financiele_mutaties", "Created"), ("DWH_Debiteuren", "CreateDate")):
        frame = env.rows(cid)
        assert frame.filter(pl.col("Mutatie_datum") < pl.col(created)).is_empty()
        assert frame["Mutatie_datum"].max() <= NOW
    lines = env.rows("DWH_Financiele_mutaties")
    assert lines.filter(pl.col("Created").dt.date() < pl.col("EntryDate")).is_empty()


def test_late_evening_and_dst_changes_exist(env: Environment) -> None:
    changed = env.rows("DWH_Financiele_mutaties")["Mutatie_datum"]
    assert (changed.dt.time() >= time(23, 59)).sum() >= 5
    # The weekly 02:xx job: in October's repeated hour it runs at 02:xx, in March that hour
    # does not exist on AFAS's clock and it runs an hour later.
    for dst_day, hour in ((date(2025, 3, 30), 3), (date(2025, 10, 26), 2)):
        on_day = changed.filter(changed.dt.date() == dst_day)
        assert (on_day.dt.hour() == hour).sum() >= 1, dst_day
    modified = env.rows("Profit_Fin_ChangedEntrydate")["Modified"]
    assert (modified.dt.time() >= time(23, 59)).sum() >= 1


def test_no_time_falls_in_the_skipped_spring_hour() -> None:
    # A clock moved into the skipped hour lands after it, and so does everything booked then.
    env = Environment(SimulatorConfig(journal_lines=2_000, now=datetime(2026, 3, 28, 2, 30)))
    env.advance(days=1)
    assert env.now() == datetime(2026, 3, 29, 3, 30)
    times = pl.concat(
        [
            env.rows("DWH_Financiele_mutaties").select(pl.col("Mutatie_datum").alias("t")),
            env.rows("DWH_Financiele_mutaties").select(pl.col("Created").alias("t")),
            env.rows("DWH_Debiteuren").select(pl.col("Mutatie_datum").alias("t")),
            env.rows("Profit_Fin_ChangedEntrydate").select(pl.col("Modified").alias("t")),
        ]
    )["t"]
    skipped = [(date(2025, 3, 30), 2), (date(2026, 3, 29), 2)]
    for day, hour in skipped:
        assert times.filter((times.dt.date() == day) & (times.dt.hour() == hour)).is_empty()


def test_changed_entry_dates_cover_every_line_change(env: Environment) -> None:
    lines = env.rows("DWH_Financiele_mutaties")
    changed = env.rows("Profit_Fin_ChangedEntrydate")
    latest = lines.group_by("EntryDate").agg(pl.col("Mutatie_datum").max())
    joined = latest.join(changed, on="EntryDate", how="left")
    assert joined.filter(
        pl.col("Modified").is_null() | (pl.col("Modified") < pl.col("Mutatie_datum"))
    ).is_empty()


def test_deleted_entries_vanish_and_mark_their_entry_date() -> None:
    env = Environment(BUSY)
    lines = env.rows("DWH_Financiele_mutaties")
    keys_before = set(lines.select("UnitId", "EntryNo").unique().iter_rows())
    counts = env.advance(days=20)
    assert counts["entries_deleted"] > 0
    after = env.rows("DWH_Financiele_mutaties")
    keys_after = set(after.select("UnitId", "EntryNo").unique().iter_rows())
    gone = keys_before - keys_after
    assert gone
    changed = env.rows("Profit_Fin_ChangedEntrydate")
    for unit, entry_no in gone:
        day = lines.filter((pl.col("UnitId") == unit) & (pl.col("EntryNo") == entry_no))[
            "EntryDate"
        ][0]
        modified = changed.filter(pl.col("EntryDate") == day)["Modified"].item()
        assert NOW < modified <= env.now()


def test_deleted_debtors_had_no_lines() -> None:
    env = Environment(BUSY)
    seen = set(env.rows("DWH_Debiteuren")["DebtorId"])
    for _ in range(10):
        env.advance(days=15)
        seen |= set(env.rows("DWH_Debiteuren")["DebtorId"])
    after = set(env.rows("DWH_Debiteuren")["DebtorId"])
    used = set(env.rows("DWH_Financiele_mutaties")["DebtorId"].drop_nulls())
    assert seen - after  # some debtors were deleted
    assert not (seen - after) & used
    assert used <= after


def test_periods_and_blocking(env: Environment) -> None:
    periods = env.rows("Profit_periods_per_administration")
    assert set(periods["Year"]) == {2024, 2025, 2026}
    blocked = {
        (r["Unit"], r["Year"], r["Period"]) for r in periods.iter_rows(named=True) if r["Blocked"]
    }
    assert {(1, 2025, 12), (2, 2025, 12), (3, 2025, 11)} <= blocked
    assert not {(1, 2026, 1), (2, 2026, 1), (3, 2026, 2)} & blocked
    lines = env.rows("DWH_Financiele_mutaties")
    recent = lines.filter(pl.col("Created") > NOW - timedelta(days=1))
    assert all(
        (r[0], r[1], r[2]) not in blocked
        for r in recent.select("UnitId", "Year", "Period").iter_rows()
    )


def test_reference_data(env: Environment) -> None:
    admins = env.rows("Profit_Administrations")
    assert admins["AdminId"].to_list() == [1, 2, 3]
    accounts = env.rows("Profit_Accounts")
    collect = set(accounts.filter(pl.col("CollectAccount"))["Account"])
    assert collect == {"1300", "1310", "1600", "1610"}
    journals = env.rows("Profit_Journals")
    assert set(journals["JournalType"]) == {"I", "V", "K", "B", "M"}
    debtors = env.rows("DWH_Debiteuren")
    home = debtors.filter(pl.col("CollectAccount") == "1300")
    abroad = debtors.filter(pl.col("CollectAccount") == "1310")
    assert home.height > abroad.height > 0
    assert home["IBAN"].str.contains(r"^NL\d{2}[A-Z]{4}\d{10}$").all()
    assert home["VatNr"].str.contains(r"^NL\d{9}B01$").all()
    # Abroad: most in the EU (ICP supplies need their VAT number), some outside it (exports).
    country = abroad["IBAN"].str.slice(0, 2)
    assert set(country) == {"BE", "DE", "GB", "CH"}
    assert 0 < country.is_in(["GB", "CH"]).sum() < country.is_in(["BE", "DE"]).sum()
    assert (abroad["VatNr"].str.slice(0, 2) == country).all()
    assert (
        abroad["IBAN"].str.contains(r"^(BE\d{14}|DE\d{20}|GB\d{2}[A-Z]{4}\d{14}|CH\d{19})$").all()
    )
    assert abroad["VatNr"].str.contains(r"^(BE0\d{9}|DE\d{9}|GB\d{9}|CHE\d{9}MWST)$").all()
    assert abroad["ChOfCommNr"].is_null().all()  # no Dutch KvK number; empty is null
    assert home["ChOfCommNr"].is_not_null().all()
    creditors = env.rows("DWH_Crediteuren")
    foreign = creditors.filter(pl.col("CollectAccount") == "1610")
    assert set(foreign["CreditorName"]) >= {
        "Microsoft Ireland Operations Ltd.",
        "Google Cloud EMEA Ltd.",
        "Proton AG",
        "Xero (UK) Ltd.",
    }
    assert foreign["IBAN"].str.contains(r"^(IE\d{2}|GB\d{2})[A-Z]{4}\d{14}$|^CH\d{19}$").all()
    assert (foreign["VatNr"].str.slice(0, 2) == foreign["IBAN"].str.slice(0, 2)).all()
    ibans = pl.concat([debtors["IBAN"], creditors["IBAN"]]).to_list()
    assert all(_iban_is_valid(iban) for iban in ibans)


def _iban_is_valid(iban: str) -> bool:
    """ISO 13616: the rearranged IBAN, letters as numbers, is 1 modulo 97."""
    return int("".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])) % 97 == 1


def test_planted_follow_the_clock() -> None:
    env = Environment(SMALL)
    before = env.planted
    env.advance(days=200)
    after = env.planted
    assert len(after.vat_mismatches) > len(before.vat_mismatches)
    assert len(after.duplicate_invoices) > len(before.duplicate_invoices)


@pytest.mark.parametrize(
    ("convention", "on_debit"), [("unsigned", "21.00"), ("own_side", "-21.00")]
)
def test_vat_amount_sign_conventions(convention: str, on_debit: str) -> None:
    """A sales credit note's debit revenue line: VatAmt positive "as on its invoice", or signed
    on the code's own side (credit - debit); invoices and VAT lines look the same in both."""
    env = Environment(replace(SMALL, vat_amount_sign=convention))
    day = {"EnDa": "2026-03-10", "BpDa": "2026-03-10"}
    lines = [
        {"Fields": {"VaAs": "2", "AcNr": "10001", "AmCr": "121.00", "InId": "CN-1", **day}},
        {"Fields": {"VaAs": "1", "AcNr": "8000", "AmDe": "100.00", "VaId": "1", **day}},
        {"Fields": {"VaAs": "1", "AcNr": "1510", "AmDe": "21.00", "VaId": "1", **day}},
    ]
    header = {"Year": 2026, "Peri": 3, "UnId": 1, "JoCo": "20"}
    body = {
        "FiEntryPar": {
            "Element": {"Fields": header, "Objects": [{"FiEntries": {"Element": lines}}]}
        }
    }
    entry_no = int(env.post_fi_entry(body)["EnNo"])
    all_lines = env.rows("DWH_Financiele_mutaties")
    posted = all_lines.filter((pl.col("UnitId") == 1) & (pl.col("EntryNo") == entry_no))
    assert posted["VatAmt"].to_list() == [None, Decimal(on_debit), None]
    invoices = all_lines.filter((pl.col("JournalId") == "20") & (pl.col("AmtCredit") > 0))
    revenue = invoices.filter(pl.col("AccountNo").is_in(["8000", "8010"]))
    assert revenue.height > 0
    assert (revenue["VatAmt"] > 0).all()
    vat_lines = all_lines.filter(pl.col("AccountNo").is_in(list(chart.VAT_ACCOUNTS)))
    assert vat_lines["VatAmt"].null_count() == vat_lines.height


def test_summary(env: Environment) -> None:
    s = env.summary()
    assert s["seed"] == 42
    assert s["now"] == NOW.isoformat()
    assert s["connectors"]["DWH_Financiele_mutaties"] == env.rows("DWH_Financiele_mutaties").height


def test_live_clock_follows_wall_time() -> None:
    env = Environment(SimulatorConfig(journal_lines=500, history_days=30, live_clock=True))
    first = env.now()
    assert abs(first - datetime.now().replace(microsecond=0)) < timedelta(days=1)
    assert env.now() >= first


def test_a_connector_can_lose_fields_and_serve_the_optional_ones() -> None:
    env = Environment(SMALL)
    lines = "DWH_Financiele_mutaties"
    env.remove_fields(lines, ["VatAmt"])
    assert "VatAmt" not in env.rows(lines).columns
    assert "VatAmt" not in env.served_spec(lines).field_ids
    assert "VatAmt" in CONNECTORS[lines].field_ids  # the contract is untouched
    with pytest.raises(ValueError, match="has no fields"):
        env.remove_fields(lines, ["Nope"])
    env.remove_fields(lines, ["DimAx2"])  # an optional field can be removed too
    assert env.rows(lines).columns == list(CONNECTORS[lines].field_ids)
    env.remove_fields(lines, [])
    frame = env.rows(lines)
    assert frame.columns == [*CONNECTORS[lines].field_ids, "DimAx2"]
    assert frame["DimAx2"].drop_nulls().len() > 0


def test_silent_edits_leave_no_trace_an_incremental_read_could_see() -> None:
    env = Environment(SMALL)
    lines = env.rows("DWH_Financiele_mutaties")
    changed_days = env.rows("Profit_Fin_ChangedEntrydate")
    balances = env.rows("Profit_Period_balance")
    row = lines.filter(pl.col("JournalId") == "80").row(0, named=True)
    key = {k: row[k] for k in ("UnitId", "EntryNo", "SeqNo")}

    assert env.silent_edit("DWH_Financiele_mutaties", key, {"Description": "stil"}) == 1
    match = pl.all_horizontal(pl.col(k) == v for k, v in key.items())
    line = env.rows("DWH_Financiele_mutaties").filter(match).row(0, named=True)
    assert (line["Description"], line["Mutatie_datum"]) == ("stil", row["Mutatie_datum"])
    assert env.silent_edit("DWH_Financiele_mutaties", key, None) == 1  # and deleted
    after = env.rows("DWH_Financiele_mutaties")
    assert after.height == lines.height - 1
    assert env.rows("Profit_Fin_ChangedEntrydate").equals(changed_days)  # not reported
    assert not env.rows("Profit_Period_balance").equals(balances)  # AFAS's balance knows
    with pytest.raises(ValueError, match="cannot set 'Mutatie_datum'"):
        env.silent_edit("DWH_Financiele_mutaties", key, {"Mutatie_datum": "2026-01-01"})
    with pytest.raises(ValueError, match="change-tracked connectors"):
        env.silent_edit("Profit_Accounts", {"Account": "1000"}, None)
    assert env.undo_silent_edits() == 2
    assert env.rows("DWH_Financiele_mutaties").equals(lines)
