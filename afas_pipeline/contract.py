"""The connector contract: which AFAS connectors the pipeline reads and what their fields are.

This is `../shared/afas-connectors.md` as data. The client validates rows against metainfo, the
extraction validates metainfo against this contract (`ConnectorSpec.check_metainfo`), the
simulator serves these fields, and the extract assets are built from this list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from afas_pipeline.afas.errors import AfasSchemaError

DataType = Literal["int", "string", "decimal", "date", "datetime", "boolean"]
ConnectorKind = Literal["change_tracked", "reference", "control"]


@dataclass(frozen=True)
class FieldSpec:
    """One field of a GetConnector: `data_type` is what it means. AFAS's metainfo says "date"
    for a "datetime" (it has no such type); the other types are metainfo's own."""

    id: str
    data_type: DataType
    label: str
    length: int = 0
    decimals: int = 0
    # An environment whose connector lacks the field still loads (the field is then null).
    optional: bool = False


# The metainfo dataTypes that hold what a contract type means: AFAS has no "datetime" (it says
# "date"; an old simulator said "datetime"), and long text may come as a "blob".
_COMPATIBLE: dict[str, frozenset[str]] = {
    "datetime": frozenset({"date", "datetime"}),
    "string": frozenset({"string", "blob"}),
}


@dataclass(frozen=True)
class ConnectorSpec:
    """A GetConnector the pipeline reads: its key, and how changes to it are tracked."""

    id: str
    description: str
    # The fields every environment's connector has, in row order.
    fields: tuple[FieldSpec, ...]
    key: tuple[str, ...]
    kind: ConnectorKind
    # The field holding the record's last change; set on change-tracked connectors only.
    modification_field: str | None = None
    # The field naming the administration, when rows belong to one.
    administration_field: str | None = None
    amount_fields: tuple[str, ...] = field(default=())
    # Fields an environment's connector may lack (afas-connectors.md marks them optional).
    optional_fields: tuple[FieldSpec, ...] = field(default=())

    @property
    def partitioned(self) -> bool:
        return self.modification_field is not None

    @property
    def field_ids(self) -> tuple[str, ...]:
        """The ids of the fields every environment has (not the optional ones)."""
        return tuple(f.id for f in self.fields)

    @property
    def all_fields(self) -> tuple[FieldSpec, ...]:
        """Every contract field, the optional ones last: what the raw layer stores."""
        return self.fields + self.optional_fields

    def field(self, field_id: str) -> FieldSpec:
        for f in self.all_fields:
            if f.id == field_id:
                return f
        raise KeyError(f"connector {self.id!r} has no field {field_id!r}")

    def check_metainfo(self, data_types: Mapping[str, str], connector_id: str) -> None:
        """Refuse a connector whose live metainfo (field id -> dataType) lost a contract field
        or gives one another type: its rows would load silently and mean something else (a
        connector without `VatAmt` turned 4 proposed VAT corrections into 314)."""
        problems = []
        for spec in self.all_fields:
            found = data_types.get(spec.id)
            if found is None:
                if not spec.optional:
                    problems.append(f"field {spec.id!r} ({spec.data_type}) is missing")
            elif found not in _COMPATIBLE.get(spec.data_type, {spec.data_type}):
                problems.append(
                    f"field {spec.id!r} is {found!r}, the contract says {spec.data_type}"
                )
        if problems:
            raise AfasSchemaError(
                f"connector {connector_id} does not match the contract of {self.id}: "
                f"{'; '.join(problems)}. An AFAS administrator must restore the field(s) in the "
                "GetConnector (afas-connectors.md); nothing was read",
                connector_id=connector_id,
                field=problems[0].split("'")[1],
            )


def _s(id: str, label: str, length: int = 50, *, optional: bool = False) -> FieldSpec:
    return FieldSpec(id, "string", label, length, optional=optional)


def _i(id: str, label: str) -> FieldSpec:
    return FieldSpec(id, "int", label, 9)


def _d(id: str, label: str) -> FieldSpec:
    return FieldSpec(id, "decimal", label, 18, 2)


def _date(id: str, label: str) -> FieldSpec:
    return FieldSpec(id, "date", label, 10)


def _dt(id: str, label: str) -> FieldSpec:
    return FieldSpec(id, "datetime", label, 19)


def _b(id: str, label: str) -> FieldSpec:
    return FieldSpec(id, "boolean", label, 1)


def _spec(
    id: str,
    description: str,
    fields: list[FieldSpec],
    key: tuple[str, ...],
    kind: ConnectorKind,
    *,
    modification_field: str | None = None,
    administration_field: str | None = None,
) -> ConnectorSpec:
    amounts = tuple(f.id for f in fields if f.data_type == "decimal")
    return ConnectorSpec(
        id=id,
        description=description,
        fields=tuple(f for f in fields if not f.optional),
        key=key,
        kind=kind,
        modification_field=modification_field,
        administration_field=administration_field,
        amount_fields=amounts,
        optional_fields=tuple(f for f in fields if f.optional),
    )


FINANCIAL_MUTATIONS = _spec(
    "DWH_Financiele_mutaties",
    "Financiële mutaties met mutatiedatum (DWH)",
    [
        _i("UnitId", "Administratie"),
        _i("EntryNo", "Nummer journaalpost"),
        _i("SeqNo", "Volgnummer journaalpost"),
        _i("Year", "Boekjaar"),
        _i("Period", "Periodenummer"),
        _s("JournalId", "Code dagboek", 6),
        _s("AccountNo", "Rekeningnummer", 16),
        _s("DebtorId", "Nummer debiteur", 16),
        _s("CreditorId", "Nummer crediteur", 16),
        _date("EntryDate", "Datum boeking"),
        _date("VoucherDate", "Boekstukdatum"),
        _s("VoucherNo", "Boekstuknummer", 32),
        _s("InvoiceId", "Factuurnummer", 12),
        _d("AmtDebit", "Bedrag debet"),
        _d("AmtCredit", "Bedrag credit"),
        _s("VatCode", "Btw-code", 3),
        _d("VatAmt", "Btw-bedrag"),
        _s("Description", "Omschrijving boeking", 255),
        _s("DimAx1", "Kostenplaats", 16),
        _s("DimAx2", "Kostendrager", 16, optional=True),
        _dt("Created", "Datum toegevoegd"),
        _dt("Mutatie_datum", "Mutatie datum"),
    ],
    ("UnitId", "EntryNo", "SeqNo"),
    "change_tracked",
    modification_field="Mutatie_datum",
    administration_field="UnitId",
)

DEBTORS = _spec(
    "DWH_Debiteuren",
    "Debiteuren met mutatiedatum (DWH)",
    [
        _s("DebtorId", "Nummer debiteur", 16),
        _s("DebtorName", "Naam debiteur", 255),
        _s("BcCo", "Nummer organisatie/persoon", 15),
        _s("SearchName", "Zoeknaam", 10),
        _s("Email", "E-mail", 255),
        _s("IBAN", "IBAN", 34),
        _s("VatNr", "Btw-nummer", 20),
        _s("ChOfCommNr", "Nummer KvK", 20),
        _s("CollectAccount", "Verzamelrekening", 16),
        _s("PayCon", "Betalingsvoorwaarde", 5),
        _d("CreditLimit", "Kredietlimiet"),
        _s("CurrencyId", "Valuta", 3),
        _b("Blocked", "Geblokkeerd"),
        _dt("CreateDate", "Aanmaakdatum"),
        _dt("Mutatie_datum", "Mutatie datum"),
    ],
    ("DebtorId",),
    "change_tracked",
    modification_field="Mutatie_datum",
)

CREDITORS = _spec(
    "DWH_Crediteuren",
    "Crediteuren met mutatiedatum (DWH)",
    [
        _s("CreditorId", "Nummer crediteur", 16),
        _s("CreditorName", "Naam crediteur", 255),
        _s("BcCo", "Nummer organisatie/persoon", 15),
        _s("SearchName", "Zoeknaam", 10),
        _s("Email", "E-mail", 255),
        _s("IBAN", "IBAN", 34),
        _s("VatNr", "Btw-nummer", 20),
        _s("ChOfCommNr", "Nummer KvK", 20),
        _s("CollectAccount", "Verzamelrekening", 16),
        _s("PaymentCondition", "Betalingsvoorwaarde", 5),
        _d("CreditLimit", "Kredietlimiet"),
        _b("Blocked", "Geblokkeerd"),
        _dt("CreateDate", "Aanmaakdatum"),
        _dt("Mutatie_datum", "Mutatie datum"),
    ],
    ("CreditorId",),
    "change_tracked",
    modification_field="Mutatie_datum",
)

ADMINISTRATIONS = _spec(
    "Profit_Administrations",
    "Administraties",
    [_i("AdminId", "Administratie"), _s("AdminNm", "Naam", 80), _s("AdminCd", "Code", 10)],
    ("AdminId",),
    "reference",
)

ACCOUNTS = _spec(
    "Profit_Accounts",
    "Grootboekrekeningen (Financieel)",
    [
        _s("Account", "Rekeningnummer", 16),
        _s("Description", "Omschrijving", 50),
        _s("Type", "Type rekening", 1),
        _s("Sort", "Soort rekening", 10),
        _b("Blocked", "Geblokkeerd"),
        _b("CollectAccount", "Verzamelrekening"),
        _b("VatAllowed", "Btw toegestaan"),
        _s("VatCode", "Voorkeur btw-code", 3),
    ],
    ("Account",),
    "reference",
)

JOURNALS = _spec(
    "Profit_Journals",
    "Dagboeken",
    [
        _i("UnitId", "Administratie"),
        _s("JournalId", "Code dagboek", 6),
        _s("Description", "Omschrijving", 50),
        _s("JournalType", "Dagboeksoort", 1),
        _b("Blocked", "Geblokkeerd"),
    ],
    ("UnitId", "JournalId"),
    "reference",
    administration_field="UnitId",
)

VAT_CODES = _spec(
    "Profit_VAT_code",
    "Btw-codes",
    [
        _s("VatCode", "Btw-code", 3),
        _s("Description", "Omschrijving", 50),
        _s("AccountNr", "Rekeningnummer", 16),
        FieldSpec("VatPerc", "decimal", "Percentage", 5, 2),
        _s("VatType", "Btw-soort", 1),
        _b("Blocked", "Geblokkeerd"),
    ],
    ("VatCode",),
    "reference",
)

PERIODS = _spec(
    "Profit_periods_per_administration",
    "Perioden per administratie",
    [
        _i("Unit", "Administratie"),
        _i("Year", "Boekjaar"),
        _i("Period", "Periode"),
        _date("DateFrom", "Begindatum"),
        _date("DateTo", "Einddatum"),
        _b("Blocked", "Geblokkeerd"),
    ],
    ("Unit", "Year", "Period"),
    "reference",
    administration_field="Unit",
)

PERIOD_BALANCE = _spec(
    "Profit_Period_balance",
    "Saldo grootboekrekening per periode",
    [
        _i("UnitId", "Administratie"),
        _i("Year", "Boekjaar"),
        _i("Period", "Periode"),
        _s("AccountNr", "Rekeningnummer", 16),
        _s("AccountDesc", "Omschrijving rekening", 50),
        _d("Debit", "Debet"),
        _d("Credit", "Credit"),
        _d("Balance", "Saldo"),
    ],
    ("UnitId", "Year", "Period", "AccountNr"),
    "control",
    administration_field="UnitId",
)

DEBTOR_INVOICES = _spec(
    "Profit_Debtor_Invoices",
    "Openstaande posten debiteuren",
    [
        _i("UnitId", "Administratie"),
        _s("DebtorId", "Nummer debiteur", 16),
        _s("InvoiceNr", "Factuurnummer", 12),
        _date("NookPieceDate", "Boekstukdatum"),
        _date("ExpDate", "Vervaldatum"),
        _s("CurrencyId", "Valuta", 3),
        _d("AmtInvoice", "Factuurbedrag"),
        _d("Balance", "Saldo"),
        _s("Description", "Omschrijving", 255),
    ],
    ("UnitId", "DebtorId", "InvoiceNr"),
    "control",
    administration_field="UnitId",
)

CREDITOR_INVOICES = _spec(
    "Profit_Creditor_Invoices",
    "Openstaande posten crediteuren",
    [
        _i("UnitId", "Administratie"),
        _s("CreditorId", "Nummer crediteur", 16),
        _s("InvoiceNr", "Factuurnummer", 12),
        _date("BookPieceDate", "Boekstukdatum"),
        _date("ExpDate", "Vervaldatum"),
        _s("CurrencyId", "Valuta", 3),
        _d("AmtInvoice", "Factuurbedrag"),
        _d("Balance", "Saldo"),
        _s("Description", "Omschrijving", 255),
    ],
    ("UnitId", "CreditorId", "InvoiceNr"),
    "control",
    administration_field="UnitId",
)

CHANGED_ENTRY_DATES = _spec(
    "Profit_Fin_ChangedEntrydate",
    "Gewijzigde boekingsdagen mutaties",
    [_date("EntryDate", "Datum boeking"), _dt("Modified", "Datum gewijzigd")],
    ("EntryDate",),
    "control",
)

CONNECTORS: dict[str, ConnectorSpec] = {
    spec.id: spec
    for spec in (
        FINANCIAL_MUTATIONS,
        DEBTORS,
        CREDITORS,
        ADMINISTRATIONS,
        ACCOUNTS,
        JOURNALS,
        VAT_CODES,
        PERIODS,
        PERIOD_BALANCE,
        DEBTOR_INVOICES,
        CREDITOR_INVOICES,
        CHANGED_ENTRY_DATES,
    )
}

FI_ENTRIES = "FiEntries"


def order_keys() -> dict[str, tuple[str, ...]]:
    """Each contract connector's key, for `AfasClient(order_keys=)`: paging is only stable when
    a read is ordered by a unique key."""
    return {connector_id: spec.key for connector_id, spec in CONNECTORS.items()}
