from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from afas_pipeline.afas import Condition, F, Filter, Operator, all_of, any_of

CASES = [
    (F("a") == 1, 1),
    (F("a") >= 1, 2),
    (F("a") <= 1, 3),
    (F("a") > 1, 4),
    (F("a") < 1, 5),
    (F("a").contains("x"), 6),
    (F("a") != 1, 7),
    (F("a").is_empty(), 8),
    (F("a").is_not_empty(), 9),
    (F("a").starts_with("x"), 10),
    (F("a").not_contains("x"), 11),
    (F("a").not_starts_with("x"), 12),
    (F("a").ends_with("x"), 13),
    (F("a").not_ends_with("x"), 14),
    (F("a").quick_filter("x"), 15),
]


@pytest.mark.parametrize(("condition", "code"), CASES)
def test_all_fifteen_operators(condition: Condition, code: int) -> None:
    params = Filter.of(condition).to_query_params()
    assert params["operatortypes"] == str(code)
    assert condition.operator == Operator(code)
    assert params["filterfieldids"] == "a"


def test_empty_operators_send_an_empty_value() -> None:
    assert Filter.of(F("a").is_empty()).to_query_params()["filtervalues"] == ""


def test_and_or_and_the_official_mixed_example() -> None:
    # afas-api.md §3.4, official example [ad].
    flt = (
        (F("EmploymentEndDate") < dt.date(2020, 3, 22)) & (F("EmailForDigitalDocuments") != "P")
    ) | Condition("EmailForDigitalDocuments", Operator.IS_EMPTY, "[is leeg]")
    assert flt.to_query_params() == {
        "filterfieldids": "EmploymentEndDate,EmailForDigitalDocuments;EmailForDigitalDocuments",
        "filtervalues": "2020-03-22T00:00:00,P;[is leeg]",
        "operatortypes": "5,7;8",
    }


def test_plain_and_and_plain_or() -> None:
    assert all_of(F("f1") == "v1", F("f2") == "v2").to_query_params() == {
        "filterfieldids": "f1,f2",
        "filtervalues": "v1,v2",
        "operatortypes": "1,1",
    }
    assert any_of(F("f1") == "v1", F("f2") == "v2").to_query_params() == {
        "filterfieldids": "f1;f2",
        "filtervalues": "v1;v2",
        "operatortypes": "1;1",
    }


def test_and_of_ors_distributes() -> None:
    flt = ((F("a") == 1) | (F("b") == 2)) & ((F("c") == 3) | (F("d") == 4))
    assert flt.to_query_params()["filterfieldids"] == "a,c;a,d;b,c;b,d"
    assert flt.to_query_params()["filtervalues"] == "1,3;1,4;2,3;2,4"


def test_empty_all_of_matches_everything() -> None:
    assert all_of().to_query_params() == {}
    assert (all_of() & (F("a") == 1)).to_query_params()["filterfieldids"] == "a"
    with pytest.raises(ValueError, match="at least one"):
        any_of()


def test_value_formatting() -> None:
    amsterdam = ZoneInfo("Europe/Amsterdam")
    cases = [
        (dt.datetime(2025, 3, 30, 2, 15, 7, 999), "2025-03-30T02:15:07"),
        (dt.datetime(2025, 6, 1, 10, 0, tzinfo=dt.UTC), "2025-06-01T12:00:00"),
        (dt.datetime(2025, 1, 1, 9, 0, tzinfo=amsterdam), "2025-01-01T09:00:00"),
        (dt.date(2024, 2, 29), "2024-02-29T00:00:00"),
        (True, "true"),
        (False, "false"),
        (Decimal("12.50"), "12.50"),
        (Decimal("1E+2"), "100"),
        (42, "42"),
        ("text", "text"),
    ]
    for value, text in cases:
        assert (F("x") == value).text == text


def test_float_and_none_are_rejected() -> None:
    with pytest.raises(TypeError, match="not float"):
        F("x") == 1.5  # noqa: B015
    with pytest.raises(ValueError, match="needs a value"):
        F("x") == None  # noqa: B015, E711


@pytest.mark.parametrize("field", ["", " ", "a,b", "a;b"])
def test_bad_field_ids(field: str) -> None:
    with pytest.raises(ValueError, match="field id"):
        F(field)


def test_separator_in_value_switches_to_filterjson() -> None:
    flt = ((F("AdminId") == 1) & F("AdminNm").contains("a,b")) | (F("AdminId") == 3)
    params = flt.to_query_params()
    assert list(params) == ["filterjson"]
    assert json.loads(params["filterjson"]) == {
        "Filters": {
            "Filter": [
                {
                    "@FilterId": "Filter 1",
                    "Field": [
                        {"@FieldId": "AdminId", "@OperatorType": "1", "#text": "1"},
                        {"@FieldId": "AdminNm", "@OperatorType": "6", "#text": "a,b"},
                    ],
                },
                {
                    "@FilterId": "Filter 2",
                    "Field": [{"@FieldId": "AdminId", "@OperatorType": "1", "#text": "3"}],
                },
            ]
        }
    }
    assert flt.to_filterjson() == params["filterjson"]
