"""What the pipeline extracts: the connector contract plus how each connector is loaded.

A new connector is one entry here; the Dagster assets are built from this list by one factory.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import polars as pl

from afas_pipeline.afas import AfasClient, AfasSettings
from afas_pipeline.afas.metainfo import FieldMeta
from afas_pipeline.contract import CONNECTORS, ConnectorSpec, order_keys

# How records that AFAS deleted are found: journal lines through the booking dates AFAS reports
# as changed, master data by a full read of the keys.
DeletionStrategy = Literal["changed_entry_dates", "full_key_scan"]


@dataclass(frozen=True)
class ExtractSpec:
    """One connector to extract, under the id it has in this AFAS environment."""

    contract: ConnectorSpec
    connector_id: str
    deletion: DeletionStrategy | None = None
    # Large enough (journal lines: millions) that a range is read in parallel stretches of
    # days; a master-data connector's range is one query per administration.
    bulk: bool = False

    @property
    def name(self) -> str:
        """The contract's name: stable asset keys and file names, whatever the custom id is."""
        return self.contract.id

    @property
    def key(self) -> tuple[str, ...]:
        return self.contract.key

    @property
    def partitioned(self) -> bool:
        return self.contract.partitioned

    @property
    def schema(self) -> pl.Schema:
        """The polars type of every contract field (the optional ones too), in stored order."""
        return pl.Schema(
            (f.id, FieldMeta(f.id, "", f.data_type, f.label, f.length, f.decimals).polars_type())
            for f in self.contract.all_fields
        )

    @property
    def modification_field(self) -> str:
        if self.contract.modification_field is None:
            raise ValueError(f"{self.name} is not change-tracked")
        return self.contract.modification_field


def _spec(
    contract_id: str, deletion: DeletionStrategy | None = None, *, bulk: bool = False
) -> ExtractSpec:
    return ExtractSpec(CONNECTORS[contract_id], contract_id, deletion, bulk)


EXTRACT_SPECS: tuple[ExtractSpec, ...] = (
    _spec("DWH_Financiele_mutaties", "changed_entry_dates", bulk=True),
    _spec("DWH_Debiteuren", "full_key_scan"),
    _spec("DWH_Crediteuren", "full_key_scan"),
    _spec("Profit_Administrations"),
    _spec("Profit_Accounts"),
    _spec("Profit_Journals"),
    _spec("Profit_VAT_code"),
    _spec("Profit_periods_per_administration"),
    _spec("Profit_Period_balance"),
    _spec("Profit_Debtor_Invoices"),
    _spec("Profit_Creditor_Invoices"),
    _spec("Profit_Fin_ChangedEntrydate"),
)

CHANGED_ENTRY_DATES = "Profit_Fin_ChangedEntrydate"


def extract_specs(connector_ids: dict[str, str] | None = None) -> tuple[ExtractSpec, ...]:
    """The specs, with custom connector ids where this environment names them differently.

    `connector_ids` maps a contract name (e.g. `DWH_Financiele_mutaties`) to the id an AFAS
    administrator gave the custom GetConnector.
    """
    overrides = connector_ids or {}
    unknown = set(overrides) - {s.name for s in EXTRACT_SPECS}
    if unknown:
        raise ValueError(f"unknown connectors in the id mapping: {sorted(unknown)}")
    return tuple(
        replace(s, connector_id=overrides.get(s.name, s.connector_id)) for s in EXTRACT_SPECS
    )


def field_meanings(specs: tuple[ExtractSpec, ...] = EXTRACT_SPECS) -> dict[str, dict[str, str]]:
    """What the contract's "date" and "datetime" fields hold, per connector id, for
    `AfasClient(field_meanings=)`: AFAS's metainfo calls both "date" (afas-api.md §4)."""
    return {
        spec.connector_id: {
            f.id: f.data_type
            for f in spec.contract.all_fields
            if f.data_type in ("date", "datetime")
        }
        for spec in specs
    }


def contract_client(settings: AfasSettings, **options: Any) -> AfasClient:
    """A client that knows the contract: its fields typed by meaning, its reads ordered by
    their keys unless told otherwise; `options` go to AfasClient."""
    return AfasClient(settings, field_meanings=field_meanings(), order_keys=order_keys(), **options)


def spec_by_name(name: str, specs: tuple[ExtractSpec, ...] = EXTRACT_SPECS) -> ExtractSpec:
    for spec in specs:
        if spec.name == name:
            return spec
    raise KeyError(f"no extract spec named {name!r}")
