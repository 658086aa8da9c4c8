from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from afas_pipeline.afas import AfasSchemaError, FieldMeta, GetConnectorMeta, rows_to_frame

META = GetConnectorMeta(
    "T",
    "test",
    (
        FieldMeta("Id", "U1", "int", "Id"),
        FieldMeta("Name", "U2", "string", "Naam"),
        FieldMeta("Amount", "U3", "decimal", "Bedrag", 18, 2),
        FieldMeta("Day", "U4", "date", "Datum"),
        FieldMeta("Changed", "U5", "datetime", "Gewijzigd"),
        FieldMeta("Blocked", "U6", "boolean", "Geblokkeerd"),
    ),
)


def parse(text: str) -> list[dict[str, Any]]:
    return json.loads(text, parse_float=Decimal)["rows"]


def row(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "Id": 1,
        "Name": "a",
        "Amount": Decimal("1.25"),
        "Day": "2020-11-22T00:00:00Z",
        "Changed": "2025-03-30T02:15:00Z",
        "Blocked": False,
    }
    base.update(overrides)
    return base


def test_types_and_values() -> None:
    rows = [row(), row(Id=2, Name=None, Amount=None, Day="2021-01-02")]
    frame = rows_to_frame(rows, META, connector_id="T", skip=0)
    assert frame.schema == META.polars_schema()
    assert frame.row(0) == (
        1,
        "a",
        Decimal("1.25"),
        dt.date(2020, 11, 22),
        # The Z is ignored: 02:15 Amsterdam wall-clock (a DST-gap time, kept as is).
        dt.datetime(2025, 3, 30, 2, 15),
        False,
    )
    assert frame.row(1)[1:4] == (None, None, dt.date(2021, 1, 2))


def test_empty_page_has_the_schema() -> None:
    frame = rows_to_frame([], META, connector_id="T", skip=0)
    assert frame.height == 0
    assert frame.schema == META.polars_schema()


def test_decimals_are_exact() -> None:
    meta = GetConnectorMeta("T", "", (FieldMeta("A", "U1", "decimal", "A", 18, 2),))
    rows = parse('{"rows": [{"A": 0.1}, {"A": 0.2}, {"A": 3}, {"A": 1.500}, {"A": 1E+2}]}')
    frame = rows_to_frame(rows, meta, connector_id="T", skip=0)
    assert frame["A"].dtype == pl.Decimal(18, 2)
    assert frame["A"].head(2).sum() == Decimal("0.30")
    assert frame["A"].to_list()[2:] == [Decimal("3.00"), Decimal("1.50"), Decimal("100.00")]


@pytest.mark.parametrize(
    ("bad", "field", "problem"),
    [
        ({"Extra": 1}, "Extra", "is not in the connector's metainfo"),
        ({"Id": "1"}, "Id", "is not a JSON integer"),
        ({"Id": 1.0}, "Id", "is not a JSON integer"),
        ({"Id": True}, "Id", "is not a JSON integer"),
        ({"Name": 5}, "Name", "is not a JSON string"),
        ({"Amount": "1.00"}, "Amount", "is not a JSON number"),
        ({"Amount": Decimal("1.234")}, "Amount", "has more than 2 decimals"),
        ({"Day": "2020-13-01T00:00:00Z"}, "Day", "is not a valid date"),
        ({"Day": "22-11-2020"}, "Day", "is not a valid date"),
        ({"Changed": "2025-03-30"}, "Changed", "is not a valid datetime"),
        ({"Changed": "2025-02-30T00:00:00Z"}, "Changed", "is not a valid datetime"),
        ({"Blocked": 0}, "Blocked", "is not a JSON boolean"),
        ({"Id": 2**70}, "Id", "does not fit"),
    ],
)
def test_schema_errors_name_row_field_and_value(
    bad: dict[str, object], field: str, problem: str
) -> None:
    rows = [row(), row(**bad)]
    with pytest.raises(AfasSchemaError) as info:
        rows_to_frame(rows, META, connector_id="T", skip=500)
    error = info.value
    assert (error.row, error.field, error.connector_id) == (501, field, "T")
    assert problem in str(error)
    assert "row 501 of connector T" in str(error)
    assert repr(bad[field])[:20] in str(error)


def test_missing_field() -> None:
    broken = row()
    del broken["Name"]
    with pytest.raises(AfasSchemaError, match="field 'Name' is missing") as info:
        rows_to_frame([row(), broken], META, connector_id="T", skip=0)
    assert info.value.row == 1


def test_missing_and_extra_field_of_equal_count() -> None:
    broken = row()
    del broken["Name"]
    broken["Nam"] = "x"
    with pytest.raises(AfasSchemaError, match="field 'Nam' is not in"):
        rows_to_frame([broken], META, connector_id="T", skip=0)


def test_date_fields_are_typed_by_their_values_unless_their_meaning_is_known() -> None:
    meta = GetConnectorMeta("T", "", (FieldMeta("Stamp", "U1", "date", "Datum"),))
    midnight = [{"Stamp": "2025-01-01T00:00:00Z"}, {"Stamp": None}]
    timed = [{"Stamp": "2025-01-01T00:00:00Z"}, {"Stamp": "2025-01-02T17:45:59Z"}]
    assert rows_to_frame(midnight, meta, connector_id="T")["Stamp"].dtype == pl.Date
    assert rows_to_frame(timed, meta, connector_id="T")["Stamp"].to_list() == [
        dt.datetime(2025, 1, 1),
        dt.datetime(2025, 1, 2, 17, 45, 59),
    ]
    as_datetime = meta.with_meanings({"Stamp": "datetime"})
    assert rows_to_frame(midnight, as_datetime, connector_id="T")["Stamp"].to_list() == [
        dt.datetime(2025, 1, 1),
        None,
    ]
    with pytest.raises(AfasSchemaError, match="'Stamp' is not a valid date"):
        rows_to_frame(timed, meta.with_meanings({"Stamp": "date"}), connector_id="T")
    with pytest.raises(AfasSchemaError, match="'Stamp' is not a valid datetime"):
        rows_to_frame([*timed, {"Stamp": "2025-01-02T25:00:00Z"}], meta, connector_id="T")
