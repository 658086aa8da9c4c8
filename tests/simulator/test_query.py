"""GetConnector query semantics (afas-api.md §3.2-3.4) and page rendering, on a small frame."""

from __future__ import annotations

import json
import time
from datetime import date, datetime
from decimal import Decimal

import polars as pl
import pytest

from afas_pipeline.contract import ConnectorSpec, FieldSpec
from afas_pipeline.simulator.query import AfasError, render_page, run_query

SPEC = ConnectorSpec(
    id="Test_Connector",
    description="test",
    fields=(
        FieldSpec("Id", "int", "Id", 9),
        FieldSpec("Name", "string", "Naam", 50),
        FieldSpec("Amount", "decimal", "Bedrag", 18, 2),
        FieldSpec("Day", "date", "Datum", 10),
        FieldSpec("Changed", "datetime", "Gewijzigd", 19),
        FieldSpec("Blocked", "boolean", "Geblokkeerd", 1),
    ),
    key=("Id",),
    kind="reference",
)

FRAME = pl.DataFrame(
    {
        "Id": [1, 2, 3, 4, 5],
        "Name": ["Alpha", "beta", "GAMMA", None, ""],
        "Amount": [Decimal("-0.50"), Decimal("10.00"), Decimal("1234.56"), None, Decimal("0.10")],
        "Day": [date(2025, 1, 1), date(2025, 3, 30), date(2025, 3, 31), None, date(2024, 12, 31)],
        "Changed": [
            datetime(2025, 3, 30, 2, 15),
            datetime(2025, 3, 30, 23, 59, 59),
            datetime(2025, 3, 31, 0, 0),
            None,
            datetime(2025, 10, 26, 2, 30),
        ],
        "Blocked": [True, False, None, True, False],
    },
    schema={
        "Id": pl.Int64,
        "Name": pl.String,
        "Amount": pl.Decimal(18, 2),
        "Day": pl.Date,
        "Changed": pl.Datetime("us"),
        "Blocked": pl.Boolean,
    },
)


def ids(params: dict[str, str], frame: pl.DataFrame = FRAME) -> list[int]:
    return run_query(frame, SPEC, {"skip": "-1", "take": "-1", **params}).rows["Id"].to_list()


def one(field: str, op: int, value: str) -> list[int]:
    return ids({"filterfieldids": field, "operatortypes": str(op), "filtervalues": value})


def expect_error(params: dict[str, str], fragment: str) -> None:
    with pytest.raises(AfasError) as caught:
        run_query(FRAME, SPEC, params)
    assert fragment in caught.value.message


# -- paging --------------------------------------------------------------------------------------


def test_defaults_are_skip_0_take_100() -> None:
    page = run_query(FRAME, SPEC, {})
    assert (page.skip, page.take, page.rows.height) == (0, 100, 5)


def test_skip_and_take_slice_the_stored_order() -> None:
    page = run_query(FRAME, SPEC, {"skip": "1", "take": "2"})
    assert page.rows["Id"].to_list() == [2, 3]
    assert (page.skip, page.take) == (1, 2)


def test_minus_one_pair_returns_everything() -> None:
    page = run_query(FRAME, SPEC, {"skip": "-1", "take": "-1"})
    assert page.rows.height == 5


def test_take_minus_one_without_skip_minus_one_is_the_documented_500() -> None:
    with pytest.raises(AfasError) as caught:
        run_query(FRAME, SPEC, {"skip": "2", "take": "-1"})
    body = caught.value.body()
    assert body["externalMessage"] == "An unexpected error has occurred."
    assert body["errorNumber"] == -2147180999
    assert len(body["profitLogReference"]) == 32
    assert body["profitLogReference"] == body["profitLogReference"].upper()


def test_non_numeric_paging_acts_as_zero() -> None:
    page = run_query(FRAME, SPEC, {"skip": "abc", "take": "2"})
    assert (page.skip, page.rows["Id"].to_list()) == (0, [1, 2])


def test_page_beyond_the_end_is_empty() -> None:
    assert run_query(FRAME, SPEC, {"skip": "10", "take": "5"}).rows.height == 0


# -- ordering ------------------------------------------------------------------------------------


def test_order_ascending_and_descending() -> None:
    assert ids({"orderbyfieldids": "-Id"}) == [5, 4, 3, 2, 1]
    # Amount ascending: NULL first, as SQL Server sorts.
    assert ids({"orderbyfieldids": "Amount"}) == [4, 1, 5, 2, 3]
    assert ids({"orderbyfieldids": "-Amount"}) == [3, 2, 5, 1, 4]


def test_string_order_is_case_insensitive() -> None:
    assert ids({"orderbyfieldids": "Name"}) == [4, 5, 1, 2, 3]


def test_multi_field_order_and_stability() -> None:
    assert ids({"orderbyfieldids": "Blocked,-Id"}) == [3, 5, 2, 4, 1]


def test_order_on_unknown_field() -> None:
    expect_error({"orderbyfieldids": "Nope"}, "Connector field 'Nope' not found")


def test_pages_concatenate_to_the_whole_ordered_table() -> None:
    big = pl.DataFrame({"Id": list(range(1000, 0, -1))}).with_columns(
        pl.col("Id").cast(pl.String).alias("Name"),
        pl.lit(None, pl.Decimal(18, 2)).alias("Amount"),
        pl.lit(None, pl.Date).alias("Day"),
        pl.lit(None, pl.Datetime("us")).alias("Changed"),
        pl.lit(True).alias("Blocked"),
    )
    pages = [
        run_query(big, SPEC, {"skip": str(s), "take": "70", "orderbyfieldids": "Id"}).rows
        for s in range(0, 1000, 70)
    ]
    assert pl.concat(pages)["Id"].to_list() == list(range(1, 1001))


# -- operators -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("Id", 1, "3", [3]),
        ("Id", 2, "3", [3, 4, 5]),
        ("Id", 3, "3", [1, 2, 3]),
        ("Id", 4, "3", [4, 5]),
        ("Id", 5, "3", [1, 2]),
        ("Id", 6, "3", [3]),
        ("Id", 7, "3", [1, 2, 4, 5]),
        ("Id", 8, "", []),
        ("Id", 9, "", [1, 2, 3, 4, 5]),
        ("Id", 10, "3", [3]),
        ("Id", 11, "3", [1, 2, 4, 5]),
        ("Id", 12, "3", [1, 2, 4, 5]),
        ("Id", 13, "3", [3]),
        ("Id", 14, "3", [1, 2, 4, 5]),
        ("Id", 15, "2..4", [2, 3, 4]),
        ("Name", 1, "alpha", [1]),
        ("Name", 2, "beta", [2, 3]),
        ("Name", 3, "BETA", [1, 2, 5]),
        ("Name", 4, "beta", [3]),
        ("Name", 5, "beta", [1, 5]),
        ("Name", 6, "AM", [3]),
        ("Name", 7, "alpha", [2, 3, 5]),
        ("Name", 8, "", [4, 5]),
        ("Name", 8, "[is leeg]", [4, 5]),
        ("Name", 9, "null", [1, 2, 3]),
        ("Name", 10, "ga", [3]),
        ("Name", 11, "a", [5]),
        ("Name", 11, "l", [2, 3, 5]),
        ("Name", 12, "b", [1, 3, 5]),
        ("Name", 13, "A", [1, 2, 3]),
        ("Name", 14, "ta", [1, 3, 5]),
        ("Name", 15, "ALP", [1]),
        ("Amount", 1, "10", [2]),
        ("Amount", 1, "10.00", [2]),
        ("Amount", 2, "0.1", [2, 3, 5]),
        ("Amount", 3, "-0.5", [1]),
        ("Amount", 4, "0.105", [2, 3]),
        ("Amount", 5, "0", [1]),
        ("Amount", 6, "34", [3]),
        ("Amount", 7, "10", [1, 3, 5]),
        ("Amount", 8, "", [4]),
        ("Amount", 9, "", [1, 2, 3, 5]),
        ("Amount", 15, "-1..0.10", [1, 5]),
        ("Day", 1, "2025-03-30", [2]),
        ("Day", 1, "2025-03-30T00:00:00", [2]),
        ("Day", 2, "2025-03-30", [2, 3]),
        ("Day", 3, "2025-01-01", [1, 5]),
        ("Day", 4, "2025-03-30T12:00:00", [3]),
        ("Day", 5, "2025-01-01", [5]),
        ("Day", 7, "2025-01-01", [2, 3, 5]),
        ("Day", 8, "null", [4]),
        ("Day", 10, "2025-03", [2, 3]),
        ("Day", 15, "2025-01-01..2025-03-30", [1, 2]),
        ("Changed", 1, "2025-03-30T02:15:00", [1]),
        ("Changed", 2, "2025-03-30T00:00:00", [1, 2, 3, 5]),
        ("Changed", 5, "2025-03-31", [1, 2]),
        ("Changed", 3, "2025-03-30T23:59:59.000", [1, 2]),
        ("Changed", 4, "2025-03-31T00:00:00", [5]),
        ("Changed", 7, "2025-03-30T02:15:00", [2, 3, 5]),
        ("Changed", 9, "", [1, 2, 3, 5]),
        ("Changed", 6, "T02:", [1, 5]),
        ("Blocked", 1, "true", [1, 4]),
        ("Blocked", 1, "0", [2, 5]),
        ("Blocked", 7, "1", [2, 5]),
        ("Blocked", 8, "", [3]),
        ("Blocked", 9, "", [1, 2, 4, 5]),
    ],
)
def test_operator(field: str, op: int, value: str, expected: list[int]) -> None:
    assert one(field, op, value) == expected


def test_and_within_a_group() -> None:
    params = {"filterfieldids": "Id,Blocked", "filtervalues": "2,true", "operatortypes": "2,1"}
    assert ids(params) == [4]


def test_or_between_groups() -> None:
    params = {"filterfieldids": "Id;Name", "filtervalues": "1;gamma", "operatortypes": "1;1"}
    assert ids(params) == [1, 3]


def test_official_mixed_example() -> None:
    # (Day < date AND Name != P) OR Name is empty, as in afas-api.md §3.4.
    params = {
        "filterfieldids": "Day,Name;Name",
        "filtervalues": "2025-03-30T00:00:00,alpha;[is leeg]",
        "operatortypes": "5,7;8",
    }
    assert ids(params) == [4, 5]


def test_filterjson_ands_fields_and_ors_filters() -> None:
    document = {
        "Filters": {
            "Filter": [
                {
                    "@FilterId": "Filter 1",
                    "Field": [
                        {"@FieldId": "Id", "@OperatorType": "2", "#text": "2"},
                        {"@FieldId": "Name", "@OperatorType": "6", "#text": "et"},
                    ],
                },
                {
                    "@FilterId": "Filter 2",
                    "Field": {"@FieldId": "Id", "@OperatorType": "1", "#text": "5"},
                },
            ]
        }
    }
    assert ids({"filterjson": json.dumps(document)}) == [2, 5]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        (
            {"filterfieldids": "Nope", "filtervalues": "1", "operatortypes": "1"},
            "Connector field 'Nope' not found",
        ),
        (
            {"filterfieldids": "Id,Name", "filtervalues": "1", "operatortypes": "1,1"},
            "does not match",
        ),
        (
            {"filterfieldids": "Id;Name", "filtervalues": "1,2", "operatortypes": "1;1"},
            "does not match",
        ),
        (
            {"filterfieldids": "Id", "filtervalues": "1", "operatortypes": "16"},
            "Unknown operator type '16'",
        ),
        (
            {"filterfieldids": "Id", "filtervalues": "1", "operatortypes": "x"},
            "Unknown operator type 'x'",
        ),
        (
            {"filterfieldids": "Id", "filtervalues": "abc", "operatortypes": "1"},
            "'abc' is not a valid int",
        ),
        (
            {"filterfieldids": "Amount", "filtervalues": "1,5", "operatortypes": "1"},
            "does not match",
        ),
        (
            {"filterfieldids": "Amount", "filtervalues": "x", "operatortypes": "2"},
            "not a valid decimal",
        ),
        (
            {"filterfieldids": "Day", "filtervalues": "30-03-2025", "operatortypes": "1"},
            "not a valid date",
        ),
        (
            {
                "filterfieldids": "Changed",
                "filtervalues": "2025-03-30T00:00:00Z",
                "operatortypes": "2",
            },
            "datetime",
        ),
        ({"filterfieldids": "Blocked", "filtervalues": "yes", "operatortypes": "1"}, "boolean"),
        ({"filterfieldids": "Id", "operatortypes": "1"}, "filtervalues missing"),
        ({"filterjson": "{not json"}, "Invalid filterjson"),
        ({"filterjson": '{"Filters":{}}'}, "Invalid filterjson"),
    ],
)
def test_malformed_filters(params: dict[str, str], fragment: str) -> None:
    expect_error(params, fragment)


def test_filter_over_a_million_rows_is_fast() -> None:
    n = 1_000_000
    frame = pl.DataFrame({"Id": pl.int_range(0, n, eager=True)}).with_columns(
        (pl.col("Id") % 1000).cast(pl.String).alias("Name"),
        pl.lit(Decimal("1.00"), pl.Decimal(18, 2)).alias("Amount"),
        pl.lit(date(2025, 1, 1)).alias("Day"),
        (pl.lit(datetime(2025, 1, 1)) + pl.duration(seconds=pl.col("Id"))).alias("Changed"),
        pl.lit(False).alias("Blocked"),
    )
    params = {
        "filterfieldids": "Changed,Changed",
        "filtervalues": "2025-01-02T00:00:00,2025-01-03T00:00:00",
        "operatortypes": "2,5",
        "orderbyfieldids": "Id",
        "take": "1000",
    }
    started = time.perf_counter()
    page = run_query(frame, SPEC, params)
    elapsed = time.perf_counter() - started
    assert page.rows["Id"][0] == 86_400
    assert elapsed < 1.0, f"filtering 1M rows took {elapsed:.3f} s"


# -- rendering -----------------------------------------------------------------------------------


def test_render_types_exactly() -> None:
    text = render_page(0, 100, FRAME).decode()
    assert "\n" not in text
    body = json.loads(text, parse_float=Decimal)
    assert body["skip"] == 0
    assert body["take"] == 100
    first, fourth = body["rows"][0], body["rows"][3]
    assert first == {
        "Id": 1,
        "Name": "Alpha",
        "Amount": Decimal("-0.50"),
        "Day": "2025-01-01T00:00:00Z",
        "Changed": "2025-03-30T02:15:00Z",
        "Blocked": True,
    }
    assert fourth == dict.fromkeys(fourth) | {"Id": 4, "Blocked": True}
    assert [r["Amount"] for r in body["rows"]] == FRAME["Amount"].to_list()
    assert '"Amount":-0.50' in text
    assert body["rows"][4]["Changed"] == "2025-10-26T02:30:00Z"


def test_render_escapes_strings() -> None:
    nasty = 'quote " backslash \\ newline \n tab \t control \x01 é €'
    frame = pl.DataFrame({"Name": [nasty]})
    body = json.loads(render_page(3, 7, frame))
    assert body == {"skip": 3, "take": 7, "rows": [{"Name": nasty}]}


def test_render_empty_page() -> None:
    assert render_page(200, 100, FRAME.head(0)) == b'{"skip":200,"take":100,"rows":[]}'


def test_render_speed_for_a_large_page() -> None:
    rows = 7000
    frame = pl.DataFrame({"Id": pl.int_range(0, rows, eager=True)}).with_columns(
        *[pl.format('Omschrijving {} "x"', pl.col("Id")).alias(f"S{i}") for i in range(12)],
        *[pl.lit(Decimal("-1234.56"), pl.Decimal(18, 2)).alias(f"A{i}") for i in range(4)],
        pl.lit(date(2025, 3, 30)).alias("D"),
        pl.lit(datetime(2025, 3, 30, 2, 15)).alias("T1"),
        pl.lit(datetime(2025, 3, 30, 2, 15)).alias("T2"),
        pl.lit(True).alias("B"),
    )
    assert frame.width == 21
    render_page(0, rows, frame)  # warm up
    started = time.perf_counter()
    body = render_page(0, rows, frame)
    elapsed = time.perf_counter() - started
    assert len(json.loads(body)["rows"]) == rows
    assert elapsed < 0.1, f"rendering {rows} rows took {elapsed * 1000:.1f} ms"
