from __future__ import annotations

import polars as pl
import pytest

from afas_pipeline.afas import AfasSchemaError, ConnectorList, GetConnectorMeta, UpdateConnectorMeta


def test_connector_list() -> None:
    data = {
        "updateConnectors": [{"id": "FiEntries", "description": "Financiële mutaties"}],
        "getConnectors": [{"id": "Profit_Accounts", "description": "Grootboek"}],
        "info": {"envid": "O12345AA", "appName": "x"},
    }
    listing = ConnectorList.from_json(data)
    assert listing.get_connectors == (("Profit_Accounts", "Grootboek"),)
    assert listing.update_connectors == (("FiEntries", "Financiële mutaties"),)
    assert listing.env_id == "O12345AA"


def test_get_connector_meta_schema() -> None:
    types = ["int", "string", "blob", "decimal", "date", "datetime", "boolean"]
    data = {
        "name": "X",
        "description": "d",
        "fields": [
            {"id": t, "fieldId": f"U{i}", "dataType": t, "label": t, "length": 9, "decimals": 0}
            for i, t in enumerate(types)
        ]
        + [{"id": "d3", "fieldId": "U9", "dataType": "decimal", "label": "", "decimals": 3}],
    }
    schema = GetConnectorMeta.from_json(data).polars_schema()
    assert list(schema.items()) == [
        ("int", pl.Int64),
        ("string", pl.String),
        ("blob", pl.String),
        ("decimal", pl.Decimal(18, 2)),
        ("date", pl.Date),
        ("datetime", pl.Datetime("us")),
        ("boolean", pl.Boolean),
        ("d3", pl.Decimal(18, 3)),
    ]


def test_unknown_data_type() -> None:
    meta = GetConnectorMeta.from_json(
        {"name": "X", "fields": [{"id": "a", "dataType": "geometry"}]}
    )
    with pytest.raises(AfasSchemaError, match="unknown AFAS dataType 'geometry'"):
        meta.polars_schema()


def test_update_connector_tree() -> None:
    field = {
        "fieldId": "Year",
        "primaryKey": False,
        "dataType": "int",
        "label": "Boekjaar",
        "mandatory": True,
        "length": 4,
        "decimals": 0,
        "decimalFieldId": "",
        "notzero": False,
        "controlType": 1,
        "values": None,
    }
    line = {**field, "fieldId": "VaAs", "values": [{"id": "1", "description": "Grootboek"}]}
    data = {
        "name": "FiEntryPar",
        "fields": [field],
        "objects": [{"name": "FiEntries", "fields": [line], "objects": []}],
    }
    meta = UpdateConnectorMeta.from_json(data)
    assert meta.fields[0].mandatory
    child = meta.find("FiEntries")
    assert child is not None
    assert child.fields[0].values == (("1", "Grootboek"),)
